"""Shared fixtures: a settable clock (`tests.builders.Clock`, shared with the benchmark), and
the same ledger on every store.

Tests that take `ledger` run once per store: memory, SQLite and PostgreSQL.
PostgreSQL needs a server named by BIV_TEST_POSTGRES_URL (`.ci/run` starts a
throwaway one; see the README to start one by hand). Without it the
PostgreSQL cases are skipped with that reason, except in CI, where they fail.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from biv_adapters.stores.registry import open_ledger
from biv_domain.ledger import Ledger
from tests.builders import Clock as Clock  # the tests import it from here too

STORES = ("memory", "sqlite", "postgresql")
POSTGRES_URL = os.environ.get("BIV_TEST_POSTGRES_URL")


def postgres_url(schema: str) -> str:
    if not POSTGRES_URL:
        if os.environ.get("CI") == "true":
            pytest.fail("CI must run the PostgreSQL tests: BIV_TEST_POSTGRES_URL is not set")
        pytest.skip("no PostgreSQL server: set BIV_TEST_POSTGRES_URL (see README)")
    return f"{POSTGRES_URL}?schema={schema}"


def drop_schema(schema: str) -> None:
    import psycopg
    from psycopg import sql

    assert POSTGRES_URL
    with psycopg.connect(POSTGRES_URL, autocommit=True) as connection:
        connection.execute(
            sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema))
        )


DURABLE = ("sqlite", "postgresql")
"""The stores that outlive their ledger: what a test of stored bytes, rows or processes needs."""


@contextmanager
def durable_store(
    kind: str, folder: Path, prefix: str = "test", file: str = "biv.sqlite3"
) -> Iterator[tuple[str, str | None]]:
    """A fresh, empty store of a kind of `DURABLE`, and its PostgreSQL schema (None on SQLite):
    a file in `folder`, or a schema of its own (named from `prefix`), dropped afterwards."""
    if kind == "sqlite":
        yield f"sqlite://{folder}/{file}", None
        return
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    url = postgres_url(schema)
    try:
        yield url, schema
    finally:
        drop_schema(schema)


@pytest.fixture(params=STORES)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty store of each kind."""
    if request.param == "memory":
        yield "memory:"
        return
    with durable_store(request.param, tmp_path) as (url, _schema):
        yield url


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def ledger(store_url: str, clock: Clock) -> Iterator[Ledger]:
    """A ledger on a fresh store of each kind, with the test's clock."""
    ledger = open_ledger(store_url, clock=clock)
    yield ledger
    ledger.close()


@pytest.fixture
def memory_ledger(clock: Clock) -> Ledger:
    """A ledger in memory, for tests about the service rather than the store."""
    return Ledger(clock=clock)


def stored_bytes(store: str) -> bytes:
    """Every byte a store keeps: the SQLite file and its WAL, or a dump of the tenant's schema."""
    import subprocess

    from biv_adapters.stores.registry import sqlite_path

    if store.startswith("sqlite:"):
        path = sqlite_path(store)
        files = [path, path.with_name(path.name + "-wal")]
        return b"".join(f.read_bytes() for f in files if f.exists())
    assert POSTGRES_URL
    schema = store.rsplit("schema=", 1)[1]
    dump = ["pg_dump", "--schema", schema, POSTGRES_URL]
    return subprocess.run(dump, capture_output=True, check=True).stdout
