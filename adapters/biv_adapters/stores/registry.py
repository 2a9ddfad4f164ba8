"""Stores named by URL, and the registry that maps a URL's scheme to a store.

- `memory:` nothing persists (tests, trials, a dry run of an import)
- `sqlite:///abs/path/file.sqlite3` or `sqlite:relative/file.sqlite3` the embedded default
- `postgresql://user:password@host:port/dbname[?schema=tenant]` a PostgreSQL server
  (`biv_adapters.stores.postgresql`, with the extra `biv-domain[postgresql]`)

A store factory turns a URL into a `Store`: the settings of the `eventsourcing`
library, the storage of the read models, and the lock held while tables are
made. Factories are found through the entry-point group `biv.stores`, so a third
party adds a store by registering one in its own package, without changing
`biv_domain`. This package registers its three there too (pyproject.toml), and
`BUILT_IN` names the same three: their schemes are resolved without reading the
installation's metadata (`importlib.metadata` alone costs a command ~20 ms), which
is read only for a scheme that is not built in.
"""

from __future__ import annotations

import base64
import os
import re
import sqlite3
import sys
from collections.abc import Callable, Mapping
from datetime import datetime
from importlib import import_module
from pathlib import Path
from urllib.parse import unquote

from eventsourcing.persistence import PersistenceError

from biv_domain.ledger import MEMORY, Ledger, Store, utc_now
from biv_domain.ledger.crypto import KEY_BYTES, new_key
from biv_domain.ledger.log import log_key
from biv_domain.ledger.subjects import CipherKeyRefused

DEFAULT_STORE = "sqlite:biv.sqlite3"
ENTRY_POINT_GROUP = "biv.stores"
# This package's own stores, as registered under ENTRY_POINT_GROUP in pyproject.toml
# (tests/adapters/test_fast_start.py keeps the two alike): scheme -> "module:factory".
BUILT_IN: Mapping[str, str] = {
    "memory": "biv_adapters.stores.registry:memory_store",
    "sqlite": "biv_adapters.stores.sqlite:sqlite_store",
    "postgresql": "biv_adapters.stores.postgresql:postgresql_store",
}

StoreFactory = Callable[[str], Store]


class StoreError(Exception):
    """A store URL that cannot be used, with the reason."""


class MissingStore(StoreError):
    """A query named a store that does not exist; only writes create one."""


_PASSWORD_ANYWHERE = re.compile(r"(?P<head>://[^/?#@:\s]*):[^@\s]*@")


def redact(text: str) -> str:
    """The text with the password of every URL in it replaced by ***.

    Every message that names a store goes through here: a password never reaches
    standard error or a log.
    """
    return _PASSWORD_ANYWHERE.sub(r"\g<head>:***@", text)


def url_password(url: str) -> str | None:
    """The password written in a store URL, if any, to blank it out of a message."""
    match = re.match(r"^[^:/?#]*://[^/?#@:]*:(?P<password>.*)@", url, re.DOTALL)
    return match["password"] if match else None


def memory_store(url: str) -> Store:
    if url not in ("memory:", "memory://"):
        raise StoreError(f"a memory store is written 'memory:', got {redact(url)!r}")
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


def require_existing(url: str | None) -> None:
    """Refuses (MissingStore) an SQLite store whose file does not exist: a query never makes one.

    Only the writes that may start a store (`import`, `demo`, `configure`) skip this,
    so a typo in a path is refused instead of becoming a new, empty store.
    """
    url = store_url(url)
    if url.split(":", 1)[0] != "sqlite":
        return
    path = sqlite_path(url)
    if not path.parent.is_dir():
        raise StoreError(f"the folder {str(path.parent)!r} of the SQLite store does not exist")
    if not path.exists():
        raise MissingStore(
            f"there is no SQLite store at {str(path)!r}: `biv import`, `biv demo` or "
            "`biv configure` make one"
        )


def store_url(url: str | None) -> str:
    """The store URL in force: the one given, else $BIV_STORE, else ./biv.sqlite3."""
    return url or os.environ.get("BIV_STORE") or DEFAULT_STORE


