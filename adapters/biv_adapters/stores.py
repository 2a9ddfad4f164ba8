"""Stores named by URL, and the registry that maps a URL's scheme to a store.

- `memory:` nothing persists (tests, trials, a dry run of an import)
- `sqlite:///abs/path/file.sqlite3` or `sqlite:relative/file.sqlite3` the embedded default
- `postgresql://user:password@host:port/dbname[?schema=tenant]` a PostgreSQL server

A store factory turns a URL into the settings of the `eventsourcing` library
that the ledger is built with. Factories are found through the entry-point
group `biv.stores`, so a third party adds a store by registering one in its
own package, without changing `biv_domain`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from biv_domain.ledger import Ledger, utc_now

DEFAULT_STORE = "sqlite:biv.sqlite3"
ENTRY_POINT_GROUP = "biv.stores"

StoreFactory = Callable[[str], Mapping[str, str]]


class StoreError(Exception):
    """A store URL that cannot be used, with the reason."""


def memory_store(url: str) -> Mapping[str, str]:
    if url not in ("memory:", "memory://"):
        raise StoreError(f"a memory store is written 'memory:', got {url!r}")
    return {"PERSISTENCE_MODULE": "eventsourcing.popo"}


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


def sqlite_store(url: str) -> Mapping[str, str]:
    path = sqlite_path(url)
    if not path.parent.is_dir():
        raise StoreError(f"the folder {str(path.parent)!r} of the SQLite store does not exist")
    return {
        "PERSISTENCE_MODULE": "eventsourcing.sqlite",
        "SQLITE_DBNAME": str(path),
        # Writers wait for each other's transactions instead of failing at once.
        "SQLITE_LOCK_TIMEOUT": "30",
    }


def postgresql_store(url: str) -> Mapping[str, str]:
    parts = urlsplit(url)
    if not parts.hostname or not parts.path.strip("/"):
        raise StoreError(
            f"write a PostgreSQL store as postgresql://user:password@host:port/dbname, got {url!r}"
        )
    settings = {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": unquote(parts.path.strip("/")),
        "POSTGRES_HOST": parts.hostname,
        "POSTGRES_PORT": str(parts.port or 5432),
        "POSTGRES_USER": unquote(parts.username or os.environ.get("USER", "postgres")),
        "POSTGRES_PASSWORD": unquote(parts.password or ""),
    }
    schema = parse_qs(parts.query).get("schema")
    if schema:
        settings["POSTGRES_SCHEMA"] = schema[0]
        _create_schema(settings, schema[0])
    return settings


# Every process that opens a PostgreSQL store runs CREATE ... IF NOT EXISTS
# statements; run at the same moment they collide in the catalogue ("tuple
# concurrently updated"), so they take turns under this advisory lock.
DDL_LOCK = "SELECT pg_advisory_lock(hashtext('biv_ddl'))"
DDL_UNLOCK = "SELECT pg_advisory_unlock(hashtext('biv_ddl'))"


@contextmanager
def postgres_connection(settings: Mapping[str, str], *, autocommit: bool = True) -> Iterator[Any]:
    """A direct connection to the store's server, for what the library does not do itself."""
    import psycopg

    try:
        with psycopg.connect(
            dbname=settings["POSTGRES_DBNAME"],
            host=settings["POSTGRES_HOST"],
            port=settings["POSTGRES_PORT"],
            user=settings["POSTGRES_USER"],
            password=settings["POSTGRES_PASSWORD"],
            connect_timeout=10,
            autocommit=autocommit,
        ) as connection:
            yield connection
    except psycopg.OperationalError as error:
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else "no answer"
        raise StoreError(
            f"cannot reach PostgreSQL at {settings['POSTGRES_HOST']}:{settings['POSTGRES_PORT']}: "
            f"{first_line}"
        ) from None


def _create_schema(settings: Mapping[str, str], schema: str) -> None:
    """A tenant's schema is made on first use; the library makes only tables."""
    from psycopg import sql

    with postgres_connection(settings) as connection:
        connection.execute(DDL_LOCK)
        connection.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
        connection.execute(DDL_UNLOCK)


BUILT_IN: Mapping[str, StoreFactory] = {
    "memory": memory_store,
    "sqlite": sqlite_store,
    "postgresql": postgresql_store,
}


def store_factories() -> dict[str, StoreFactory]:
    """Every store this installation knows, by URL scheme."""
    factories = dict(BUILT_IN)
    for entry_point in entry_points(group=ENTRY_POINT_GROUP):
        factories[entry_point.name] = entry_point.load()
    return factories


def store_settings(url: str) -> Mapping[str, str]:
    scheme = url.split(":", 1)[0] if ":" in url else ""
    factories = store_factories()
    if scheme not in factories:
        known = ", ".join(sorted(factories))
        raise StoreError(f"no store for {url!r}: the known schemes are {known}")
    return factories[scheme](url)


def open_ledger(
    url: str | None = None,
    *,
    clock: Callable[[], datetime] = utc_now,
    actor: str | None = None,
) -> Ledger:
    """The ledger on the store named by `url`, `$BIV_STORE`, or ./biv.sqlite3.

    `actor` names who records through this ledger, unless a call names another.
    """
    settings = store_settings(url or os.environ.get("BIV_STORE") or DEFAULT_STORE)
    if settings.get("PERSISTENCE_MODULE") != "eventsourcing.postgres":
        return Ledger(settings, clock=clock, actor=actor)
    with postgres_connection(settings) as connection:
        connection.execute(DDL_LOCK)
        try:
            return Ledger(settings, clock=clock, actor=actor)
        finally:
            connection.execute(DDL_UNLOCK)
