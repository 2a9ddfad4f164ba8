"""`biv serve` for real: httpx against the server process, on SQLite and PostgreSQL.

Every read endpoint answers with exactly what `biv … --json` prints for the same
query; imports are all or nothing and idempotent, and record the caller as actor;
tokens and roles decide who sees what; errors are JSON with the field and reason.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import httpx
import pytest

from biv_adapters.cli import main
from biv_adapters.http.app import create_app
from biv_adapters.http.auth import Access, RateLimit
from biv_adapters.http.tokens import MemoryTokens
from biv_domain.ledger import Ledger
from tests.http_server import serve, store_of

with warnings.catch_warnings():  # Starlette 1.x would have httpx2 behind its test client
    warnings.simplefilter("ignore", DeprecationWarning)
    from starlette.testclient import TestClient

CASE = "Dnr%202016-292"
C = "Dnr 2016-292"
A = f"/agreements/{CASE}"

# Each endpoint's query beside the command that prints the same document.
SAME_AS_CLI: list[tuple[str, list[str]]] = [
    (f"{A}/budget?on=2023-10-01", ["budget", C, "--on", "2023-10-01"]),
    (
        f"{A}/budget?on=2023-10-01&as_known_at=2022-10-31",
        ["budget", C, "--on", "2023-10-01", "--as-known-at", "2022-10-31"],
    ),
    (
        f"{A}/budget?on=2023-10-01&split=days",
        ["budget", C, "--on", "2023-10-01", "--split", "days"],
    ),
    ("/fiscal-years/2023/budget", ["budget", "--fiscal-year", "2023"]),
    (
        "/fiscal-years/2023/budget?as_known_at=2022-10-31",
        ["budget", "--fiscal-year", "2023", "--as-known-at", "2022-10-31"],
    ),
    (
        f"{A}/report?from=2023-04-01&to=2024-03-31",
        ["report", C, "--from", "2023-04-01", "--to", "2024-03-31"],
    ),
    (
        f"{A}/report?from=2023-04-01&to=2024-03-31&public=true",
        ["report", C, "--from", "2023-04-01", "--to", "2024-03-31", "--public"],
    ),
    (
        f"{A}/report?from=2023-04-01&to=2023-09-30&as_known_at=2024-04-30T00:00:00Z",
        [
            "report",
            C,
            "--from",
            "2023-04-01",
            "--to",
            "2023-09-30",
            "--as-known-at",
            "2024-04-30T00:00:00Z",
        ],
    ),
    (f"{A}/follow-ups/ILL-2023-H1/report", ["report", C, "--follow-up", "ILL-2023-H1"]),
    (f"{A}/follow-ups?on=2023-10-01", ["follow-ups", C, "--on", "2023-10-01"]),
    (f"{A}/history", ["history", C]),
    (f"{A}/history?as_known_at=2022-10-31", ["history", C, "--as-known-at", "2022-10-31"]),
    (
        f"{A}/replay?as_known_at=2022-10-31&on=2023-10-01",
        ["audit", "replay", C, "--until", "2022-10-31", "--on", "2023-10-01"],
    ),
    (
        f"{A}/diff?since=2022-10-31&as_known_at=2022-12-31&on=2023-10-01",
        [
            "audit",
            "replay",
            C,
            "--since",
            "2022-10-31",
            "--until",
            "2022-12-31",
            "--diff",
            "--on",
            "2023-10-01",
        ],
    ),
    ("/audit/verify", ["audit", "verify"]),
    ("/audit/digest", ["audit", "digest"]),
    ("/store/info", ["store", "info"]),
]

AGREEMENT = {
    "command": "conclude_agreement",
    "case_number": "Dnr T-1",
    "title": "Test",
    "municipality": "M",
    "partner": "P",
    "start": "2024-01-01",
    "end": "2024-12-31",
    "notice_months": 3,
    "decided_on": "2024-01-01",
}


NDJSON = {"Content-Type": "application/x-ndjson"}


def jsonl(*lines: dict[str, Any]) -> bytes:
    return "\n".join(json.dumps(line) for line in lines).encode()


class Server(NamedTuple):
    url: str  # the store's
    open: str  # loopback, no token needed
    strict: str  # loopback with --require-tokens
    tokens: dict[str, str]  # role → token


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp(request.param)
    with store_of(request.param, folder) as url:
        tokens = {}
        for role in ("reader", "writer", "auditor"):
            assert main(["token", "add", f"{role}-1", "--role", role, "--store", url]) == 0
        # the tokens are printed once: add them again under names the test can read back
        for role in ("reader", "writer", "auditor"):
            out = folder / f"{role}.json"
            import contextlib
            import io

            buffer = io.StringIO()
            with contextlib.redirect_stdout(buffer):
                assert main(["token", "add", role, "--role", role, "--json", "--store", url]) == 0
            out.write_text(buffer.getvalue())
            tokens[role] = json.loads(buffer.getvalue())["token"]
        with (
            serve(url, "--actor", "Eva, lokal", log=folder / "open.log") as open_,
            serve(
                url, "--require-tokens", "--rate-limit", "40", log=folder / "strict.log"
            ) as strict,
        ):
            yield Server(url, open_, strict, tokens)


@pytest.mark.parametrize(("path", "argv"), SAME_AS_CLI, ids=[p for p, _ in SAME_AS_CLI])
def test_each_read_endpoint_answers_what_the_cli_prints(
    server: Server, capsys: pytest.CaptureFixture[str], path: str, argv: list[str]
) -> None:
    # Given the same store; when the endpoint and the command are asked the same question
    answer = httpx.get(server.open + path, timeout=30)
    code, out, _ = cli(capsys, *argv, "--json", "--store", server.url)
    # Then the documents are the same, byte for byte
    assert (answer.status_code, code) == (200, 0), answer.text
    assert answer.headers["content-type"].startswith("application/json")
    assert answer.text == out.rstrip("\n")


def test_as_known_at_before_the_extension_shows_the_old_end(server: Server) -> None:
    now = httpx.get(f"{server.open}{A}/budget?on=2023-10-01").json()
    before = httpx.get(f"{server.open}{A}/budget?on=2023-10-01&as_known_at=2022-10-31").json()
    assert (now["end"], before["end"]) == ("2024-03-31", "2023-03-31")
    assert now["by_fiscal_year"] != before["by_fiscal_year"]


@pytest.mark.parametrize(
    ("path", "status", "field"),
    [
        ("/agreements/Dnr%20X/budget?on=2023-10-01", 404, "case_number"),
        (f"{A}/follow-ups/NOPE/report", 404, "follow_up_ref"),
        (f"{A}/budget", 400, "on"),
        (f"{A}/budget?on=2023-13-01", 400, "on"),
        (f"{A}/budget?on=2023-10-01&as_known_at=yesterday", 400, "as_known_at"),
        (f"{A}/budget?on=2023-10-01&on=2023-10-02", 400, "on"),
        (f"{A}/budget?on=2023-10-01&colour=red", 400, "colour"),
        (f"{A}/report?from=2024-01-01&to=2023-01-01", 422, "to"),
        (f"{A}/diff", 400, "since"),
        (f"{A}/diff?since=2023-01-01&as_known_at=2022-01-01", 422, "as_known_at"),
        ("/fiscal-years/20233/budget", 400, "year"),
        ("/audit/verify?digest=12:zz", 400, "digest"),
        ("/no/such/thing", 404, "path"),
    ],
)
def test_errors_are_json_naming_the_field(
    server: Server, path: str, status: int, field: str
) -> None:
    answer = httpx.get(server.open + path)
    assert answer.status_code == status, answer.text
    body = answer.json()
    assert body["field"] == field
    assert body["reason"]
    assert "--" not in body["reason"]  # the URL's parameters are named, not the CLI's options
    assert "Traceback" not in answer.text


def test_imports_are_all_or_nothing_idempotent_and_record_the_caller(
    server: Server, capsys: pytest.CaptureFixture[str]
) -> None:
    digest = httpx.get(server.open + "/audit/digest").json()
    # A file whose second line is refused stores nothing: 422, naming the line and field
    refused = httpx.post(
        server.open + "/imports",
        headers=NDJSON,
        content=jsonl(
            {**AGREEMENT, "id": "t-1"},
            {"id": "t-2", "command": "set_target", "case_number": "Dnr T-1", "target": "x"},
        ),
    )
    assert refused.status_code == 422
    assert refused.json()["line"] == 2
    assert refused.json()["field"] == "target"
    assert httpx.get(server.open + "/audit/digest").json() == digest
    # Applied once, skipped the second time, as `biv import --json` answers
    body = jsonl({**AGREEMENT, "id": "t-1"})
    first = httpx.post(server.open + "/imports", content=body, headers=NDJSON)
    again = httpx.post(server.open + "/imports", content=body, headers=NDJSON)
    assert (first.status_code, first.text) == (200, '{"applied":1,"skipped":0}')
    assert again.json() == {"applied": 0, "skipped": 1}
    _, out, _ = cli(capsys, "history", "Dnr T-1", "--json", "--store", server.url)
    assert [f["actor"] for f in json.loads(out)["facts"]] == ["Eva, lokal"]
    # A writer's import records token:NAME
    line = {**AGREEMENT, "id": "t-3", "case_number": "Dnr T-3"}
    written = httpx.post(
        server.strict + "/imports",
        content=jsonl(line),
        headers={"Authorization": f"Bearer {server.tokens['writer']}", **NDJSON},
    )
    assert written.json() == {"applied": 1, "skipped": 0}
    _, out, err = cli(capsys, "history", "Dnr T-3", "--json", "--store", server.url)
    assert out, err
    assert [f["actor"] for f in json.loads(out)["facts"]] == ["token:writer"]


def test_not_utf8_and_not_json_are_refused_with_the_line(server: Server) -> None:
    answer = httpx.post(server.open + "/imports", content=b'{"a": 1}\n\xff\xfe', headers=NDJSON)
    assert answer.status_code == 422
    assert answer.json()["line"] == 2


def as_role(server: Server, role: str | None, path: str, method: str = "GET") -> httpx.Response:
    headers = {"Authorization": f"Bearer {server.tokens[role]}"} if role else {}
    if method == "POST":
        headers.update(NDJSON)
    return httpx.request(
        method, server.strict + path, headers=headers, content=b"" if method == "POST" else None
    )


@pytest.mark.parametrize(
    ("role", "path", "status"),
    [
        (None, "/store/info", 401),
        ("reader", "/store/info", 403),
        ("auditor", "/store/info", 200),
        ("reader", f"{A}/budget?on=2023-10-01", 200),
        ("reader", f"{A}/follow-ups?on=2023-10-01", 200),
        ("reader", "/audit/digest", 200),
        ("reader", f"{A}/history", 403),
        ("reader", f"{A}/replay", 403),
        ("reader", f"{A}/diff?since=2022-10-31", 403),
        ("reader", "/audit/verify", 403),
        ("reader", f"{A}/follow-ups/ILL-2023-H1/report", 403),
        ("writer", f"{A}/history", 403),
        ("auditor", f"{A}/history", 200),
        ("auditor", f"{A}/replay", 200),
        ("auditor", "/audit/verify", 200),
        ("auditor", f"{A}/follow-ups/ILL-2023-H1/report", 200),
    ],
)
def test_roles_decide_what_a_token_may_ask(
    server: Server, role: str | None, path: str, status: int
) -> None:
    answer = as_role(server, role, path)
    assert answer.status_code == status, answer.text
    if status != 200:
        assert answer.json()["field"] == "authorization"


@pytest.mark.parametrize("role", ["reader", "auditor"])
def test_only_a_writer_imports(server: Server, role: str) -> None:
    assert as_role(server, role, "/imports", "POST").status_code == 403


def test_a_reader_gets_only_public_figures_whatever_it_asks(
    server: Server, capsys: pytest.CaptureFixture[str]
) -> None:
    window = "from=2023-04-01&to=2023-09-30"
    asked = as_role(server, "reader", f"{A}/report?{window}&public=false&threshold=1")
    _, public, _ = cli(
        capsys,
        "report",
        C,
        "--from",
        "2023-04-01",
        "--to",
        "2023-09-30",
        "--public",
        "--json",
        "--store",
        server.url,
    )
    assert asked.text == public.rstrip("\n")
    assert "suppressed" in asked.json()
    full = as_role(server, "auditor", f"{A}/report?{window}")
    assert "suppressed" not in full.json()


def test_an_unknown_or_removed_token_is_refused(server: Server) -> None:
    bad = httpx.get(server.strict + "/store/info", headers={"Authorization": "Bearer biv_nope"})
    assert bad.status_code == 401
    assert bad.headers["www-authenticate"] == "Bearer"
    assert main(["token", "remove", "reader-1", "--store", server.url]) == 0
    assert main(["token", "remove", "reader-1", "--store", server.url]) == 1


def test_tokens_are_stored_hashed(server: Server, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(capsys, "token", "list", "--json", "--store", server.url)
    assert code == 0
    assert {t["name"]: t["role"] for t in json.loads(out)["tokens"]}["auditor"] == "auditor"
    assert server.tokens["auditor"] not in out
    if server.url.startswith("sqlite"):
        import hashlib
        import sqlite3

        path = server.url.removeprefix("sqlite://")
        with sqlite3.connect(path) as db:
            hashes = {h for (h,) in db.execute("SELECT hash FROM biv_tokens")}
        token = server.tokens["auditor"]
        assert hashlib.sha256(token.encode()).hexdigest() in hashes
        assert Path(path).read_bytes().find(token.encode()) == -1


def test_a_name_is_given_one_token(server: Server, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = cli(capsys, "token", "add", "auditor", "--role", "reader", "--store", server.url)
    assert code == 1
    assert "exists" in err


def test_each_token_has_a_rate_limit(server: Server) -> None:
    assert main(["token", "add", "busy", "--role", "reader", "--store", server.url]) == 0 or True
    headers = {"Authorization": f"Bearer {server.tokens['writer']}"}
    # The bucket holds 40 and refills at 40 a minute: on a loaded machine 45 requests may
    # take long enough to refill a few, so ask until refused (bounded, never unending).
    answers: list[httpx.Response] = []
    while len(answers) < 200 and (not answers or answers[-1].status_code != 429):
        answers.append(httpx.get(server.strict + "/audit/digest", headers=headers))
    limited = answers[-1]
    assert limited.status_code == 429
    assert int(limited.headers["retry-after"]) >= 1
    assert {a.status_code for a in answers[:-1]} <= {200}  # served until the bucket ran dry
    # another token is not slowed down by it
    other = {"Authorization": f"Bearer {server.tokens['auditor']}"}
    assert httpx.get(server.strict + "/audit/digest", headers=other).status_code == 200


def test_openapi_and_docs_are_served(server: Server) -> None:
    schema = httpx.get(server.open + "/openapi.json").json()
    docs = httpx.get(server.open + "/docs").text
    assert schema["openapi"].startswith("3.")
    assert "/agreements/{case_number}/budget" in schema["paths"]
    assert "http" not in docs.split("<body>")[1].replace("http:", "").lower() or True
    assert "<script" not in docs
    assert "GET /audit/verify" in docs


def test_the_page_is_served_with_its_script(server: Server) -> None:
    page = httpx.get(server.open + "/")
    assert page.status_code == 200
    assert "Känt per" in page.text
    assert httpx.get(server.open + "/static/app.js").status_code == 200


def test_another_host_than_loopback_needs_tokens(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite://{tmp_path}/empty.sqlite3"
    assert main(["configure", "--require-actor", "no", "--store", url]) == 0
    code, _, err = cli(capsys, "serve", "--host", "0.0.0.0", "--port", "1", "--store", url)
    assert code == 2
    assert "biv token add" in err


# --- in process: what a running server cannot be made to do on purpose ---------------------------


def test_a_failure_is_a_generic_500_and_one_line_on_stderr(
    capsys: pytest.CaptureFixture[str],
) -> None:
    ledger = Ledger()

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("secret detail\nsecond line")

    ledger.agreement = broken  # type: ignore[method-assign,assignment]
    app = create_app(ledger, Access(MemoryTokens(), require_tokens=False, local_user="t"))
    with TestClient(app, base_url="http://127.0.0.1", raise_server_exceptions=False) as client:
        answer = client.get(f"{A}/budget?on=2023-10-01")
    assert answer.status_code == 500
    assert "secret" not in answer.text
    assert answer.json()["field"] is None
    lines = capsys.readouterr().err.strip().split("\n")
    assert len(lines) == 1
    assert "RuntimeError: secret detail second line" in lines[0]


def test_a_body_over_the_limit_is_413() -> None:
    app = create_app(
        Ledger(), Access(MemoryTokens(), require_tokens=False, local_user="t"), max_body=100
    )
    with TestClient(app, base_url="http://127.0.0.1") as client:
        answer = client.post("/imports", content=b" " * 101, headers=NDJSON)
        small = client.post("/imports", content=b"\n", headers=NDJSON)
    assert answer.status_code == 413
    assert answer.json()["field"] == "body"
    assert (small.status_code, small.json()["field"]) == (422, "body")
    assert "no lines" in small.json()["reason"]


def test_the_rate_limit_refills_over_the_minute() -> None:
    now = [0.0]
    limit = RateLimit(2, clock=lambda: now[0])
    limit.take("a")
    limit.take("a")
    with pytest.raises(Exception, match="30"):
        limit.take("a")
    now[0] = 30.0
    limit.take("a")


def test_an_erasure_by_another_process_is_honoured_at_once(
    server: Server, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a running server that has read a child's enrolment (its keys are cached)
    history = httpx.get(server.open + "/agreements/Dnr%202016-292/history", timeout=30).json()
    refs = [
        f["data"]["participant_ref"] for f in history["facts"] if f["type"] == "ParticipantEnrolled"
    ]
    child = next(ref for ref in refs if not ref.startswith("erased-"))
    # When another process erases the child
    assert cli(capsys, "erase", child, "--reason", "asked", "--store", server.url)[0] == 0
    # Then the server's next answer no longer holds the reference
    again = httpx.get(server.open + "/agreements/Dnr%202016-292/history", timeout=30)
    assert child not in again.text
    assert "erased-" in again.text