def store_factories() -> dict[str, StoreFactory]:
    """Every store this installation knows, by URL scheme: the built-in ones and those
    registered under the entry-point group `biv.stores` (a built-in scheme stays built in)."""
    from importlib.metadata import entry_points  # only here: reading the metadata is slow

    factories: dict[str, StoreFactory] = {}
    for entry_point in entry_points(group=ENTRY_POINT_GROUP):
        factories[entry_point.name] = _lazy(entry_point.name, entry_point.load)
    factories.update((scheme, built_in_factory(scheme)) for scheme in BUILT_IN)
    return factories


def built_in_factory(scheme: str) -> StoreFactory:
    """The factory of a built-in scheme, its module imported when first used."""
    module, name = BUILT_IN[scheme].split(":")

    def load() -> StoreFactory:
        factory: StoreFactory = getattr(import_module(module), name)
        return factory

    return _lazy(scheme, load)


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
    # A built-in scheme (the common case) reads no entry points.
    built_in = scheme in BUILT_IN
    factories = {scheme: built_in_factory(scheme)} if built_in else store_factories()
    if scheme not in factories:
        known = ", ".join(sorted(factories))
        hint = ""
        if not scheme and url.endswith((".sqlite3", ".sqlite", ".db")):  # a path, not a URL
            hint = (
                f"; for an SQLite file write sqlite:///{url.lstrip('/')}"
                if url.startswith("/")
                else f"; for an SQLite file write sqlite:{url}"
            )
        raise StoreError(f"no store for {redact(url)!r}: the known schemes are {known}{hint}")
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
    cipher_key: str | None = None,
) -> Ledger:
    """The ledger on the store named by `url`, `$BIV_STORE`, or ./biv.sqlite3.

    `actor` names who records through this ledger, unless a call names another.
    `cipher_key` (default: `$BIV_CIPHER_KEY`, as `biv keygen` prints it) opens an
    encrypted store, or makes a new store encrypted. `clock` is the hook for the recorded
    time (a test's, or a migration's that keeps the original times): UTC, never going back.

    >>> from datetime import UTC, datetime
    >>> trial = open_ledger("memory:", actor="Eva", clock=lambda: datetime(2024, 1, 8, tzinfo=UTC))
    >>> trial.digest() is None  # nothing recorded yet
    True
    """
    key = cipher_key if cipher_key is not None else os.environ.get("BIV_CIPHER_KEY")
    signer = log_key(os.environ.get("BIV_LOG_KEY"))  # the log's signer key (issue 21)
    store = open_store(store_url(url))
    ledger = Ledger(
        store, clock=clock, actor=actor, cipher_key=parse_cipher_key(key), log_key=signer
    )
    if hasattr(ledger.app.factory, "datastore"):  # SQLite or PostgreSQL: counts kept as it writes
        from biv_adapters.stores.counts import SqlFactCounts

        ledger.fact_counts = SqlFactCounts(ledger.app)
    return ledger


def parse_cipher_key(text: str | None) -> bytes | None:
    """A store key as `biv keygen` prints it (32 bytes in base64), or CipherKeyRefused."""
    if text is None or not text.strip():
        return None
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except ValueError:
        key = b""
    if len(key) != KEY_BYTES:
        raise CipherKeyRefused(
            "BIV_CIPHER_KEY", "must be 32 bytes in base64, as `biv keygen` prints it"
        )
    return key


def new_cipher_key() -> str:
    """A new store key, as `biv keygen` prints it."""
    return base64.b64encode(new_key()).decode()


def store_failures(url: str | None = None) -> tuple[type[BaseException], ...]:
    """Every error a store may raise: SQLite's, the eventsourcing library's, psycopg's.

    For a `url` of a memory or SQLite store, psycopg's only if it is loaded already: a
    query on SQLite does not load PostgreSQL's driver.
    """
    failures: list[type[BaseException]] = [StoreError, sqlite3.Error, PersistenceError]
    local = url is not None and url.split(":", 1)[0] in ("memory", "sqlite")
    if local and "psycopg" not in sys.modules:
        return tuple(failures)
    try:
        import psycopg
    except ImportError:  # pragma: no cover - the PostgreSQL extra is not installed
        pass
    else:
        failures.append(psycopg.Error)
    return tuple(failures)
