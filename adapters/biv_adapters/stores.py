"""Stores named by URL, and the registry that maps a URL's scheme to a store.

- `memory:` nothing persists (tests, trials, a dry run of an import)
- `sqlite:///abs/path/file.sqlite3` or `sqlite:relative/file.sqlite3` the embedded default
- `postgresql://user:password@host:port/dbname[?schema=tenant]` a PostgreSQL server
  (`biv_adapters.postgresql`, with the extra `biv-domain[postgresql]`)

A store factory turns a URL into a `Store`: the settings of the `eventsourcing`
library, the storage of the read models, and the lock held while tables are
made. Factories are found through the entry-point group `biv.stores` (the only
registry; this package registers its three in pyproject.toml), so a third
party adds a store by registering one in its own package, without changing
`biv_domain`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from datetime import datetime
from importlib.metadata import entry_points
from pathlib import Path
from urllib.parse import unquote

from biv_adapters.sql_views import SqlFundingView
from biv_domain.ledger import MEMORY, Ledger, Store, utc_now

DEFAULT_STORE = "sqlite:biv.sqlite3"
ENTRY_POINT_GROUP = "biv.stores"

StoreFactory = Callable[[str], Store]


class StoreError(Exception):
    """A store URL that cannot be used, with the reason."""


def memory_store(url: str) -> Store:
    if url not in ("memory:", "memory://"):
        raise StoreError(f"a memory store is written 'memory:', got {url!r}")
    return MEMORY


def sqlite_path(url: str) -> Path:
    """`sqlite:///abs/file` is /abs/file (as in a file URL); `sqlite:rel/file` is relative."""
    rest = url.removeprefix("sqlite:")
    if rest.startswith("//"):
        rest = rest[2:]
        if not rest.startswith("/"):
            raise StoreError(
                f"write an SQLite store as sqlite:///absolute/path or sqlite:relative/path, "
                f"got {url!r}"
            )
    if not rest.strip("/"):
        raise StoreError(f"the SQLite store {url!r} names no file")
    return Path(unquote(rest))


def sqlite_store(url: str) -> Store:
    path = sqlite_path(url)
    if not path.parent.is_dir():
        raise StoreError(f"the folder {str(path.parent)!r} of the SQLite store does not exist")
    settings = {
        "PERSISTENCE_MODULE": "eventsourcing.sqlite",
        "SQLITE_DBNAME": str(path),
        # Writers wait for each other's transactions instead of failing at once.
        "SQLITE_LOCK_TIMEOUT": "30",
    }
    return Store(settings=settings, funding_view=SqlFundingView)


def store_factories() -> dict[str, StoreFactory]:
    """Every store this installation knows, by URL scheme, from the entry points."""
    factories: dict[str, StoreFactory] = {}
    for entry_point in entry_points(group=ENTRY_POINT_GROUP):
        factories[entry_point.name] = _lazy(entry_point.name, entry_point.load)
    return factories


def _lazy(scheme: str, load: Callable[[], StoreFactory]) -> StoreFactory:
    """A factory that imports its plugin only when its scheme is used, and says what is missing."""

    def factory(url: str) -> Store:
        try:
            plugin = load()
        except ImportError as missing:
            raise StoreError(
                f"the {scheme} store needs {missing.name or 'a package'}: "
                f"pip install 'biv-domain[{scheme}]'"
            ) from None
        return plugin(url)

    return factory


def open_store(url: str) -> Store:
    """The store plugin for a URL, or StoreError naming the known schemes."""
    scheme = url.split(":", 1)[0] if ":" in url else ""
    factories = store_factories()
    if scheme not in factories:
        known = ", ".join(sorted(factories))
        raise StoreError(f"no store for {url!r}: the known schemes are {known}")
    store = factories[scheme](url)
    if not isinstance(store, Store):
        raise StoreError(f"the store plugin for {scheme!r} gave no Store")
    return store


def store_settings(url: str) -> Mapping[str, str]:
    """The `eventsourcing` settings of the store named by `url`."""
    return open_store(url).settings


def open_ledger(
    url: str | None = None,
    *,
    clock: Callable[[], datetime] = utc_now,
    actor: str | None = None,
) -> Ledger:
    """The ledger on the store named by `url`, `$BIV_STORE`, or ./biv.sqlite3.

    `actor` names who records through this ledger, unless a call names another.
    """
    store = open_store(url or os.environ.get("BIV_STORE") or DEFAULT_STORE)
    return Ledger(store, clock=clock, actor=actor)
