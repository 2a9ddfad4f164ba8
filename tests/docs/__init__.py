"""What the documents promise: the README's examples, the API's docstrings, the verifier's text."""
