"""Read models, kept beside the facts and tracked by position.

The funding view holds every agreement's current funding lines, so that
questions across agreements ("what does the municipality commit in 2023?")
need not replay every agreement. It is kept up to date by tracked position:
each page of facts is applied in the same transaction that moves the view's
position past it, so every fact counts exactly once, however many processes
catch up at the same time. `rebuild` folds every fact from scratch and swaps
the result in atomically.

What a fact does to the rows is decided in `biv_domain.projections.fiscal_year`;
a view only stores rows. This module holds the view's behaviour and its
in-memory storage; a store plugin supplies its own (`biv_adapters.sql_views`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator

from eventsourcing.application import Application
from eventsourcing.persistence import Notification

from biv_domain.model.fact import Fact
from biv_domain.projections.fiscal_year import TOPICS, FundingRows

Progress = Callable[[int], object]
PAGE = 2000


class FundingView(ABC):
    """The funding read model of one store."""

    name = "funding"

    def __init__(self, ledger: Application[str]) -> None:
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

    def current_rows(self) -> FundingRows:
        """The rows as of the store's head, written nowhere: the stored rows and the facts since.

        A read never writes, and a view that lags behind (a write whose catch-up
        failed) still answers as if it were up to date; the next write catches up.
        """
        position, rows, head = self.position(), self.rows(), self._head()
        while position < head:
            page, reached = self._page(position, head)
            for event in _events(self.ledger, page):
                rows = rows.apply(event)
            position = reached
        return rows


def _events(ledger: Application[str], page: list[Notification]) -> Iterator[object]:
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

    def __init__(self, ledger: Application[str]) -> None:
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


FundingViewFactory = Callable[[Application[str]], FundingView]
