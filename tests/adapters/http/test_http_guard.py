"""`biv serve` on a municipal network: no cross-site write, no DNS rebinding, safe headers.

Given a real `biv serve` on the staged Linköping store, when another web page (an
`Origin` not the service's, a `text/plain` body, a `Host` it does not answer for)
asks, then it is refused and nothing is stored; every answer carries the security
headers; a write that keeps colliding on the chain is 409 with Retry-After; a body
that does not arrive in time is 408; requests without a valid token count against
the rate limit.
"""

from __future__ import annotations

import socket
import threading
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from biv_adapters.http.app import create_app
from biv_adapters.http.auth import Access
from biv_adapters.http.guard import CSP, allowed_hosts, host_allowed
from biv_adapters.http.tokens import MemoryTokens
from biv_domain.ledger import Ledger
from tests.http_server import serve, store_of

with warnings.catch_warnings():  # Starlette 1.x would have httpx2 behind its test client
    warnings.simplefilter("ignore", DeprecationWarning)
    from starlette.testclient import TestClient

HISTORY = "/agreements/Dnr%202016-292/history"
ERASE = (
    b'{"command":"erase_participant","participant_ref":"ILL-C001","reason":"x",'
    b'"decided_on":"2024-01-01"}'
)
NDJSON = {"Content-Type": "application/x-ndjson"}
TARGET = (
    b'{"id": "g-1", "command": "set_target", "case_number": "Dnr 2016-292", '
    b'"target": "children_per_year", "value": 41, "decided_on": "2024-03-01"}'
)


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("guard")
    with store_of("sqlite", folder) as url, serve(url, log=folder / "serve.log") as base:
        yield base


def digest(base: str) -> str:
    answer = httpx.get(base + "/audit/digest")
    assert answer.status_code == 200, answer.text
    text: str = answer.json()["digest"]
    return text


def test_the_issues_curl_and_its_rebinding_twin_get_nothing_and_store_nothing(
    base: str,
) -> None:
    before = digest(base)
    # A page of another origin posting text/plain (no preflight): refused for its origin
    cross = httpx.post(
        base + "/imports",
        content=ERASE,
        headers={"Origin": "http://evil.example", "Content-Type": "text/plain"},
    )
    assert (cross.status_code, cross.json()["field"]) == (403, "origin")
    # The same body without an Origin (a form, a simple request): not JSON Lines, refused
    plain = httpx.post(base + "/imports", content=ERASE, headers={"Content-Type": "text/plain"})
    assert (plain.status_code, plain.json()["field"]) == (415, "content-type")
    # Even JSON Lines is refused when it says it comes from another page
    for headers in ({"Origin": "http://evil.example"}, {"Sec-Fetch-Site": "cross-site"}):
        sent = httpx.post(base + "/imports", content=ERASE, headers={**NDJSON, **headers})
        assert sent.status_code == 403, sent.text
    # DNS rebinding: the attacker's name now points at 127.0.0.1
    rebound = httpx.get(base + HISTORY, headers={"Host": "evil.example"})
    assert (rebound.status_code, rebound.json()["field"]) == (421, "host")
    assert "Dnr" not in rebound.text
    wrong_port = httpx.get(base + HISTORY, headers={"Host": "127.0.0.1:1"})
    assert wrong_port.status_code == 421
    write = httpx.post(base + "/imports", content=ERASE, headers={**NDJSON, "Host": "evil.example"})
    assert write.status_code == 421
    assert digest(base) == before
    # The service's own page asks without an Origin, or with its own: answered
    own = httpx.get(base + HISTORY, headers={"Origin": base})
    assert own.status_code == 200
    assert "access-control-allow-origin" not in own.headers


def test_another_origin_may_read_only_the_public_assets(base: str) -> None:
    evil = {"Origin": "http://evil.example", "Sec-Fetch-Site": "cross-site"}
    for path in ("/", "/docs", "/openapi.json", "/static/app.js"):
        assert httpx.get(base + path, headers=evil).status_code == 200, path
    for path in (HISTORY, "/agreements", "/store/info", "/audit/digest"):
        answer = httpx.get(base + path, headers=evil)
        assert (answer.status_code, answer.json()["field"]) == (403, "origin"), path


