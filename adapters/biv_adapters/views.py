"""Persistent read models, kept in the ledger's own store and tracked by position.

The funding view holds every agreement's current funding lines, so that
questions across agreements ("what does the municipality commit in 2023?")
need not replay every agreement. It is kept up to date by tracked position:
each page of facts is applied in the same transaction that moves the view's
position past it, so every fact counts exactly once, however many processes
catch up at the same time. `rebuild` folds every fact from scratch and swaps
the result in atomically.

What a fact does to the rows is decided in `biv_domain.funding_view`; this
module only stores rows: in memory, in SQLite or in PostgreSQL.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

from eventsourcing.persistence import Notification
from eventsourcing.postgres import PostgresDatastore
from eventsourcing.sqlite import SQLiteDatastore

from biv_domain.agreement import FundingKey
from biv_domain.budget import FundingLine, Split
from biv_domain.facts import Fact
from biv_domain.funding_view import (
    TOPICS,
    AgreementRow,
    FiscalYear,
    FundingRows,
    LineRow,
    fiscal_year,
)
from biv_domain.ledger import Ledger
from biv_domain.money import Money
from biv_domain.vocabulary import Party

Progress = Callable[[int], object]
PAGE = 2000


class FundingView(ABC):
    """The funding read model of one store."""

    name = "funding"

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger

    # --- What each store provides -------------------------------------------------------------

    @abstractmethod
    def position(self) -> int:
        """The last notification the view has applied (0 when none)."""

    @abstractmethod
    def rows(self) -> FundingRows:
        """The view's rows as stored."""

    @abstractmethod
    def _advance(
        self, expected: int, position: int, rows: FundingRows, changed: FundingRows
    ) -> bool:
        """Writes the changed rows and moves the position on from `expected`.

        False, and nothing written, when another process moved the position first.
        """

    @abstractmethod
    def _replace(self, position: int, rows: FundingRows) -> None:
        """Replaces every row and the position at once."""

    # --- Shared behaviour ---------------------------------------------------------------------

    def catch_up(self, progress: Progress | None = None) -> int:
        """Applies the facts recorded since the view's position; returns how many it passed."""
        passed = 0
        while True:
            start = self.position()
            head = self._head()
            if start >= head:
                return passed
            page, position = self._page(start, head)
            rows = self.rows()
            changed = FundingRows()
            for event in _events(self.ledger, page):
                rows_after = rows.apply(event)
                changed = _changes(changed, rows, rows_after)
                rows = rows_after
            if self._advance(start, position, rows, changed):
                passed += position - start
                if progress:
                    progress(position - start)

    def rebuild(self, progress: Progress | None = None) -> int:
        """Folds every fact from scratch and swaps the result in; returns how many it passed."""
        rows, position, head = FundingRows(), 0, self._head()
        while position < head:
            page, reached = self._page(position, head)
            for event in _events(self.ledger, page):
                rows = rows.apply(event)
            if progress:
                progress(reached - position)
            position = reached
        self._replace(position, rows)
        return position

    def _head(self) -> int:
        return self.ledger.recorder.max_notification_id() or 0

    def _page(self, after: int, head: int) -> tuple[list[Notification], int]:
        """The view's facts after `after` up to `head`, a page of them, and the position reached.

        The store picks out the view's topics itself, so the facts the view
        does not read are never sent, let alone decoded.
        """
        page = list(
            self.ledger.recorder.select_notifications(
                start=after, limit=PAGE, stop=head, topics=TOPICS, inclusive_of_start=False
            )
        )
        return page, head if len(page) < PAGE else page[-1].id

    def fiscal_year(
        self, year: int, split: Split = Split.MONTHS, municipality: str | None = None
    ) -> FiscalYear:
        """Every agreement's funding in a fiscal year, after catching up."""
        self.catch_up()
        return fiscal_year(self.rows(), year, split, municipality)


def _events(ledger: Ledger, page: list[Notification]) -> Iterator[object]:
    for notification in page:
        fact = ledger.mapper.to_domain_event(notification)
        assert isinstance(fact, Fact)
        yield fact.event


def _changes(changed: FundingRows, before: FundingRows, after: FundingRows) -> FundingRows:
    agreements = {k: v for k, v in after.agreements.items() if before.agreements.get(k) is not v}
    lines = {k: v for k, v in after.lines.items() if before.lines.get(k) is not v}
    return FundingRows(
        agreements={**changed.agreements, **agreements}, lines={**changed.lines, **lines}
    )


class MemoryFundingView(FundingView):
    """The view of a `memory:` store, which lives as long as the process."""

    def __init__(self, ledger: Ledger) -> None:
        super().__init__(ledger)
        self._rows = FundingRows()
        self._position = 0

    def position(self) -> int:
        return self._position

    def rows(self) -> FundingRows:
        return self._rows

    def _advance(
        self, expected: int, position: int, rows: FundingRows, changed: FundingRows
    ) -> bool:
        if self._position != expected:
            return False
        self._rows, self._position = rows, position
        return True

    def _replace(self, position: int, rows: FundingRows) -> None:
        self._rows, self._position = rows, position


