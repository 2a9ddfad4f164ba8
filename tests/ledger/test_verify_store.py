"""`biv audit verify` covers every byte that can change an answer (issue 21).

Each fault is made on a real store (SQLite and PostgreSQL) around the ledger, as an
insider with the database password would, and `verify` must catch it, naming a real
row (its position, type, stream and version), never `row 0 ( of  v0`:

- the shortened tail: the last 5 rows deleted, the end of a batch and its seal;
- the deleted key row: a child erased with no `ParticipantErased` fact;
- the changed funding-view row: `amount_ore` × 10;
- the unreadable fact: a `DisbursementRecorded` with `"note": null`, chained again so
  the chain holds; queries refuse it in one line, with no traceback.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from biv_adapters.cli import main
from biv_adapters.demo import record_linkoping
from biv_adapters.stores.registry import open_ledger
from biv_domain.converter import parse_json
from biv_domain.ledger import Ledger
from biv_domain.ledger.subjects import erased_reference
from biv_domain.ledger.verification import Digest, Verification
from biv_domain.model.commands import SetTarget
from biv_domain.model.vocabulary import TargetKind
from tests.conftest import DURABLE, durable_store
from tests.rechain import rechained

from .test_tamper import StoredRows

CASE = "Dnr 2016-292"
ACTOR = "Linköpings kommun, registrator"


class Insider(StoredRows):
    """The store's rows, its key table and its funding view, reached around the ledger."""

    def tables(self, name: str) -> str:
        return name if self.schema is None else f'"{self.schema}".{name}'

    def subjects(self) -> list[str]:
        """The participants' pseudonyms in the key table (not the pepper, not the data key)."""
        rows = self._run(f"SELECT subject FROM {self.tables('biv_subject_keys')}")
        return sorted(r[0] for r in rows if r[0] not in ("", "*"))

    def delete_key(self, subject: str) -> None:
        self._run(f"DELETE FROM {self.tables('biv_subject_keys')} WHERE subject = ?", subject)

    def multiply_amount(self, factor: int) -> tuple[str, str, str, str, str]:
        """Multiplies the first funding line's amount in the view; returns the line's key."""
        table = self.tables("biv_view_funding_lines")
        key = "case_number, party, source, start_on, end_on"
        [line] = self._run(f"SELECT {key} FROM {table} ORDER BY {key} LIMIT 1")
        where = " AND ".join(f"{column} = ?" for column in key.split(", "))
        self._run(f"UPDATE {table} SET amount_ore = amount_ore * {factor} WHERE {where}", *line)
        case_number, party, source, start, end = line
        return case_number, party, source, start, end


@pytest.fixture(params=DURABLE)
def insider(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Insider]:
    """A store holding the Linköping history, its participants' fields sealed, and its rows."""
    with durable_store(request.param, tmp_path) as (url, schema):
        ledger = open_ledger(url, actor=ACTOR)
        record_linkoping(ledger)
        verified = ledger.verify_chain()
        assert verified.intact, verified.problems
        assert len(verified.checked) > 1  # the store's checks ran, not the chain's walk only
        ledger.close()
        stored = Insider(url, schema)
        yield stored
        stored.close()


def verify(insider: Insider, digest: Digest | None = None) -> Verification:
    ledger = open_ledger(insider.url)
    try:
        return ledger.verify_chain(digest)
    finally:
        ledger.close()


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_naming_a_row(err: str) -> None:
    assert "Traceback" not in err
    assert "row 0 (" not in err
    assert " of  v0" not in err


