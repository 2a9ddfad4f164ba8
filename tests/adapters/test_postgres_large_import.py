"""A municipality-sized import into PostgreSQL finishes, in bounded time, with every fact.

A 20,000-line `biv import` is one batch of some 40,000 facts, a ~20 MB INSERT.
Sent in psycopg's pipeline mode, such an INSERT was not always sent whole and the
import then hung forever, holding the events table's write lock (see
`biv_adapters.stores.registry.PostgresBatchRecorder`). Whether it hung depended on how
fast the server drained the socket: on loopback at times, across a network
nearly always. So the import reaches the server through a relay with small
socket buffers, as across a network, where the old code hung every time.

The import runs in a thread that the test waits for a bounded time, so a hang
fails here with the stack it hung in instead of stalling the suite.
"""

from __future__ import annotations

import io
import json
import socket
import sys
import threading
import time
import traceback
import uuid
from collections import Counter
from contextlib import redirect_stderr, redirect_stdout, suppress
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

from biv_adapters.cli import main
from biv_adapters.stores.registry import open_ledger
from tests.builders import exchange_lines
from tests.conftest import drop_schema, postgres_url

LINES = 20_000
# The import takes some 10 s through the relay: the deadline tells a hang from a slow machine.
DEADLINE_SECONDS = 120
RELAY_BUFFER = 64 * 1024


class Relay:
    """A TCP relay to the server with small socket buffers: the server as across a network.

    The client's writes then outrun the server's reads, as they do over a real
    link, instead of being drained at once by a server on the same machine.
    """

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        assert parts.hostname
        assert parts.port
        self._target = (parts.hostname, parts.port)
        self._sockets: list[socket.socket] = []
        self._listener = self._keep(socket.socket())
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RELAY_BUFFER)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen()
        port = self._listener.getsockname()[1]
        userinfo = parts.netloc.rpartition("@")[0]
        self.url = parts._replace(netloc=f"{userinfo}@127.0.0.1:{port}").geturl()

    def _keep(self, sock: socket.socket) -> socket.socket:
        self._sockets.append(sock)
        return sock

    def __enter__(self) -> Relay:
        threading.Thread(target=self._accept, name="relay", daemon=True).start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # Closing every socket ends the server's sessions too, so a hung import lets go
        # of its locks and the schema can be dropped.
        for sock in self._sockets:
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            self._keep(client).setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RELAY_BUFFER)
            server = self._keep(socket.create_connection(self._target))
            server.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, RELAY_BUFFER)
            for source, sink in ((client, server), (server, client)):
                threading.Thread(target=_pass_on, args=(source, sink), daemon=True).start()


def _pass_on(source: socket.socket, sink: socket.socket) -> None:
    try:
        while data := source.recv(RELAY_BUFFER):
            sink.sendall(data)
    except OSError:
        pass
    finally:
        for sock in (source, sink):
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


def run_bounded(argv: list[str], seconds: float) -> tuple[int, str, str, float]:
    """`biv ARGV…` in a thread of this process; fails with the stack it waits in if it hangs."""
    outcome: dict[str, Any] = {}
    out, err = io.StringIO(), io.StringIO()

    def run() -> None:
        try:
            with redirect_stdout(out), redirect_stderr(err):
                outcome["code"] = main(argv)
        except BaseException as error:  # reported by the test, not lost in the thread
            outcome["error"] = error

    thread = threading.Thread(target=run, name="biv-import", daemon=True)
    started = time.perf_counter()
    thread.start()
    thread.join(seconds)
    elapsed = time.perf_counter() - started
    if thread.is_alive():
        assert thread.ident is not None
        stack = "".join(traceback.format_stack(sys._current_frames()[thread.ident]))
        raise AssertionError(
            f"biv {' '.join(argv[:2])} did not finish within {seconds:.0f} s; "
            f"it is waiting in:\n{stack}"
        )
    if "error" in outcome:
        raise outcome["error"]
    return outcome["code"], out.getvalue(), err.getvalue(), elapsed


def test_a_20k_line_import_into_postgresql_finishes_with_every_fact(tmp_path: Path) -> None:
    schema = f"test_big_{uuid.uuid4().hex[:12]}"
    url = postgres_url(schema)
    lines = exchange_lines(LINES)
    path = tmp_path / "big.jsonl"
    path.write_text(
        "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines), encoding="utf-8"
    )
    try:
        with Relay(url) as relay:
            code, out, err, elapsed = run_bounded(
                ["import", str(path), "--store", relay.url, "--json"], DEADLINE_SECONDS
            )
        assert code == 0, err
        assert json.loads(out) == {"applied": LINES, "skipped": 0}

        commands = Counter(line["command"] for line in lines)
        ledger = open_ledger(url)
        try:
            types = Counter(fact.type for fact in ledger.facts())
            assert types["AgreementConcluded"] == commands["conclude_agreement"]
            assert types["FundingChanged"] == commands["set_funding"]
            assert types["GroupPlanned"] == commands["plan_group"]
            assert types["ParticipantEnrolled"] == commands["enroll_participant"]
            assert types["SessionHeld"] == commands["hold_session"]
            assert types["LineApplied"] == LINES
            assert types["MemberJoined"] == commands["plan_group"]
            assert types["BatchSealed"] == 1  # one batch: all or nothing
            facts = sum(types.values())
            verification = ledger.verify_chain()
            assert verification.intact
            assert verification.facts == facts
            # The funding view caught up on the same store after the batch.
            view = ledger.funding_view
            assert view.position() == ledger.app.recorder.max_notification_id() == facts
            assert len(view.rows().agreements) == commands["conclude_agreement"]
        finally:
            ledger.close()
        print(f"\n{LINES} lines, {facts} facts in {elapsed:.1f} s: {facts / elapsed:.0f} facts/s")

        # Again: every line is skipped as applied, in bounded time too.
        code, out, err, _ = run_bounded(
            ["import", str(path), "--store", url, "--json"], DEADLINE_SECONDS
        )
        assert code == 0, err
        assert json.loads(out) == {"applied": 0, "skipped": LINES}
    finally:
        drop_schema(schema)