class SqlFundingView(FundingView):
    """The view in SQLite or PostgreSQL tables beside the facts."""

    def __init__(self, ledger: Ledger) -> None:
        super().__init__(ledger)
        datastore = ledger.factory.datastore  # type: ignore[attr-defined]
        self._datastore: SQLiteDatastore | PostgresDatastore = datastore
        postgres = isinstance(datastore, PostgresDatastore)
        prefix = f'"{datastore.schema}".' if postgres else ""
        self._mark = "%s" if postgres else "?"
        self._agreements = f"{prefix}biv_view_agreements"
        self._lines = f"{prefix}biv_view_funding_lines"
        self._tracking = f"{prefix}biv_view_tracking"
        self._create_tables()

    def _sql(self, statement: str) -> str:
        return statement.replace("?", self._mark)

    @contextmanager
    def _transaction(self, *, commit: bool) -> Iterator[Any]:
        with self._datastore.transaction(commit=commit) as cursor:
            yield cursor

    def _create_tables(self) -> None:
        statements = [
            f"CREATE TABLE IF NOT EXISTS {self._agreements} (case_number TEXT PRIMARY KEY, "
            "title TEXT NOT NULL, municipality TEXT NOT NULL, partner TEXT NOT NULL)",
            f"CREATE TABLE IF NOT EXISTS {self._lines} (case_number TEXT NOT NULL, "
            "party TEXT NOT NULL, source TEXT NOT NULL, start_on TEXT NOT NULL, "
            "end_on TEXT NOT NULL, amount_ore BIGINT NOT NULL, decided_on TEXT NOT NULL, "
            "note TEXT NOT NULL, decided_by TEXT, decision_ref TEXT, "
            "PRIMARY KEY (case_number, party, source, start_on, end_on))",
            f"CREATE TABLE IF NOT EXISTS {self._tracking} "
            "(view TEXT PRIMARY KEY, position BIGINT NOT NULL)",
            self._sql(
                f"INSERT INTO {self._tracking} (view, position) VALUES (?, 0) "
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
            c.execute(
                self._sql(f"SELECT position FROM {self._tracking} WHERE view = ?"), (self.name,)
            )
            row = c.fetchone()
        return int(row["position"]) if row else 0

    def rows(self) -> FundingRows:
        with self._transaction(commit=False) as c:
            c.execute(f"SELECT * FROM {self._agreements}")
            agreements = {
                r["case_number"]: AgreementRow(
                    r["case_number"], r["title"], r["municipality"], r["partner"]
                )
                for r in c.fetchall()
            }
            c.execute(f"SELECT * FROM {self._lines}")
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
            # The position moves first: the write lock is taken at once, and a
            # second process that read the same position finds it moved.
            c.execute(
                self._sql(
                    f"UPDATE {self._tracking} SET position = ? WHERE view = ? AND position = ? "
                    "RETURNING position"
                ),
                (position, self.name, expected),
            )
            if c.fetchone() is None:
                return False
            self._write(c, changed)
        return True

    def _replace(self, position: int, rows: FundingRows) -> None:
        with self._transaction(commit=True) as c:
            c.execute(
                self._sql(f"UPDATE {self._tracking} SET position = ? WHERE view = ?"),
                (position, self.name),
            )
            c.execute(f"DELETE FROM {self._agreements}")
            c.execute(f"DELETE FROM {self._lines}")
            self._write(c, rows)

    def _write(self, c: Any, rows: FundingRows) -> None:
        for a in rows.agreements.values():
            c.execute(
                self._sql(
                    f"INSERT INTO {self._agreements} VALUES (?, ?, ?, ?) ON CONFLICT (case_number) "
                    "DO UPDATE SET title = excluded.title, municipality = excluded.municipality, "
                    "partner = excluded.partner"
                ),
                (a.case_number, a.title, a.municipality, a.partner),
            )
        for row in rows.lines.values():
            line = row.line
            c.execute(
                self._sql(
                    f"INSERT INTO {self._lines} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                    "ON CONFLICT (case_number, party, source, start_on, end_on) DO UPDATE SET "
                    "amount_ore = excluded.amount_ore, decided_on = excluded.decided_on, "
                    "note = excluded.note, decided_by = excluded.decided_by, "
                    "decision_ref = excluded.decision_ref"
                ),
                (
                    row.case_number,
                    line.party.value,
                    line.source,
                    line.start.isoformat(),
                    line.end.isoformat(),
                    line.amount.ore,
                    line.decided_on.isoformat(),
                    line.note,
                    line.decided_by,
                    line.decision_ref,
                ),
            )


def open_funding_view(ledger: Ledger) -> FundingView:
    """The funding view of the ledger's store."""
    datastore = getattr(ledger.factory, "datastore", None)
    if isinstance(datastore, SQLiteDatastore | PostgresDatastore):
        return SqlFundingView(ledger)
    return MemoryFundingView(ledger)
