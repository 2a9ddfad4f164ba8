"""A forged history located (issue 21, item 6): `audit verify --key` names where it differs.

On SQLite and PostgreSQL, the Linköping history is recorded with the log's key set, so the
store keeps the checkpoint it signed after each batch; then a batch of three payments, whose
receipt the partner keeps. An insider with the database password (but not the log's key, which
is in the vault) rewrites the second payment, chains every later fact again, and recomputes
the tree from the rewritten facts. The chain alone cannot tell; the signed checkpoints can,
and name the batch, or with a receipt the exact position.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from attrs import evolve, frozen
from hypothesis import given, settings
from hypothesis import strategies as st

from biv_adapters.cli import main
from biv_adapters.demo import record_linkoping
from biv_adapters.stores.registry import open_ledger
from biv_domain.converter import converter
from biv_domain.errors import InvalidValue
from biv_domain.ledger import Line
from biv_domain.ledger.log_verification import LogVerification, verify_checkpoint, verify_log
from biv_domain.ledger.note import COSIGNATURE_V1, Checkpoint, Note, Signer, cosign
from biv_domain.ledger.receipts import receipt_of
from biv_domain.model.commands import ConcludeAgreement, RecordDisbursement
from biv_domain.model.log_proofs import ImportReceipt
from biv_domain.model.money import Money
from tests.conftest import DURABLE, durable_store
from tests.ledger.test_tamper import StoredRows, decode_row
from tests.rechain import rechained

KEPT = ("biv_log_checkpoints", "biv_log_cosignatures", "biv_log_keys")


@frozen
class Forged:
    """The store before the forgery: its rows, the log's key, the checkpoint and the receipt
    kept outside, and where the payments' batch lies in the chain."""

    rows: StoredRows
    signer: Signer
    checkpoint: str
    receipt: ImportReceipt
    before: int  # the position of the seal before the payments' batch
    seal: int  # the position of the payments' batch's seal
    size: int  # the store's size when the checkpoint was kept


def _payments() -> list[Line]:
    return [
        Line(n, RecordDisbursement("Dnr 2016-292", Money.kronor(1000 * n), date(2024, 1, n)))
        for n in (1, 2, 3)
    ]


@pytest.fixture(params=DURABLE)
def forged(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Forged]:
    signer = Signer.generate("linkoping.se/biv")
    monkeypatch.setenv("BIV_LOG_KEY", str(signer))
    with durable_store(request.param, tmp_path) as (url, schema):
        ledger = open_ledger(url, actor="Linköpings kommun, registrator")
        record_linkoping(ledger)
        before = ledger.log_size()
        stored = ledger.execute_all(_payments(), actor="Anna, ekonom")
        receipt = receipt_of(ledger, stored)
        seal = ledger.log_size()
        ledger.execute(
            RecordDisbursement("Dnr 2016-292", Money.kronor(500), date(2024, 2, 1)), actor="Anna"
        )
        note = str(ledger.checkpoint())
        size = ledger.log_size()
        ledger.close()
        monkeypatch.delenv("BIV_LOG_KEY")  # the operator's process has no key from here on
        rows = StoredRows(url, schema)
        yield Forged(rows, signer, note, receipt, before, seal, size)
        rows.close()


def _run(rows: StoredRows, sql: str, *params: object) -> list[Any]:
    return rows._run(sql, *params)


def _table(rows: StoredRows, name: str) -> str:
    return f'"{rows.schema}".{name}' if rows.schema else name


def _log_tables(rows: StoredRows) -> list[str]:
    """The log's tables that hold its tree (however the store keeps its nodes and leaves)."""
    if rows.schema is None:
        found = _run(rows, "SELECT name FROM sqlite_master WHERE type = 'table'")
    else:
        found = _run(
            rows,
            "SELECT table_name FROM information_schema.tables WHERE table_schema = ?",
            rows.schema,
        )
    names = [r[0] for r in found]
    return [n for n in names if n.startswith("biv_log_") and n not in KEPT]


def rewrite_second_payment(forged: Forged, *, tree: bool = True) -> int:
    """The forgery: the batch's second payment made 9,999 kr, every later fact chained again
    and (with `tree`) the tree recomputed from the rewritten facts. Its chain position."""
    rewrite_payment(forged.rows, forged.before + 2, tree=tree)
    return forged.before + 2


