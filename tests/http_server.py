"""`biv serve` as a real process on a free loopback port, and the stores the HTTP tests use.

Each store holds the Linköping history recorded in three stages (2019, the 2022
extension, 2024: `biv_adapters.http.examples.STAGES`), written through the
Python API with a settable clock before the server starts.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from biv_adapters.http.examples import STAGES, SettableClock, record_staged
from biv_adapters.stores.registry import open_ledger
from tests.builders import biv_serve
from tests.conftest import drop_schema, postgres_url

ROOT = Path(__file__).resolve().parents[1]


def staged_store(url: str) -> str:
    """The store at `url` with the Linköping history recorded in three stages."""
    clock = SettableClock(STAGES[0][0])
    ledger = open_ledger(url, clock=clock)
    try:
        record_staged(ledger, clock)
    finally:
        ledger.close()
    return url


@contextmanager
def store_of(kind: str, folder: Path) -> Iterator[str]:
    """A fresh staged store of `kind` (sqlite or postgresql); a PostgreSQL schema is dropped."""
    if kind == "sqlite":
        yield staged_store(f"sqlite://{folder}/biv.sqlite3")
        return
    schema = f"test_http_{uuid.uuid4().hex[:10]}"
    url = postgres_url(schema)
    try:
        yield staged_store(url)
    finally:
        drop_schema(schema)


@contextmanager
def serve(url: str, *options: str, log: Path | None = None) -> Iterator[str]:
    """`biv serve` on `url` in a process of its own; yields its base URL; stops it after."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    if log is None:
        with biv_serve(url, *options, env=env) as base:
            yield base
        return
    with open(log, "w") as errors, biv_serve(url, *options, stderr=errors, env=env) as base:
        yield base
