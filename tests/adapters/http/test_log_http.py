"""The log over HTTP (issue 21), against `biv serve` for real on SQLite and PostgreSQL: the
checkpoint as text, the proofs as the CLI prints them, refusals naming the parameter, receipts of
`POST /imports?receipt=true`, and a witness that co-signs through the service."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from biv_adapters.cli import main
from biv_domain.ledger.note import COSIGNATURE_V1, Note, Signer
from biv_domain.ledger.receipts import check_receipt, read_receipt
from tests.conftest import DURABLE, durable_store
from tests.http_server import serve

DATA = Path(__file__).parents[3] / "src" / "biv_domain" / "data"


@pytest.fixture(params=DURABLE)
def served(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[str, str, Signer]]:
    """A store made by `biv import` with the log's key set, and `biv serve` on it."""
    signer = Signer.generate("linkoping.se/biv")
    monkeypatch.setenv("BIV_LOG_KEY", str(signer))
    with durable_store(request.param, tmp_path, "test_log") as (url, _schema):
        assert main(["import", str(DATA / "linkoping_documents.jsonl"), "--store", url]) == 0
        with serve(url) as base:
            yield url, base, signer


def test_the_checkpoint_and_proofs_are_the_clis(
    served: tuple[str, str, Signer], capsys: pytest.CaptureFixture[str]
) -> None:
    url, base, signer = served
    answer = httpx.get(base + "/log/checkpoint")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    Note.parse(answer.text).verify(signer.verifier)
    capsys.readouterr()
    for path, argv in [
        ("/log/proof/inclusion?position=3", ["audit", "prove", "3", "--json"]),
        (
            "/log/proof/inclusion?position=2&size=5",
            ["audit", "prove", "2", "--size", "5", "--json"],
        ),
        ("/log/proof/consistency?from=4", ["audit", "consistency", "4", "--json"]),
        ("/log/proof/consistency?from=3&to=9", ["audit", "consistency", "3", "9", "--json"]),
    ]:
        assert main([*argv, "--store", url]) == 0
        assert httpx.get(base + path).json() == json.loads(capsys.readouterr().out), path


@pytest.mark.parametrize(
    ("query", "status", "field"),
    [
        ("/log/proof/inclusion?position=100000", 422, "position"),
        ("/log/proof/inclusion?position=1&size=100000", 422, "size"),
        ("/log/proof/consistency?from=9&to=3", 422, "from"),
        ("/log/proof/consistency?from=1&to=100000", 422, "to"),
        ("/log/proof/inclusion?position=x", 400, "position"),
        ("/log/proof/inclusion", 400, "position"),
    ],
)
def test_a_proof_outside_the_tree_is_refused_naming_the_parameter(
    served: tuple[str, str, Signer], query: str, status: int, field: str
) -> None:
    answer = httpx.get(served[1] + query)
    assert answer.status_code == status
    assert answer.json()["field"] == field


def test_an_import_gives_its_receipt_and_a_witness_cosigns_through_the_service(
    served: tuple[str, str, Signer], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _url, base, signer = served
    body = (DATA / "linkoping_illustrative_2023.jsonl").read_bytes()
    ndjson = {"Content-Type": "application/x-ndjson"}
    answer = httpx.post(base + "/imports?receipt=true", content=body, headers=ndjson, timeout=60)
    assert answer.status_code == 200, answer.text
    receipt = answer.json()["receipt"]
    assert len(receipt["lines"]) == 169
    checkpoint = check_receipt(read_receipt(receipt), signer.verifier)
    # A witness co-signs through the service, and the service carries its cosignature
    witness = Signer.generate("kommunrevisionen.example", COSIGNATURE_V1)
    state = tmp_path / "witness.json"
    argv = ["witness", "--log", base, "--key", str(witness), "--log-key", str(signer.verifier)]
    capsys.readouterr()
    assert main([*argv, "--state", str(state)]) == 0, capsys.readouterr().err
    note = Note.parse(httpx.get(base + "/log/checkpoint").text)
    assert [s.name for s in note.signatures] == [signer.name, witness.name]
    cosigners = httpx.get(base + "/log/cosignatures").json()
    assert [c["witness"] for c in cosigners["cosignatures"]] == [witness.name]
    assert cosigners["size"] == checkpoint.size
    # And the receipt's holder asks the service whether the log today extends it
    (tmp_path / "kvitto.json").write_text(json.dumps(receipt))
    check = ["audit", "check-receipt", str(tmp_path / "kvitto.json"), "--key"]
    assert main([*check, str(signer.verifier), "--store", base]) == 0
    # A cosignature that does not verify is refused, naming the note
    bent = note.text + "\n" + str(note.signatures[0]) + str(note.signatures[1])[:-6] + "AAAA=\n"
    answer = httpx.post(
        base + "/log/cosignatures", json={"note": bent, "key": str(witness.verifier)}
    )
    assert answer.status_code == 422
    assert answer.json()["field"] == "note"