def rewrite_payment(rows: StoredRows, position: int, *, tree: bool = True) -> None:
    """The payment at `position` made 9,999 kr, every later fact chained again and (with
    `tree`) the tree recomputed from the rewritten facts' hashes."""
    ids = rows.ids()
    at = position - 1  # rows hold positions 1, 2, ... in order
    payment = decode_row(rows, ids[at])
    assert payment.position == position
    changed = evolve(payment.event, amount=Money.kronor(9_999))

    def pay_more(index: int, envelope: dict[str, Any]) -> None:
        if index == 0:
            envelope["event"] = converter.unstructure(changed)

    tail = ids[at:]
    for row_id, state in zip(tail, rechained([rows.get(i) for i in tail], pay_more), strict=True):
        rows.set_state(row_id, state)
    if tree:
        for name in _log_tables(rows):
            _run(rows, f"DELETE FROM {_table(rows, name)}")
        ledger = open_ledger(rows.url)
        ledger.log_size()  # the tree made again, from the rewritten facts' hashes
        ledger.close()


def verified(forged: Forged, **evidence: Any) -> LogVerification:
    ledger = open_ledger(forged.rows.url)
    try:
        return verify_log(ledger, forged.signer.verifier, **evidence)
    finally:
        ledger.close()


def _chain_holds(forged: Forged) -> bool:
    ledger = open_ledger(forged.rows.url)
    try:
        return ledger.verify_chain().intact
    finally:
        ledger.close()


def test_an_untouched_store_makes_every_signed_checkpoint(forged: Forged) -> None:
    result = verified(forged, checkpoints=[("checkpoint.txt", forged.checkpoint)])
    assert result.holds, result.problems
    kept = [e for e in result.checked if e.source == "kept in the store"]
    assert len(kept) >= 3  # one a batch: the history's, the payments', the last payment's
    assert {forged.before, forged.seal, forged.size} <= {e.checkpoint.size for e in kept}
    assert result.extends is not None
    assert result.extends.checkpoint.size == forged.size


def test_a_rewritten_fact_with_its_chain_and_tree_recomputed_is_named_by_its_batch(
    forged: Forged,
) -> None:
    position = rewrite_second_payment(forged)
    assert _chain_holds(forged)  # the chain alone cannot tell

    result = verified(forged)
    assert not result.holds
    [problem] = result.problems
    assert problem.startswith(
        f"positions 1-{forged.before} hold (the signed checkpoint of {forged.before} kept in "
        f"the store); the history differs at a position from {forged.before + 1} to "
        f"{forged.seal} (the signed checkpoint of {forged.seal} kept in the store): "
    )
    assert f"position {position} (DisbursementRecorded, stream agreement:" in problem
    assert f"position {forged.seal} (BatchSealed, stream chain v" in problem
    assert result.extends is not None
    assert result.extends.checkpoint.size == forged.before


def test_with_the_kept_checkpoints_deleted_an_outside_checkpoint_still_bounds_it(
    forged: Forged,
) -> None:
    rewrite_second_payment(forged)
    _run(
        forged.rows,
        f"DELETE FROM {_table(forged.rows, 'biv_log_checkpoints')} WHERE size > ?",
        forged.before,
    )
    assert verified(forged).holds  # what the store keeps cannot tell any more

    result = verified(forged, checkpoints=[("checkpoint.txt", forged.checkpoint)])
    [problem] = result.problems
    assert f"positions 1-{forged.before} hold" in problem
    assert (
        f"the history differs at a position from {forged.before + 1} to {forged.size} "
        f"(the signed checkpoint of {forged.size} in checkpoint.txt)"
    ) in problem


def test_a_receipt_names_the_exact_position(forged: Forged) -> None:
    position = rewrite_second_payment(forged)
    _run(forged.rows, f"DELETE FROM {_table(forged.rows, 'biv_log_checkpoints')}")

    result = verified(
        forged,
        checkpoints=[("checkpoint.txt", forged.checkpoint)],
        receipts=[("kvitto.json", forged.receipt)],
    )
    [problem] = result.problems
    assert problem.startswith(
        f"position {position} differs from the receipt of line 2 in kvitto.json: "
        "DisbursementRecorded, stream agreement:"
    )
    # The receipt's first payment holds, and with it every position before (the chain)
    assert problem.endswith(
        f"positions 1-{position - 1} hold (the receipt of line 1 in kvitto.json)"
    )


