"""The log on the command line (issue 21): keys, checkpoints, proofs, receipts, witnesses and
`audit verify --checkpoint`, on a store made by `biv import`. Every refusal is one line."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from biv_adapters.cli import main
from biv_domain.ledger import merkle
from biv_domain.ledger.note import COSIGNATURE_V1, Checkpoint, Note, Signer, Verifier
from biv_domain.ledger.receipts import check_receipt, read_receipt

DATA = Path(__file__).parents[2] / "src" / "biv_domain" / "data"
DOCUMENTS = DATA / "linkoping_documents.jsonl"
GROUPS = DATA / "linkoping_illustrative_2023.jsonl"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def log_key(monkeypatch: pytest.MonkeyPatch) -> Signer:
    signer = Signer.generate("linkoping.se/biv")
    monkeypatch.setenv("BIV_LOG_KEY", str(signer))
    return signer


@pytest.fixture
def store(tmp_path: Path) -> str:
    return f"sqlite://{tmp_path}/biv.sqlite3"


def test_keygen_prints_a_signer_and_its_verifier(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "audit", "keygen", "linkoping.se/biv")
    assert code == 0
    private, public = out.splitlines()
    signer = Signer.parse(private)
    assert private.startswith("PRIVATE+KEY+linkoping.se/biv+")
    assert str(signer.verifier) == public == str(Verifier.parse(public))
    code, out, _ = run(capsys, "audit", "keygen", "partner.example/witness", "--witness")
    assert Signer.parse(out.splitlines()[0]).kind == COSIGNATURE_V1


def test_the_checkpoint_signed_with_the_batch_is_printed_without_the_key(
    capsys: pytest.CaptureFixture[str],
    store: str,
    log_key: Signer,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    assert run(capsys, "import", str(DOCUMENTS), "--store", store)[0] == 0
    monkeypatch.delenv("BIV_LOG_KEY")
    code, out, _ = run(capsys, "audit", "checkpoint", "--store", store)
    assert code == 0
    note = Note.parse(out)
    note.verify(log_key.verifier)
    assert out.startswith("linkoping.se/biv\n")
    code, out, _ = run(capsys, "audit", "checkpoint", "--json", "--store", store)
    body = json.loads(out)
    assert body["origin"] == "linkoping.se/biv"
    assert Checkpoint.from_text(note.text).root.hex() == body["root"]
    # Once another batch is stored without the key, the kept checkpoint is old: refused
    assert run(capsys, "import", str(GROUPS), "--store", store)[0] == 0
    code, _, err = run(capsys, "audit", "checkpoint", "--store", store)
    assert code == 1
    assert "BIV_LOG_KEY" in err
    assert len(err.splitlines()) == 1
    # And a key that is not the store's is refused in one line
    monkeypatch.setenv("BIV_LOG_KEY", str(Signer.generate("linkoping.se/biv")))
    code, _, err = run(capsys, "audit", "checkpoint", "--store", store)
    assert code == 1
    assert "not this store's log key" in err
    # and so is a batch signed with it: nothing is stored
    digest = run(capsys, "audit", "digest", "--store", store)[1]
    line: dict[str, object] = {
        "id": "new-1",
        "command": "set_target",
        "case_number": "Dnr 2016-292",
    }
    line |= {"target": "children_per_year", "value": 5, "decided_on": "2017-04-01"}
    (tmp_path / "new.jsonl").write_text(json.dumps(line) + "\n")
    code, _, err = run(capsys, "import", str(tmp_path / "new.jsonl"), "--store", store)
    assert code == 1
    assert "BIV_LOG_KEY" in err
    assert run(capsys, "audit", "digest", "--store", store)[1] == digest
    assert "not this store's log key" in err
    assert len(err.splitlines()) == 1


def test_proofs_print_rfc_9162_documents_and_refuse_what_is_outside(
    capsys: pytest.CaptureFixture[str], store: str, log_key: Signer
) -> None:
    run(capsys, "import", str(DOCUMENTS), "--store", store)
    run(capsys, "import", str(GROUPS), "--store", store)
    checkpoint = Checkpoint.from_text(
        Note.parse(run(capsys, "audit", "checkpoint", "--store", store)[1]).text
    )
    code, out, _ = run(capsys, "audit", "prove", "3", "--json", "--store", store)
    proof = json.loads(out)
    assert code == 0
    assert set(proof) == {"tree_size", "leaf_index", "leaf", "hashes"}
    assert (proof["tree_size"], proof["leaf_index"]) == (checkpoint.size, 2)
    path = [bytes.fromhex(h) for h in proof["hashes"]]
    leaf = merkle.leaf_hash(bytes.fromhex(proof["leaf"]))
    assert merkle.verify_inclusion(2, checkpoint.size, leaf, path, checkpoint.root)
    code, out, _ = run(capsys, "audit", "consistency", "5", "--json", "--store", store)
    body = json.loads(out)
    assert (body["from"], body["to"]) == (5, checkpoint.size)
    for argv, field in [
        (["prove", str(checkpoint.size + 1)], "position"),
        (["prove", "1", "--size", str(checkpoint.size + 1)], "size"),
        (["consistency", "9", "5"], "from"),
        (["consistency", "1", str(checkpoint.size + 1)], "to"),
    ]:
        code, _, err = run(capsys, "audit", *argv, "--store", store)
        assert code == 1, argv
        assert err.startswith(f"biv: refused: {field}:")
        assert len(err.splitlines()) == 1


def test_a_receipt_verifies_offline_and_survives_an_erasure(
    capsys: pytest.CaptureFixture[str], store: str, log_key: Signer, tmp_path: Path
) -> None:
    run(capsys, "import", str(DOCUMENTS), "--store", store)
    receipt = tmp_path / "kvitto.json"
    code, out, _ = run(capsys, "import", str(GROUPS), "--receipt", str(receipt), "--store", store)
    assert code == 0
    assert "receipt" in out
    document = json.loads(receipt.read_text())
    assert len(document["lines"]) == 169
    assert all(line["facts"] for line in document["lines"])
    vkey = str(log_key.verifier)
    code, out, err = run(capsys, "audit", "check-receipt", str(receipt), "--key", vkey)
    assert code == 0, err
    # When a child is erased afterwards, the receipt still holds, and the log extends it
    assert run(capsys, "erase", "ILL-C001", "--reason", "GDPR art. 17", "--store", store)[0] == 0
    code, out, err = run(
        capsys, "audit", "check-receipt", str(receipt), "--key", vkey, "--store", store, "--json"
    )
    assert code == 0, err
    assert json.loads(out)["extended_by"]["size"] > json.loads(out)["size"]
    # A receipt with one hash changed, or checked with another key, is refused in one line
    bent = json.loads(receipt.read_text())
    first = bent["lines"][3]["facts"][0]["proof"]["hashes"]
    first[0] = ("0" if first[0][0] != "0" else "1") + first[0][1:]
    (tmp_path / "bent.json").write_text(json.dumps(bent))
    code, _, err = run(capsys, "audit", "check-receipt", str(tmp_path / "bent.json"), "--key", vkey)
    assert code == 1
    assert "lines[3].facts[0].proof" in err
    assert len(err.splitlines()) == 1
    other = str(Signer.generate("linkoping.se/biv").verifier)
    code, _, err = run(capsys, "audit", "check-receipt", str(receipt), "--key", other)
    assert code == 1
    assert len(err.splitlines()) == 1
    # And the pure check agrees
    assert check_receipt(read_receipt(document), log_key.verifier).size == document_size(document)


def copy_store(source: Path, target: Path) -> None:
    """A copy of an SQLite store as it stands (its write-ahead log too)."""
    with sqlite3.connect(source) as db, sqlite3.connect(target) as copy:
        db.backup(copy)


def document_size(document: dict[str, object]) -> int:
    return Checkpoint.from_text(Note.parse(str(document["checkpoint"])).text).size


def test_import_with_a_receipt_needs_the_log_key(
    capsys: pytest.CaptureFixture[str], store: str, tmp_path: Path
) -> None:
    code, _, err = run(
        capsys, "import", str(DOCUMENTS), "--receipt", str(tmp_path / "r.json"), "--store", store
    )
    assert code == 1
    assert "BIV_LOG_KEY" in err
    assert not (tmp_path / "r.json").exists()


def test_a_witness_cosigns_what_extends_its_state_and_refuses_a_fork(
    capsys: pytest.CaptureFixture[str],
    store: str,
    log_key: Signer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    witness = Signer.generate("kommunrevisionen.example", COSIGNATURE_V1)
    state = tmp_path / "witness.json"
    argv = ["witness", "--log", store, "--key", str(witness), "--log-key", str(log_key.verifier)]
    run(capsys, "import", str(DOCUMENTS), "--store", store)
    assert run(capsys, *argv, "--state", str(state))[0] == 0
    seen = json.loads(state.read_text())["size"]
    # The log grows (an erasure too): the witness checks consistency and co-signs again
    run(capsys, "import", str(GROUPS), "--store", store)
    copy_store(tmp_path / "biv.sqlite3", tmp_path / "fork.sqlite3")
    run(capsys, "erase", "ILL-C002", "--reason", "GDPR art. 17", "--store", store)
    code, out, err = run(capsys, *argv, "--state", str(state))
    assert code == 0, err
    assert json.loads(state.read_text())["size"] > seen
    # And the checkpoint now carries the witness's cosignature
    code, out, err = run(capsys, "audit", "checkpoint", "--store", store)
    assert code == 0, err
    assert any(s.name == witness.name for s in Note.parse(out).signatures)
    # Given a fork: the copy taken before the erasure records another erasure instead
    kept = state.read_text()
    fork = f"sqlite://{tmp_path}/fork.sqlite3"
    code, _, err = run(capsys, *argv[:2], fork, *argv[3:], "--state", str(state))
    assert code == 1  # the copy is shorter than what the witness saw: it shrank
    assert "shrank" in err
    run(capsys, "erase", "ILL-C003", "--reason", "GDPR art. 17", "--store", fork)
    code, _, err = run(capsys, *argv[:2], fork, *argv[3:], "--state", str(state))
    assert code == 1
    assert "forked" in err
    assert len(err.splitlines()) == 1
    assert state.read_text() == kept  # the witness keeps its old state


def test_verify_against_a_checkpoint_names_the_first_position_that_differs(
    capsys: pytest.CaptureFixture[str], store: str, log_key: Signer, tmp_path: Path
) -> None:
    run(capsys, "import", str(DOCUMENTS), "--store", store)
    run(capsys, "import", str(GROUPS), "--store", store)
    kept = tmp_path / "checkpoint.txt"
    kept.write_text(run(capsys, "audit", "checkpoint", "--store", store)[1])
    vkey = str(log_key.verifier)
    verify = ["audit", "verify", "--checkpoint", str(kept), "--key", vkey]
    assert run(capsys, *verify, "--store", store)[0] == 0
    size = Checkpoint.from_text(Note.parse(kept.read_text()).text).size
    # Given a copy whose last 5 rows (a batch's end and its seal) were deleted
    short = tmp_path / "short.sqlite3"
    copy_store(tmp_path / "biv.sqlite3", short)
    with sqlite3.connect(short) as db:
        last = db.execute("SELECT max(rowid) FROM stored_events").fetchone()[0]
        db.execute("DELETE FROM stored_events WHERE rowid > ?", (last - 5,))
    code, _, err = run(capsys, *verify, "--store", f"sqlite://{short}")
    assert code == 1
    assert f"position {size - 4} is the first that differs" in err
    # And a checkpoint signed by another key is refused
    other = str(Signer.generate("linkoping.se/biv").verifier)
    code, _, err = run(
        capsys, "audit", "verify", "--checkpoint", str(kept), "--key", other, "--store", store
    )
    assert code == 1
    assert len(err.splitlines()) == 1
