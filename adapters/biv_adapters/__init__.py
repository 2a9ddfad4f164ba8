"""The outside world of biv-domain: stores named by URL, the exchange format, the command line."""
