"""Stores named by URL: the embedded SQLite store, PostgreSQL, and what each keeps beside the
facts in SQL.

- `registry` the entry-point group `biv.stores` that maps a URL's scheme to a store factory,
  the memory store, `open_ledger` and the store key (`BIV_CIPHER_KEY`)
- `sqlite` the SQLite store (`sqlite:///abs/path` or `sqlite:relative/path`) and its recorder
- `postgresql` the PostgreSQL store and its recorder (the extra `biv-domain[postgresql]`)
- `keys`, `views`, `log`, `counts` the participants' keys, the funding view, the log's tree
  and the facts by type and version, each written in the batch's own transaction

An embedder opens a ledger with `from biv_adapters.stores import open_ledger`: the registry's
names an embedder uses are this package's too (see `registry.open_ledger`'s example).
"""

from biv_adapters.stores.registry import (
    MissingStore,
    StoreError,
    new_cipher_key,
    open_ledger,
    open_store,
    parse_cipher_key,
    store_factories,
    store_url,
)

__all__ = [
    "MissingStore",
    "StoreError",
    "new_cipher_key",
    "open_ledger",
    "open_store",
    "parse_cipher_key",
    "store_factories",
    "store_url",
]
