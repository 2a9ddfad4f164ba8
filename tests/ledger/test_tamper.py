"""Tamper evidence: someone with access to the database changes the stored rows.

On SQLite and on PostgreSQL, the Linköping history is recorded, then its rows
are tampered with directly, as an insider with the database password could:
a payload changed, a row deleted, two rows swapped, a forged row inserted.
`biv audit verify` catches each and names the row. A digest kept outside the
system catches even a forger who rewrites the chain after the changed fact.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from attrs import evolve

from biv_adapters.cli import main
from biv_adapters.demo import record_linkoping
from biv_adapters.stores.registry import open_ledger, sqlite_path
from biv_domain.ledger.envelope import read
from biv_domain.ledger.verification import Break, Digest, Verification
from biv_domain.model.events import DisbursementRecorded
from biv_domain.model.money import Money
from tests.conftest import DURABLE, POSTGRES_URL, durable_store
from tests.rechain import rechained

Row = tuple[str, int, str, bytes]  # stream, version, type, stored bytes


class StoredRows:
    """The store's rows, reached around the ledger as an insider would."""

    def __init__(self, url: str, schema: str | None) -> None:
        self.url, self.schema = url, schema
        if schema is None:
            self.connection: Any = sqlite3.connect(sqlite_path(url))
            self.table, self.id, self.mark = "stored_events", "rowid", "?"
        else:
            import psycopg

            assert POSTGRES_URL
            self.connection = psycopg.connect(POSTGRES_URL, autocommit=True)
            self.table, self.id, self.mark = f'"{schema}".biv_events', "notification_id", "%s"

    def _run(self, sql: str, *params: object) -> list[Any]:
        cursor = self.connection.execute(sql.replace("?", self.mark), params)
        rows = cursor.fetchall() if cursor.description else []
        if self.schema is None:
            self.connection.commit()
        return list(rows)

    def ids(self) -> list[int]:
        return [r[0] for r in self._run(f"SELECT {self.id} FROM {self.table} ORDER BY {self.id}")]

    def get(self, row_id: int) -> Row:
        [row] = self._run(
            f"SELECT originator_id, originator_version, topic, state FROM {self.table} "
            f"WHERE {self.id} = ?",
            row_id,
        )
        return (row[0], row[1], row[2], bytes(row[3]))

    def id_of(self, topic: str) -> int:
        return int(
            self._run(f"SELECT MIN({self.id}) FROM {self.table} WHERE topic = ?", topic)[0][0]
        )

    def set_state(self, row_id: int, state: bytes) -> None:
        self._run(f"UPDATE {self.table} SET state = ? WHERE {self.id} = ?", state, row_id)

    def delete(self, row_id: int) -> None:
        self._run(f"DELETE FROM {self.table} WHERE {self.id} = ?", row_id)

    def put(self, row_id: int, row: Row) -> None:
        self._run(
            f"UPDATE {self.table} SET originator_id = ?, originator_version = ?, topic = ?, "
            f"state = ? WHERE {self.id} = ?",
            *row,
            row_id,
        )

    def swap(self, a: int, b: int) -> None:
        row_a, row_b = self.get(a), self.get(b)
        self.put(a, (f"moving-{uuid.uuid4()}", 0, row_a[2], row_a[3]))  # out of the key's way
        self.put(b, row_a)
        self.put(a, row_b)

    def insert(self, row: Row) -> int:
        self._run(
            f"INSERT INTO {self.table} (originator_id, originator_version, topic, state) "
            "VALUES (?, ?, ?, ?)",
            *row,
        )
        return self.ids()[-1]

    def close(self) -> None:
        self.connection.close()


@pytest.fixture(params=DURABLE)
def rows(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoredRows]:
    """A store holding the Linköping history, and its rows."""
    with durable_store(request.param, tmp_path) as (url, schema):
        ledger = open_ledger(url, actor="Linköpings kommun, registrator")
        record_linkoping(ledger)
        assert ledger.verify_chain().intact
        ledger.close()
        stored = StoredRows(url, schema)
        yield stored
        stored.close()


def verify(rows: StoredRows, digest: Digest | None = None) -> Verification:
    ledger = open_ledger(rows.url)
    try:
        return ledger.verify_chain(digest)
    finally:
        ledger.close()


