"""The adapters: the command line, the exchange format, the stores, the pack and the archive."""