def test_where_the_tree_was_left_its_proofs_name_the_exact_position(forged: Forged) -> None:
    position = rewrite_second_payment(forged, tree=False)
    _run(forged.rows, f"DELETE FROM {_table(forged.rows, 'biv_log_checkpoints')}")

    result = verified(forged, checkpoints=[("checkpoint.txt", forged.checkpoint)])
    [problem] = result.problems
    assert problem.startswith(
        f"position {position} differs from the log's leaf {position}, proven in the signed "
        f"checkpoint of {forged.size} in checkpoint.txt: DisbursementRecorded, stream "
    )
    assert "is not the fact the log signed there (forked or rewritten)" in problem
    assert f"positions 1-{position - 1} hold (the log's leaf {position - 1}, proven in" in problem
    # The old interface gives the same finding
    ledger = open_ledger(forged.rows.url)
    try:
        old = verify_checkpoint(ledger, forged.checkpoint, forged.signer.verifier)
    finally:
        ledger.close()
    assert not old.holds
    assert old.problem == problem.replace("checkpoint.txt", "checkpoint")


def test_a_kept_checkpoint_altered_in_the_database_is_named_unverifiable(
    forged: Forged,
) -> None:
    table = _table(forged.rows, "biv_log_checkpoints")
    [(note,)] = _run(forged.rows, f"SELECT note FROM {table} WHERE size = ?", forged.seal)
    parsed = Note.parse(note)
    lines = parsed.text.split("\n")
    lines[2] = lines[2][:-4] + ("AAA=" if lines[2][-4:] != "AAA=" else "BBB=")  # another root
    altered = str(Note("\n".join(lines), parsed.signatures))
    _run(forged.rows, f"UPDATE {table} SET note = ? WHERE size = ?", altered, forged.seal)

    result = verified(forged)
    assert result.problems == (
        f"the store's signed checkpoint of {forged.seal} does not verify under the key "
        f"linkoping.se/biv: its signature by linkoping.se/biv does not verify",
    )
    assert forged.seal not in {e.checkpoint.size for e in result.checked}


def test_a_shortened_store_names_its_first_missing_position(forged: Forged) -> None:
    ids = forged.rows.ids()
    for row_id in ids[forged.seal :]:  # the last batch (its payment and its seal) deleted
        forged.rows.delete(row_id)

    result = verified(forged, checkpoints=[("checkpoint.txt", forged.checkpoint)])
    assert result.problems == (
        f"the store holds {forged.seal} facts, the signed checkpoint of {forged.size} in "
        f"checkpoint.txt holds {forged.size}: the history was shortened, position "
        f"{forged.seal + 1} is the first that differs",
    )


def test_a_checkpoint_or_receipt_another_key_signed_is_refused(forged: Forged) -> None:
    other = Signer.generate("linkoping.se/biv").verifier
    ledger = open_ledger(forged.rows.url)
    try:
        with pytest.raises(InvalidValue) as refused:
            verify_log(ledger, other, [("checkpoint.txt", forged.checkpoint)], kept=False)
        assert refused.value.field == "checkpoint checkpoint.txt"
        with pytest.raises(InvalidValue) as refused:
            verify_log(ledger, other, receipts=[("kvitto.json", forged.receipt)], kept=False)
        assert refused.value.field.startswith("receipt kvitto.json")
        # The store's own checkpoints, signed with the log's key, cannot be checked with another
        assert verify_log(ledger, other).problems == (
            f"the store keeps the log key {forged.signer.verifier}, not {other}: its signed "
            "checkpoints cannot be checked with the key given",
        )
    finally:
        ledger.close()