@pytest.mark.parametrize(
    ("path", "cache"),
    [
        (HISTORY, "no-store"),
        ("/agreements", "no-store"),
        ("/", "no-store"),
        ("/nowhere", "no-store"),
        ("/static/style.css", "no-cache"),
    ],
)
def test_every_answer_carries_the_security_headers(base: str, path: str, cache: str) -> None:
    answer = httpx.get(base + path)
    assert answer.headers["content-security-policy"] == CSP
    assert "frame-ancestors 'none'" in CSP
    assert "script-src 'self'" in CSP
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["x-frame-options"] == "DENY"
    assert answer.headers["referrer-policy"] == "no-referrer"
    assert answer.headers["cache-control"] == cache


def test_a_wrong_method_is_405_with_allow(base: str) -> None:
    answer = httpx.delete(base + "/imports")
    assert answer.status_code == 405
    assert answer.headers["allow"] == "POST"
    get = httpx.post(base + "/agreements", headers=NDJSON)
    assert get.status_code == 405
    assert set(get.headers["allow"].split(", ")) == {"GET", "HEAD"}


@pytest.mark.parametrize(
    ("host", "allowed"),
    [
        ("127.0.0.1:8080", True),
        ("localhost:8080", True),
        ("[::1]:8080", True),
        ("127.0.0.1:8081", False),
        ("evil.example:8080", False),
        ("biv.example.org", True),
        ("biv.example.org:443", True),
        ("127.0.0.1:8080@evil", False),
        ("", False),
    ],
)
def test_the_hosts_answered_for(host: str, allowed: bool) -> None:
    assert host_allowed(host, allowed_hosts(8080, ["biv.example.org"])) is allowed


def _client(ledger: Ledger, **options: object) -> TestClient:
    access = Access(MemoryTokens(), require_tokens=True, local_user="t")
    app = create_app(ledger, access, **options)  # type: ignore[arg-type]
    return TestClient(app, base_url="http://127.0.0.1")


def test_requests_without_a_valid_token_count_against_the_rate_limit() -> None:
    with _client(Ledger(), rate_per_minute=3) as client:
        answers = [
            client.get("/agreements", headers={"Authorization": "Bearer x"}) for _ in range(5)
        ]
    assert [a.status_code for a in answers] == [401, 401, 401, 429, 429]
    assert answers[-1].headers["retry-after"]


def test_requests_the_guard_refuses_count_against_the_rate_limit() -> None:
    # Given a limit of 3 a minute, when a rebinding page (another Host) and another web page
    # (another Origin) keep asking, then their refusals are counted, and the fourth is 429
    with _client(Ledger(), rate_per_minute=3) as client:
        rebinding = [client.get("/agreements", headers={"Host": "evil.example"}) for _ in range(2)]
        cross = [client.get("/agreements", headers={"Origin": "http://evil.example"})]
        limited = client.get("/agreements", headers={"Host": "evil.example"})
    assert [a.status_code for a in [*rebinding, *cross]] == [421, 421, 403]
    assert limited.status_code == 429
    assert int(limited.headers["retry-after"]) >= 1
    assert limited.json()["field"] == "authorization"


def test_a_batch_that_keeps_colliding_on_the_chain_is_409_with_retry_after() -> None:
    ledger = Ledger()
    ledger.retries_on_conflict = 0  # every attempt lost to another writer
    access = Access(MemoryTokens(), require_tokens=False, local_user="t")
    with TestClient(create_app(ledger, access), base_url="http://127.0.0.1") as client:
        answer = client.post("/imports", content=TARGET, headers=NDJSON)
    assert answer.status_code == 409
    assert answer.headers["retry-after"] == "1"
    assert answer.json()["field"] == "chain"
    assert "chain" in answer.json()["reason"]
    assert ledger.digest() is None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def test_a_body_shorter_than_its_length_is_408_within_the_timeout(tmp_path: Path) -> None:
    import uvicorn

    ledger = Ledger()
    access = Access(MemoryTokens(), require_tokens=False, local_user="t")
    app = create_app(ledger, access, body_seconds=0.5)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        while not server.started:
            time.sleep(0.02)
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            started = time.monotonic()
            sock.sendall(
                b"POST /imports HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                b'Content-Type: application/x-ndjson\r\nContent-Length: 100\r\n\r\n{"id"'
            )
            # The head and the body may come in two segments: read until the server closes
            # or the body's JSON has arrived (a single recv saw the head alone, once).
            answer = b""
            while b'"reason"' not in answer:
                part = sock.recv(4096)
                if not part:
                    break
                answer += part
            waited = time.monotonic() - started
    finally:
        server.should_exit = True
        thread.join(5)
    assert answer.startswith(b"HTTP/1.1 408"), answer[:80]
    assert b'"field":"body"' in answer
    assert waited < 3
    assert ledger.digest() is None