def test_a_shortened_tail_fails_naming_the_last_row_left(
    insider: Insider, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given the auditor's digest of the whole history
    code, digest, _ = cli(capsys, "audit", "digest", "--store", insider.url)
    assert code == 0
    # When the last 5 rows are deleted: the end of the last batch, and its seal
    ids = insider.ids()
    for row in ids[-5:]:
        insider.delete(row)
    last = ids[-6]
    stream, version, topic, state = insider.get(last)
    position = parse_json(state)["chain"]["position"]

    # Then verify fails, without a digest too, naming the last row that is left
    found = verify(insider).first_break
    assert found is not None, "a shortened history passed"
    assert (found.notification_id, found.stream, found.version, found.type) == (
        last,
        stream,
        version,
        topic,
    )
    assert found.position == position
    assert "ends inside a batch" in found.problem
    code, _, err = cli(capsys, "audit", "verify", "--store", insider.url)
    assert code == 1
    assert f"row {last} ({topic} of {stream} v{version}, chain position {position})" in err
    assert_one_line_naming_a_row(err)
    # and with the digest, which lies beyond the end, it names the real row as well
    argv = ("audit", "verify", "--digest", digest.strip(), "--store", insider.url)
    code, _, err = cli(capsys, *argv)
    assert code == 1
    assert f"row {last} ({topic} of {stream} v{version}" in err
    assert_one_line_naming_a_row(err)


def test_a_whole_batch_removed_with_its_seal_leaves_the_digest_to_name_the_last_row(
    insider: Insider, capsys: pytest.CaptureFixture[str]
) -> None:
    # A second batch, then the digest; then that whole batch goes, its seal too.
    before = len(insider.ids())
    ledger = open_ledger(insider.url, actor=ACTOR)
    ledger.execute(SetTarget(CASE, TargetKind.CHILDREN_PER_YEAR, 40, date(2023, 11, 1)))
    digest = ledger.digest()
    ledger.close()
    assert digest is not None
    for row in insider.ids()[before:]:
        insider.delete(row)
    assert verify(insider).intact  # a whole batch gone: only what was kept outside can tell
    found = verify(insider, digest).first_break
    assert found is not None
    assert found.notification_id == insider.ids()[-1]
    assert found.type == "BatchSealed"
    assert "before the digest's" in found.problem


def test_a_deleted_key_row_names_the_participant_by_stand_in(
    insider: Insider, capsys: pytest.CaptureFixture[str]
) -> None:
    # When one child's key row is deleted: an erasure without a ParticipantErased fact
    subject = insider.subjects()[3]
    insider.delete_key(subject)

    result = verify(insider)
    assert result.first_break is None  # the chain holds: the key table is beside it
    assert not result.intact
    [problem] = result.problems
    assert erased_reference(subject) in problem
    assert "no key and no erasure or retention fact" in problem
    assert "chain position" in problem
    assert "ParticipantEnrolled of group:" in problem  # the row that first names the child
    code, _, err = cli(capsys, "audit", "verify", "--store", insider.url)
    assert code == 1
    assert erased_reference(subject) in err
    assert_one_line_naming_a_row(err)


def test_an_erasure_and_a_retention_made_by_the_ledger_pass(
    insider: Insider, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = cli(
        capsys,
        *("erase", "ILL-C001", "--reason", "guardian's request"),
        *("--actor", "Registrator", "--store", insider.url),
    )
    assert code == 0, err
    result = verify(insider)
    assert result.intact, result.problems


def test_a_changed_view_row_names_the_line_and_the_fact_behind_it(
    insider: Insider, capsys: pytest.CaptureFixture[str]
) -> None:
    # When a funding line's amount in the view is multiplied by 10
    case_number, party, source, start, end = insider.multiply_amount(10)

    result = verify(insider)
    assert result.first_break is None
    [problem] = result.problems
    assert f"({case_number}, {party}, {source}, {start}, {end})" in problem
    assert "line.amount" in problem
    assert "chain position" in problem
    assert f"of agreement:{case_number} v" in problem
    code, _, err = cli(capsys, "audit", "verify", "--store", insider.url)
    assert code == 1
    assert_one_line_naming_a_row(err)
    # and `biv rebuild` folds the view again from the facts
    assert cli(capsys, "rebuild", "--store", insider.url)[0] == 0
    assert verify(insider).intact


def test_an_unreadable_fact_is_named_by_verify_and_refused_by_queries_in_one_line(
    insider: Insider, capsys: pytest.CaptureFixture[str]
) -> None:
    # When a payment's note is null and every row after it is chained again
    ids = insider.ids()
    paid = insider.id_of("DisbursementRecorded")
    tail = ids[ids.index(paid) :]
    rows = [insider.get(row) for row in tail]

    def null_note(index: int, envelope: dict[str, object]) -> None:
        if index == 0:
            event = envelope["event"]
            assert isinstance(event, dict)
            event["note"] = None

    for row, state in zip(tail, rechained(rows, null_note), strict=True):
        insider.set_state(row, state)
    stream, version, topic, state = insider.get(paid)
    position = parse_json(state)["chain"]["position"]
    named = f"chain position {position}: {topic} of {stream} v{version}"

    # Then the chain holds, and verify names the fact it cannot read, in one line
    result = verify(insider)
    assert result.first_break is None
    [problem] = result.problems
    assert f"row {paid}, {named}" in problem
    assert "note" in problem
    code, _, err = cli(capsys, "audit", "verify", "--store", insider.url)
    assert code == 1
    assert len(err.strip().splitlines()) == 1
    assert_one_line_naming_a_row(err)
    # and every query that reads it refuses it in one line, exit 1, no traceback
    for argv in (
        ("budget", CASE, "--on", "2023-10-01"),
        ("history", CASE),
        ("audit", "replay", CASE),
    ):
        code, _, err = cli(capsys, *argv, "--store", insider.url)
        assert code == 1, argv
        assert len(err.strip().splitlines()) == 1, err
        assert err.startswith("biv: refused: note: ")
        assert named in err
        assert_one_line_naming_a_row(err)


def test_an_encrypted_store_is_checked_whole_with_its_key_and_its_chain_without(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite://{tmp_path}/biv.sqlite3"
    monkeypatch.setenv("BIV_CIPHER_KEY", cli(capsys, "keygen")[1].strip())
    assert cli(capsys, "demo", "--store", url)[0] == 0
    code, out, err = cli(capsys, "audit", "verify", "--json", "--store", url)
    assert (code, err) == (0, "")
    assert parse_json(out)["checked"] == [
        "chain",
        "batch seals",
        "facts readable",
        "participants' keys",
        "funding view",
    ]
    # A key row deleted is caught with the store's key ...
    insider = Insider(url, None)
    subject = insider.subjects()[0]
    insider.delete_key(subject)
    insider.close()
    code, _, err = cli(capsys, "audit", "verify", "--store", url)
    assert code == 1
    assert erased_reference(subject) in err
    # ... and without it only the chain is checked, and verify says so
    monkeypatch.delenv("BIV_CIPHER_KEY")
    code, out, err = cli(capsys, "audit", "verify", "--store", url)
    assert code == 0, err
    assert "not checked: this store is encrypted" in out


def test_a_batch_stored_during_the_check_makes_it_check_again(
    memory_ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    from biv_domain.ledger import LedgerReads, audit_checks

    record_linkoping(memory_ledger)
    walk, writes = audit_checks._walk, [0]

    def walk_while_another_writes(reads: LedgerReads, *, times: int) -> Any:
        found = walk(reads)
        if writes[0] < times:
            writes[0] += 1
            target = SetTarget(CASE, TargetKind.GROUPS_PER_YEAR, writes[0], date(2023, 11, 1))
            memory_ledger.execute(target)
        return found

    # Given one batch stored while the keys and the view were being checked: checked again
    monkeypatch.setattr(
        audit_checks, "_walk", lambda ledger: walk_while_another_writes(ledger, times=1)
    )
    result = memory_ledger.verify_chain()
    assert result.intact
    assert result.checked == audit_checks.CHECKS
    # Given a store that never stops taking batches: the chain is checked, and it says so
    writes[0] = 0
    monkeypatch.setattr(
        audit_checks, "_walk", lambda ledger: walk_while_another_writes(ledger, times=9)
    )
    result = memory_ledger.verify_chain()
    assert "kept taking new facts" in result.notes[0]
    assert "funding view" not in result.checked


def test_a_fact_slipped_into_a_batch_and_chained_again_is_caught_by_the_seals_count(
    insider: Insider,
) -> None:
    # A forger adds a payment inside the last batch and chains every row after it again:
    # every hash fits, but the batch's seal counts one fact fewer than precede it.
    ids = insider.ids()
    paid = insider.id_of("DisbursementRecorded")
    stream, _version, topic, state = insider.get(paid)
    versions = [insider.get(i)[1] for i in ids if insider.get(i)[0] == stream]
    forged_at = ids[-3]  # the first of the last two facts before the seal
    tail = [insider.get(i) for i in ids[ids.index(forged_at) :]]
    forged_row = (stream, max(versions) + 1, topic, state)
    rows = [forged_row, *tail]

    def renumber(index: int, envelope: dict[str, Any]) -> None:
        chain = envelope["chain"]
        assert isinstance(chain, dict)
        chain["position"] = parse_json(tail[0][3])["chain"]["position"] + index
        if index == 0:
            chain["previous"] = parse_json(tail[0][3])["chain"]["previous"]

    states = rechained(rows, renumber)
    # Each row moves one place on: the forged one takes the first place, the seal a new row.
    moved = [(row[0], row[1], row[2], new) for row, new in zip(rows, states, strict=True)]
    for row_id, row in zip(ids[ids.index(forged_at) :], moved, strict=False):
        insider.put(row_id, row)
    insider.insert(moved[-1])

    found = verify(insider).first_break
    assert found is not None, "a fact slipped into a batch passed"
    assert found.type == "BatchSealed"
    assert found.stream == "chain"
    assert "seals a batch of" in found.problem


def test_over_http_an_unreadable_fact_is_a_one_line_422_and_verify_names_it(
    insider: Insider,
) -> None:
    pytest.importorskip("starlette")
    from starlette.testclient import TestClient

    from biv_adapters.http.app import create_app
    from biv_adapters.http.auth import Access
    from biv_adapters.http.tokens import MemoryTokens

    ids = insider.ids()
    paid = insider.id_of("DisbursementRecorded")
    tail = ids[ids.index(paid) :]

    def null_note(index: int, envelope: dict[str, Any]) -> None:
        if index == 0:
            envelope["event"]["note"] = None

    for row, state in zip(tail, rechained([insider.get(r) for r in tail], null_note), strict=True):
        insider.set_state(row, state)
    ledger = open_ledger(insider.url)
    try:
        app = create_app(ledger, Access(MemoryTokens(), require_tokens=False, local_user="t"))
        with TestClient(app, base_url="http://127.0.0.1", raise_server_exceptions=False) as client:
            history = client.get(f"/agreements/{CASE}/history")
            verified = client.get("/audit/verify")
    finally:
        ledger.close()
    assert history.status_code == 422
    assert history.json()["field"] == "note"
    stream, version, topic, state = insider.get(paid)
    named = (
        f"chain position {parse_json(state)['chain']['position']}: {topic} of {stream} v{version}"
    )
    assert named in history.json()["reason"]
    assert verified.status_code == 200
    body = verified.json()
    assert body["intact"] is False
    assert body["first_break"] is None
    assert f"row {paid}, {named}" in body["problems"][0]