def test_the_command_line_says_each_finding_in_one_line(
    forged: Forged, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    checkpoint, receipt = tmp_path / "checkpoint.txt", tmp_path / "kvitto.json"
    checkpoint.write_text(forged.checkpoint)
    receipt.write_text(json.dumps(converter.unstructure(forged.receipt)))
    key = str(forged.signer.verifier)
    store = ["--store", forged.rows.url]
    capsys.readouterr()
    assert main(["audit", "verify", "--key", key, "--checkpoint", str(checkpoint), *store]) == 0
    out = capsys.readouterr().out
    assert f"the store extends the checkpoint of {forged.size} facts in {checkpoint}" in out
    assert "signed checkpoints verify and its facts make each root" in out

    position = rewrite_second_payment(forged)
    argv = ["audit", "verify", "--key", key, "--checkpoint", str(checkpoint)]
    assert main([*argv, "--receipt", str(receipt), *store]) == 1
    err = capsys.readouterr().err
    [line] = err.splitlines()
    assert line.startswith(f"biv: position {position} differs from the receipt of line 2 in ")
    assert "Traceback" not in err

    assert main([*argv, *store]) == 1
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith(f"biv: positions 1-{forged.before} hold (the signed checkpoint of")

    assert main([*argv, "--json", *store]) == 1
    out, err = capsys.readouterr()
    log = json.loads(out)["log"]
    assert log["holds"] is False
    assert [f"biv: {p}" for p in log["problems"]] == err.splitlines()
    assert log["extends"] == forged.before
    assert {"size": forged.size, "source": f"in {checkpoint}"}.items() <= next(
        c for c in log["checked"] if c["source"] != "kept in the store"
    ).items()

    assert main(["audit", "verify", "--checkpoint", str(checkpoint), *store]) == 2
    assert "need --key VKEY" in capsys.readouterr().err


def test_a_witness_cosignature_altered_in_the_database_is_named(forged: Forged) -> None:
    witness = Signer.generate("kommunrevisionen.example", COSIGNATURE_V1)
    ledger = open_ledger(forged.rows.url)
    try:
        note = ledger.checkpoint()
        at = datetime(2024, 3, 1, tzinfo=UTC)
        cosigned = Note(note.text, (*note.signatures, cosign(note, witness, at)))
        ledger.add_cosignature(str(cosigned), str(witness.verifier))
    finally:
        ledger.close()
    assert verified(forged).holds  # the witness's cosignature verifies

    other = Note(Checkpoint("linkoping.se/biv", forged.size, bytes(32)).text, ())
    line = str(cosign(other, witness, at)).rstrip("\n")  # the witness's, of another root
    table = _table(forged.rows, "biv_log_cosignatures")
    _run(forged.rows, f"UPDATE {table} SET line = ? WHERE size = ?", line, forged.size)
    assert verified(forged).problems == (
        "the cosignature of kommunrevisionen.example kept with the store's signed checkpoint "
        f"of {forged.size} does not verify",
    )


@settings(max_examples=12, deadline=None)
@given(
    batches=st.lists(st.integers(1, 4), min_size=2, max_size=5),
    pick=st.integers(0, 10_000),
    forger=st.sampled_from(["facts only", "tree too", "tree too, kept checkpoints deleted"]),
)
def test_any_rewritten_payment_is_located_to_its_position_or_batch(
    batches: list[int], pick: int, forger: str
) -> None:
    """Given batches of payments signed one by one, a payment anywhere rewritten: with the tree
    left, its exact position is named; with the tree recomputed, its batch (between the kept
    checkpoints around it), or with those deleted, the span since the last kept before it."""
    signer = Signer.generate("linkoping.se/biv")
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite://{folder}/biv.sqlite3"
        ledger = open_ledger(url, actor="Anna, ekonom")
        ledger.reads.log_key = signer
        ledger.execute(
            ConcludeAgreement(
                "Dnr T-1", "T", "L", "P", date(2024, 1, 1), date(2024, 12, 31), 3, date(2024, 1, 1)
            )
        )
        seals, payments = [ledger.log_size()], list[tuple[int, int]]()
        for size in batches:
            first = ledger.log_size() + 1
            ledger.execute_all(
                [
                    Line(n, RecordDisbursement("Dnr T-1", Money.kronor(n), date(2024, 2, n)))
                    for n in range(1, size + 1)
                ]
            )
            payments.extend((p, seals[-1]) for p in range(first, first + size))
            seals.append(ledger.log_size())
        note = str(ledger.checkpoint())
        ledger.close()
        position, before = payments[pick % len(payments)]
        seal = min(s for s in seals if s > position)
        rows = StoredRows(url, None)
        try:
            rewrite_payment(rows, position, tree=forger != "facts only")
            if forger.endswith("deleted"):
                _run(rows, "DELETE FROM biv_log_checkpoints WHERE size > ?", before)
        finally:
            rows.close()
        ledger = open_ledger(url)
        try:
            result = verify_log(ledger, signer.verifier, [("checkpoint.txt", note)])
        finally:
            ledger.close()
    [problem] = result.problems
    if forger == "facts only":
        assert problem.startswith(f"position {position} differs from the log's leaf {position}")
        assert f"positions 1-{position - 1} hold" in problem
    else:
        end = seal if forger == "tree too" else seals[-1]
        assert problem.startswith(f"positions 1-{before} hold (the signed checkpoint of {before}")
        assert f"the history differs at a position from {before + 1} to {end} " in problem


def test_a_store_that_never_signed_says_nothing_was_checked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite://{tmp_path}/unsigned.sqlite3"
    ledger = open_ledger(url)
    ledger.execute(
        ConcludeAgreement(
            "Dnr T-1", "T", "L", "P", date(2024, 1, 1), date(2024, 12, 31), 3, date(2024, 1, 1)
        )
    )
    ledger.close()
    key = str(Signer.generate("linkoping.se/biv").verifier)
    capsys.readouterr()
    assert main(["audit", "verify", "--key", key, "--store", url]) == 0
    out = capsys.readouterr().out
    assert "not checked: no signed checkpoint (the store keeps none, and none was given)" in out
