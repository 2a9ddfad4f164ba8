"""The version of biv-domain, its one source: pyproject.toml reads it, `biv --version` prints it."""

__version__ = "0.1.0"
