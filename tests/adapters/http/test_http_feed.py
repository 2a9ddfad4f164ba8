"""The change feed, health and metrics over HTTP, against `biv serve` as a real process.

The exactly-once test follows `/facts/stream` with a real SSE client (`httpx-sse`)
while four writers import, restarts the server under it and restarts the follower
itself, and checks that it saw every fact of the store once, in chain order.
"""

from __future__ import annotations

import json
import re
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import httpx
import pytest
from httpx_sse import connect_sse

from biv_adapters.demo import record_linkoping
from biv_adapters.exchange import read_lines
from biv_adapters.http.tokens import Role, tokens_of
from biv_adapters.stores.registry import open_ledger
from biv_domain.model.protection import EraseParticipant
from tests.conftest import DURABLE, POSTGRES_URL, durable_store
from tests.http_server import ROOT, serve

CHILD = "ILL-C001"
WRITERS = 4
BATCHES = 6


@pytest.fixture(params=DURABLE)
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A store holding the demo's Linköping history."""
    with durable_store(request.param, tmp_path, "http_feed") as (store, _schema):
        ledger = open_ledger(store)
        record_linkoping(ledger)
        ledger.close()
        yield store


def writer_lines(writer: int, batch: int) -> list[str]:
    """A batch of one writer: an agreement of its own and its funding."""
    case = f"Dnr W{writer}-{batch}"
    lines = [
        {
            "command": "conclude_agreement",
            "case_number": case,
            "title": "Läxhjälp",
            "municipality": "Linköpings kommun",
            "partner": "Föreningen",
            "start": "2024-01-01",
            "end": "2025-12-31",
            "notice_months": 3,
            "decided_on": "2023-12-01",
        },
        {
            "command": "set_funding",
            "case_number": case,
            "party": "municipality",
            "source": "committee_budget",
            "start": "2024-01-01",
            "end": "2024-12-31",
            "amount": "100000",
            "decided_on": "2023-12-01",
        },
    ]
    return [json.dumps(line) for line in lines]


class Follower:
    """An SSE client in a thread that keeps `Last-Event-ID` and reconnects, like a tool would."""

    def __init__(self, base: list[str]) -> None:
        self.base = base  # the server's URL now (it changes when the server restarts)
        self.seen: list[tuple[int, str, str]] = []  # id, type, hash
        self.stop = threading.Event()
        self.restart = threading.Event()
        self.connections = 0

    def run(self) -> None:
        while not self.stop.is_set():
            headers = {"Last-Event-ID": str(self.seen[-1][0])} if self.seen else {}
            try:
                with (
                    httpx.Client(timeout=httpx.Timeout(5, read=2)) as client,
                    connect_sse(
                        client, "GET", self.base[0] + "/facts/stream", headers=headers
                    ) as source,
                ):
                    self.connections += 1
                    for event in source.iter_sse():
                        if event.event != "fact":  # the stream's `retry` advice
                            continue
                        fact = json.loads(event.data)
                        assert int(event.id) == fact["chain_position"]
                        self.seen.append((fact["chain_position"], fact["type"], fact["hash"]))
                        if self.stop.is_set() or self.restart.is_set():
                            break
                    self.restart.clear()  # the follower "restarts": a new client, a new stream
            except httpx.HTTPError:  # the server went away, or a quiet read timed out
                time.sleep(0.1)


def test_a_follower_sees_every_fact_once_in_order_across_restarts(url: str) -> None:
    base: list[str] = [""]
    follower = Follower(base)
    thread = threading.Thread(target=follower.run, daemon=True)
    ledgers = [open_ledger(url, actor=f"writer {w}") for w in range(WRITERS)]

    def write(writer: int, batches: range) -> None:
        for batch in batches:
            ledgers[writer].execute_all(read_lines(writer_lines(writer, batch)))
            time.sleep(0.02)

    def writers(batches: range) -> None:
        running = [threading.Thread(target=write, args=(w, batches)) for w in range(WRITERS)]
        for each in running:
            each.start()
        for each in running:
            each.join()

    try:
        with serve(url) as first:
            base[0] = first
            thread.start()
            writers(range(2))  # four writers while it follows
            follower.restart.set()  # the follower restarts at its next fact, resuming after it
            writers(range(2, 3))
            _wait(lambda: follower.connections >= 2)
        # the server is stopped; the writers go on; a new server comes up
        writers(range(3, 5))
        with serve(url) as second:
            base[0] = second
            writers(range(5, BATCHES))
            ledgers[0].execute(EraseParticipant(CHILD, "the guardian asked", date.today()))
            head = ledgers[0].facts_after(0, 100_000)[-1].position
            _wait(lambda: bool(follower.seen) and follower.seen[-1][0] >= head)
            follower.stop.set()
            thread.join(10)
            expected = [(f.position, f.type, f.hash) for f in ledgers[0].facts_after(0, 100_000)]
            # Then every fact came once, in chain order, over at least three connections
            assert follower.seen == expected
            assert follower.connections >= 3
            assert follower.seen[-1][1] == "ParticipantErased"
            writes = [s for s in follower.seen if s[1] == "AgreementConcluded"]
            assert len(writes) == 1 + WRITERS * BATCHES
            # And a follower that starts after the erasure never receives the erased child
            with httpx.Client(timeout=10) as client:
                text = client.get(second + "/facts", params={"limit": 10_000}).text
            assert CHILD not in text
            assert "ParticipantErased" in text
    finally:
        follower.stop.set()
        for ledger in ledgers:
            ledger.close()


