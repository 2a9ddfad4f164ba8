"""A PostgreSQL server that does not answer is given up on within seconds (issue 22).

Given a socket that accepts connections and never says a word (a server that hangs,
a firewall that swallows the handshake), when `biv` is asked to read from it, then
it exits 2 with one line naming the host within a few seconds: the connect timeout
(3 s, or BIV_POSTGRES_CONNECT_TIMEOUT), not the half minute and more it took before.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest

from biv_adapters.stores.postgresql import CONNECT_TIMEOUT_SECONDS

from .test_hardening_support import message, run


@pytest.fixture
def silent_server() -> Iterator[int]:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield int(listener.getsockname()[1])
    finally:
        stop.set()
        thread.join(2)
        for connection in held:
            connection.close()
        listener.close()


@pytest.mark.parametrize(("setting", "within"), [(None, 15.0), ("2", 10.0)])
def test_a_silent_server_is_given_up_on_within_seconds(
    silent_server: int, setting: str | None, within: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert CONNECT_TIMEOUT_SECONDS <= 5
    if setting is None:
        monkeypatch.delenv("BIV_POSTGRES_CONNECT_TIMEOUT", raising=False)
    else:
        monkeypatch.setenv("BIV_POSTGRES_CONNECT_TIMEOUT", setting)
    url = f"postgresql://eva:s3cret@127.0.0.1:{silent_server}/biv"
    started = time.monotonic()
    result = run(["history", "Dnr 2016-292", "--store", url])
    spent = time.monotonic() - started
    assert result.code == 2, result
    line = message(result.err)
    assert "cannot reach PostgreSQL" in line, line
    assert "s3cret" not in result.err
    assert spent < within, spent


def test_a_connect_timeout_that_is_no_number_is_a_usage_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("BIV_POSTGRES_CONNECT_TIMEOUT", "soon")
    result = run(["history", "X", "--store", "postgresql://eva@127.0.0.1:1/biv"])
    assert result.code == 2
    assert "BIV_POSTGRES_CONNECT_TIMEOUT" in message(result.err)
