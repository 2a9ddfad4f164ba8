"""`biv serve` as a real process on a free loopback port, and the stores the HTTP tests use.

Each store holds the Linköping history recorded in three stages (2019, the 2022
extension, 2024: `biv_adapters.http.examples.STAGES`), written through the
Python API with a settable clock before the server starts.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from biv_adapters.http.examples import STAGES, SettableClock, record_staged
from biv_adapters.stores import open_ledger
from tests.conftest import drop_schema, postgres_url

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


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
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    errors = open(log, "w") if log else subprocess.DEVNULL  # noqa: SIM115
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "biv_adapters.cli",
            "serve",
            "--port",
            str(port),
            "--store",
            url,
            *options,
        ],
        stdout=subprocess.DEVNULL,
        stderr=errors,
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"biv serve exited with {process.returncode}")
            try:
                httpx.get(base + "/openapi.json", timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:  # pragma: no cover
            process.kill()
            process.wait()
        if log:
            errors.close()  # type: ignore[union-attr]
