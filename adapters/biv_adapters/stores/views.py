"""The funding view in SQLite or PostgreSQL tables beside the facts.

The behaviour (catching up by tracked position, rebuilding) is the ledger's
(`biv_domain.ledger.read_models`); this module only reads and writes rows.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from typing import TYPE_CHECKING, Any

from eventsourcing.application import Application
from eventsourcing.sqlite import SQLiteDatastore

from biv_domain.ledger.read_models import BatchFollow, FundingView

if TYPE_CHECKING:  # the PostgreSQL extra may not be installed: import it only where it is used
    from eventsourcing.postgres import PostgresDatastore
from biv_domain.model.agreement import FundingKey
from biv_domain.model.money import Money
from biv_domain.model.vocabulary import Party
from biv_domain.projections.budget import FundingLine
from biv_domain.projections.fiscal_year import AgreementRow, FundingRows, LineRow

TABLES = {
    "agreements": "biv_view_agreements",
    "lines": "biv_view_funding_lines",
    "tracking": "biv_view_tracking",
}


class SqlFundingView(FundingView):
    """The view in SQLite or PostgreSQL tables beside the facts."""

    def __init__(self, ledger: Application[str]) -> None:
        super().__init__(ledger)
        datastore = ledger.factory.datastore  # type: ignore[attr-defined]
        self._datastore: SQLiteDatastore | PostgresDatastore = datastore
        postgres = not isinstance(datastore, SQLiteDatastore)
        self._schema: str | None = datastore.schema if postgres else None
        self._mark = "%s" if postgres else "?"
        self._create_tables()

    def _sql(self, statement: str) -> Any:
        """A statement with its tables named: {agreements}, {lines}, {tracking}.

        SQLite's tables have fixed names; PostgreSQL's are quoted in the tenant's
        schema by psycopg.sql.Identifier, so no name is ever spliced into SQL as text.
        """
        if self._schema is None:
            return statement.format(**TABLES)
        from psycopg import sql

        names = {key: sql.Identifier(self._schema, table) for key, table in TABLES.items()}
        return sql.SQL(statement.replace("?", "%s")).format(**names)

    @contextmanager
    def _transaction(self, *, commit: bool) -> Iterator[Any]:
        with self._datastore.transaction(commit=commit) as cursor:
            yield cursor

    def _create_tables(self) -> None:
        statements = [
            self._sql(
                "CREATE TABLE IF NOT EXISTS {agreements} (case_number TEXT PRIMARY KEY, "
                "title TEXT NOT NULL, municipality TEXT NOT NULL, partner TEXT NOT NULL)"
            ),
            self._sql(
                "CREATE TABLE IF NOT EXISTS {lines} (case_number TEXT NOT NULL, "
                "party TEXT NOT NULL, source TEXT NOT NULL, start_on TEXT NOT NULL, "
                "end_on TEXT NOT NULL, amount_ore BIGINT NOT NULL, decided_on TEXT NOT NULL, "
                "note TEXT NOT NULL, decided_by TEXT, decision_ref TEXT, "
                "PRIMARY KEY (case_number, party, source, start_on, end_on))"
            ),
            self._sql(
                "CREATE TABLE IF NOT EXISTS {tracking} "
                "(view TEXT PRIMARY KEY, position BIGINT NOT NULL)"
            ),
            self._sql(
                "INSERT INTO {tracking} (view, position) VALUES (?, 0) "
                "ON CONFLICT (view) DO NOTHING"
            ),
        ]
        if self._mark == "%s":
            # PostgreSQL: two processes creating the same table at once collide
            # in the catalogue, IF NOT EXISTS or not; a lock takes turns.
            with self._transaction(commit=True) as c:
                c.execute("SELECT pg_advisory_xact_lock(hashtext('biv_ddl'))")
                for statement in statements[:-1]:
                    c.execute(statement)
                c.execute(statements[-1], (self.name,))
            return
        # SQLite: one statement a transaction, since a transaction that reads
        # (a CREATE ... IF NOT EXISTS of a table that exists) and then writes
        # fails at once, without waiting, when another process wrote in between.
        for statement in statements[:-1]:
            with self._transaction(commit=True) as c:
                c.execute(statement)
        with self._transaction(commit=True) as c:
            c.execute(statements[-1], (self.name,))

    def position(self) -> int:
        with self._transaction(commit=False) as c:
            c.execute(self._sql("SELECT position FROM {tracking} WHERE view = ?"), (self.name,))
            row = c.fetchone()
        return int(row["position"]) if row else 0

    def rows(self) -> FundingRows:
        return self._select("", ())

    def rows_of(self, case_numbers: Collection[str], c: Any = None) -> FundingRows:
        """Only these agreements' rows: a write's catch-up reads what it may change.

        With a cursor `c`, read in the caller's transaction (a batch's, see `in_batch`)."""
        found = FundingRows()
        names = sorted(case_numbers)
        for start in range(0, len(names), 500):
            chunk = tuple(names[start : start + 500])
            where = f" WHERE case_number IN ({', '.join('?' * len(chunk))})"
            part = self._select(where, chunk) if c is None else self._select_with(c, where, chunk)
            found.agreements.update(part.agreements)
            found.lines.update(part.lines)
        return found

    def _select(self, where: str, params: tuple[str, ...]) -> FundingRows:
        with self._transaction(commit=False) as c:
            return self._select_with(c, where, params)

    def _select_with(self, c: Any, where: str, params: tuple[str, ...]) -> FundingRows:
        c.execute(self._sql("SELECT * FROM {agreements}" + where), params)
        agreements = {
            r["case_number"]: AgreementRow(
                r["case_number"], r["title"], r["municipality"], r["partner"]
            )
            for r in c.fetchall()
        }
        c.execute(self._sql("SELECT * FROM {lines}" + where), params)
        lines = {}
        for r in c.fetchall():
            line = FundingLine(
                Party(r["party"]),
                r["source"],
                date.fromisoformat(r["start_on"]),
                date.fromisoformat(r["end_on"]),
                Money(int(r["amount_ore"])),
                date.fromisoformat(r["decided_on"]),
                r["note"],
                r["decided_by"],
                r["decision_ref"],
            )
            key = FundingKey(line.party, line.source, line.start, line.end)
            lines[(r["case_number"], key)] = LineRow(r["case_number"], line)
        return FundingRows(agreements=agreements, lines=lines)

    def _advance(
        self, expected: int, position: int, rows: FundingRows, changed: FundingRows
    ) -> bool:
        with self._transaction(commit=True) as c:
            if not self._take_position(c, expected, position):
                return False
            self._write(c, changed)
        return True

    def _take_position(self, c: Any, expected: int, position: int) -> bool:
        """Moves the position from `expected`; False when another process moved it first.

        The position moves before the rows are written: the write lock is taken at
        once, and a second process that read the same position finds it moved.
        """
        c.execute(
            self._sql(
                "UPDATE {tracking} SET position = ? WHERE view = ? AND position = ? "
                "RETURNING position"
            ),
            (position, self.name, expected),
        )
        return c.fetchone() is not None

    def in_batch(self, events: Sequence[object]) -> BatchFollow | None:
        if self._left_at is None:
            return None
        return BatchFollow(self._advance_within, self._left_at, events)

    def _advance_within(
        self, c: Any, expected: int, position: int, events: Sequence[object]
    ) -> bool:
        """`_advance` of a batch's events in the batch's transaction, under a savepoint:
        whatever happens to the view, the batch's facts are stored.

        The rows the events change are read there too, once the position is taken (no
        transaction of their own). The savepoint is not released: the batch's COMMIT
        ends it, one round trip fewer on PostgreSQL.
        """
        c.execute("SAVEPOINT biv_view")
        try:
            if not self._take_position(c, expected, position):
                return False
            _rows, changed = self._changes(events, lambda names: self.rows_of(names, c))
            self._write(c, changed)
            return True
        except Exception as error:  # the view lags, and is caught up after the batch
            import logging  # only to warn: a query never loads it

            logging.getLogger(__name__).warning(
                "the funding view did not follow the batch (%s)", type(error).__name__
            )
            c.execute("ROLLBACK TO SAVEPOINT biv_view")
            return False

    def _replace(self, position: int, rows: FundingRows) -> None:
        with self._transaction(commit=True) as c:
            c.execute(
                self._sql("UPDATE {tracking} SET position = ? WHERE view = ?"),
                (position, self.name),
            )
            c.execute(self._sql("DELETE FROM {agreements}"))
            c.execute(self._sql("DELETE FROM {lines}"))
            self._write(c, rows)

    def _write(self, c: Any, rows: FundingRows) -> None:
        # One statement for each table, with every row, not a statement a row.
        if rows.agreements:
            self._insert(
                c,
                "agreements",
                ("text",) * 4,
                [
                    (a.case_number, a.title, a.municipality, a.partner)
                    for a in rows.agreements.values()
                ],
                "ON CONFLICT (case_number) DO UPDATE SET title = excluded.title, "
                "municipality = excluded.municipality, partner = excluded.partner",
            )
        if rows.lines:
            self._insert(
                c,
                "lines",
                ("text",) * 5 + ("bigint",) + ("text",) * 4,
                [
                    (
                        row.case_number,
                        row.line.party.value,
                        row.line.source,
                        row.line.start.isoformat(),
                        row.line.end.isoformat(),
                        row.line.amount.ore,
                        row.line.decided_on.isoformat(),
                        row.line.note,
                        row.line.decided_by,
                        row.line.decision_ref,
                    )
                    for row in rows.lines.values()
                ],
                "ON CONFLICT (case_number, party, source, start_on, end_on) DO UPDATE SET "
                "amount_ore = excluded.amount_ore, decided_on = excluded.decided_on, "
                "note = excluded.note, decided_by = excluded.decided_by, "
                "decision_ref = excluded.decision_ref",
            )

    def _insert(
        self, c: Any, table: str, types: tuple[str, ...], rows: list[tuple[Any, ...]], conflict: str
    ) -> None:
        """The rows in one statement: executemany on SQLite, one INSERT of arrays on PostgreSQL.

        psycopg's executemany runs in pipeline mode, whose sending loop can stop before
        a large message is sent whole (the import's hang; see `postgresql.py`), and a
        rebuild at national scale writes tens of thousands of rows.
        """
        if self._schema is None:
            marks = ", ".join("?" * len(types))
            c.executemany(self._sql(f"INSERT INTO {{{table}}} VALUES ({marks}) {conflict}"), rows)
            return
        arrays = ", ".join(f"?::{kind}[]" for kind in types)
        statement = f"INSERT INTO {{{table}}} SELECT * FROM unnest({arrays}) {conflict}"
        c.execute(self._sql(statement), [list(column) for column in zip(*rows, strict=True)])
