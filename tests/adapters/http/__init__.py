"""`biv serve`: the HTTP service, its schema, its guard and its page in a browser."""