def first_break(rows: StoredRows, digest: Digest | None = None) -> Break:
    result = verify(rows, digest)
    assert result.first_break is not None, "the tampering went unnoticed"
    return result.first_break


def test_a_changed_payload_is_caught_at_its_row(rows: StoredRows) -> None:
    paid = rows.id_of("DisbursementRecorded")
    stream, version, _topic, state = rows.get(paid)
    rows.set_state(paid, state.replace(b'"150250.00"', b'"250250.00"'))

    found = first_break(rows)
    assert found.notification_id == paid
    assert "does not match its hash" in found.problem
    assert (found.stream, found.version) == (stream, version)


def test_a_deleted_row_is_caught_where_the_gap_is(rows: StoredRows) -> None:
    ids = rows.ids()
    removed = ids[40]
    rows.delete(removed)

    found = first_break(rows)
    assert found.notification_id == ids[41]
    assert "position 41 is missing" in found.problem


def test_two_swapped_rows_are_caught_at_the_first(rows: StoredRows) -> None:
    ids = rows.ids()
    rows.swap(ids[10], ids[20])

    found = first_break(rows)
    assert found.notification_id == ids[10]
    assert "missing" in found.problem or "moved" in found.problem


def test_a_forged_row_is_caught_where_it_was_slipped_in(rows: StoredRows) -> None:
    # A second payment, copied from the first, added as the agreement's next version.
    stream, _version, topic, state = rows.get(rows.id_of("DisbursementRecorded"))
    agreement_versions = [rows.get(i)[1] for i in rows.ids() if rows.get(i)[0] == stream]
    forged = rows.insert((stream, max(agreement_versions) + 1, topic, state))

    found = first_break(rows)
    assert found.notification_id == forged
    assert "slipped in" in found.problem


def test_a_forger_who_rewrites_the_chain_is_caught_by_the_auditors_digest(
    rows: StoredRows, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["audit", "digest", "--store", rows.url]) == 0
    digest = Digest.parse(capsys.readouterr().out)

    # Change the first payment and recompute every hash after it, so the chain holds. The
    # forger needs no keys: the chain is over the stored bytes, sealed fields and all.
    ids = rows.ids()
    paid = rows.id_of("DisbursementRecorded")
    at = ids.index(paid)
    payment = decode_row(rows, paid)
    changed = evolve(payment, event=evolve(payment.event, amount=Money.kronor(250_250)))
    assert isinstance(changed.event, DisbursementRecorded)

    def pay_more(index: int, envelope: dict[str, Any]) -> None:
        if index == 0:
            envelope["event"] = changed.data()

    tail = ids[at:]
    for row_id, state in zip(tail, rechained([rows.get(i) for i in tail], pay_more), strict=True):
        rows.set_state(row_id, state)

    assert verify(rows).intact  # the chain alone cannot tell
    found = first_break(rows, digest)
    assert found.position == digest.position
    assert "digest" in found.problem
    assert main(["audit", "verify", "--digest", str(digest), "--store", rows.url]) == 1
    assert "the chain breaks at" in capsys.readouterr().err


def test_a_digest_proves_the_history_up_to_it_and_that_later_facts_extend_it(
    rows: StoredRows, capsys: pytest.CaptureFixture[str]
) -> None:
    ledger = open_ledger(rows.url)
    digest = ledger.digest()
    assert digest is not None
    ledger.execute(_payment(), actor="Anna, ekonom")
    ledger.close()

    assert main(["audit", "verify", "--digest", str(digest), "--store", rows.url]) == 0
    out = capsys.readouterr().out
    assert f"the history up to {digest.position} is unchanged" in out
    assert "the 2 facts since extend it" in out  # the payment and its batch's seal


def stored_row(rows: StoredRows, row_id: int) -> Any:
    from eventsourcing.persistence import StoredEvent

    stream, version, topic, state = rows.get(row_id)
    return StoredEvent(stream, version, topic, state)


def decode_row(rows: StoredRows, row_id: int) -> Any:
    return read(stored_row(rows, row_id))


def _payment() -> Any:
    from datetime import date

    from biv_domain.model.commands import RecordDisbursement

    return RecordDisbursement("Dnr 2016-292", Money.kronor(1000), date(2024, 1, 15))