def test_readers_follow_without_participants_data_auditors_with(tmp_path: Path) -> None:
    store = f"sqlite://{tmp_path}/biv.sqlite3"
    ledger = open_ledger(store)
    record_linkoping(ledger)
    tokens = tokens_of(ledger)
    reader, auditor = tokens.add("dashboard", Role.READER), tokens.add("revision", Role.AUDITOR)
    ledger.close()
    with serve(store, "--require-tokens") as base, httpx.Client(base_url=base) as client:
        assert client.get("/facts").status_code == 401
        as_reader = client.get("/facts?limit=10000", headers=_bearer(reader)).json()
        as_auditor = client.get("/facts?limit=10000", headers=_bearer(auditor)).json()
        assert "ILL-C0" in json.dumps(as_auditor)
        assert "ILL-C0" not in json.dumps(as_reader)
        types = {f["type"] for f in as_reader["facts"]}
        assert "ParticipantEnrolled" not in types
        assert "SessionHeld" in types
        assert as_reader["next"] == as_auditor["next"] == as_auditor["facts"][-1]["chain_position"]
        with connect_sse(client, "GET", "/facts/stream", headers=_bearer(reader)) as source:
            first = next(e for e in source.iter_sse() if e.event == "fact")
            assert first.id == "1"
            assert json.loads(first.data)["type"] == "AgreementConcluded"
        assert client.get("/facts?after=-1", headers=_bearer(auditor)).status_code == 400
        bad = client.get("/facts?limit=20000", headers=_bearer(auditor))
        assert bad.status_code == 400
        assert bad.json()["field"] == "limit"


def _wait(done: Callable[[], bool], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not done() and time.monotonic() < deadline:
        time.sleep(0.05)


def _bearer(token: str) -> dict[str, str]:
    """A writer's headers: its token, and the JSON Lines type every write must name."""
    return {"Authorization": f"Bearer {token}", "Content-Type": "application/x-ndjson"}


def test_health_readiness_and_metrics_say_what_happened(tmp_path: Path) -> None:
    store = f"sqlite://{tmp_path}/biv.sqlite3"
    ledger = open_ledger(store)
    record_linkoping(ledger)
    head = ledger.chain_head().position
    token = tokens_of(ledger).add("diariet", Role.WRITER)
    ledger.close()
    with serve(store) as base, httpx.Client(base_url=base) as client:
        assert client.get("/healthz").json() == {"status": "alive"}
        assert client.get("/readyz").json() == {"chain_position": head, "status": "ready"}
        new = "\n".join(writer_lines(9, 9)).encode()
        assert client.post("/imports", content=new, headers=_bearer(token)).status_code == 200
        again = "\n".join(writer_lines(9, 9)[:1]).encode()  # concluded already: refused
        assert client.post("/imports", content=again, headers=_bearer(token)).status_code == 422
        client.get("/agreements/Dnr%20W9-9/budget?on=2024-06-01")
        metrics = client.get("/metrics")
        assert metrics.headers["content-type"].startswith("text/plain")
        text = metrics.text
    assert 'biv_writes_refused_total{reason="AlreadyExists"} 1.0' in text
    chain = float(re.findall(r"^biv_chain_facts (\S+)$", text, re.M)[0])
    appended = float(re.findall(r"^biv_facts_appended_total (\S+)$", text, re.M)[0])
    assert appended == chain - head >= 3  # the two facts and the batch's seal, at least
    assert (
        'biv_http_requests_total{method="GET",route="/agreements/{case_number}/budget",'
        'status="200"} 1.0'
    ) in text
    assert 'biv_http_request_duration_seconds_bucket{le="0.25",method="POST"' in text
    for secret in ("W9-9", token, "diariet"):
        assert secret not in text


@pytest.mark.skipif(not POSTGRES_URL, reason="needs PostgreSQL's server binaries")
def test_readiness_says_the_truth_when_the_store_goes_down() -> None:
    # Given a server on a PostgreSQL server of its own (in a folder its user may enter)
    folder = Path(tempfile.mkdtemp(prefix="biv-readyz-"))
    script = str(ROOT / "scripts" / "throwaway-postgres")
    started = subprocess.run([script, "start", str(folder)], capture_output=True, text=True)
    assert started.returncode == 0, started.stderr
    store = started.stdout.strip().split("=", 1)[1]
    try:
        ledger = open_ledger(store)
        record_linkoping(ledger)
        ledger.close()
        with serve(store) as base, httpx.Client(base_url=base, timeout=60) as client:
            assert client.get("/readyz").status_code == 200
            # When the database server stops
            subprocess.run([script, "stop", str(folder)], check=True)
            # Then the process is alive, not ready, and says which check failed
            assert client.get("/healthz").status_code == 200
            ready = client.get("/readyz")
            assert ready.status_code == 503
            assert ready.json()["status"] == "unready"
            assert ready.json()["check"] in ("store", "chain")
            assert ready.json()["reason"]
            metrics = client.get("/metrics")
            assert metrics.status_code == 200
            assert "biv_chain_facts NaN" in metrics.text
            assert 'route="/readyz",status="503"' in metrics.text
    finally:
        subprocess.run([script, "stop", str(folder)], check=False)
