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
in-memory storage; a store plugin supplies its own (`biv_adapters.stores.views`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Collection, Iterator, Sequence
from typing import Any

from eventsourcing.application import Application
from eventsourcing.persistence import Notification

from biv_domain.model.fact import Fact
from biv_domain.projections.fiscal_year import TOPICS, FundingFold, FundingRows

Progress = Callable[[int], object]
# Facts a page: one query each (a round trip on PostgreSQL); 10,000 of the view's small rows
# are a few MB, read and folded before the next page is asked for.
PAGE = 10_000


class FundingView(ABC):
    """The funding read model of one store."""

    name = "funding"

    def __init__(self, ledger: Application[str]) -> None:
        self.ledger = ledger
        # Where this process last left the view (a position its own transaction moved it
        # to, or found it at), so that `follow` can apply a batch without reading it back.
        # None: not known, or a catch-up failed on the way.
        self._left_at: int | None = None

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

    def rows_of(self, case_numbers: Collection[str]) -> FundingRows:
        """The stored rows of these agreements only (a store may answer it without reading all)."""
        rows = self.rows()
        return FundingRows(
            agreements={k: v for k, v in rows.agreements.items() if k in case_numbers},
            lines={k: v for k, v in rows.lines.items() if k[0] in case_numbers},
        )

    def catch_up(self, progress: Progress | None = None) -> int:
        """Applies the facts recorded since the view's position; returns how many it passed.

        Only the rows of the agreements the page's facts name are read and written,
        so that a write's catch-up costs what the write changed, not the whole view.
        """
        passed = 0
        self._left_at = None
        while True:
            start = self.position()
            head = self._head()
            if start >= head:
                self._left_at = start
                return passed
            page, position = self._page(start, head)
            events = list(_events(self.ledger, page))
            touched = {str(getattr(e, "case_number", "")) for e in events}
            # Most batches hold no funding facts: nothing to read, only the position to move.
            rows = self.rows_of(touched) if touched else FundingRows()
            changed = FundingFold()
            base = FundingFold(rows)
            for event in events:
                base.apply(event, changed)
            if self._advance(start, position, base.rows(), changed.rows()):
                passed += position - start
                if progress:
                    progress(position - start)
                if position >= head:
                    self._left_at = position
                    return passed  # caught up to the head read above; a later write catches up

    def follow(self, events: Sequence[object], position: int | None) -> bool:
        """Applies a batch this process just stored, whose last notification is `position`
        (None: it stored nothing), from the batch's own events: nothing is read back.

        The ledger calls it only when nobody else stored between this process's
        previous batch and this one (the chain's head said so), so every fact after
        where this process left the view is this batch's. False, with nothing done,
        when that place is not known or the view is no longer there (another process
        caught it up or rebuilt it): then `catch_up` reads the facts as usual.
        """
        expected, self._left_at = self._left_at, None
        if expected is None:
            return False
        if position is None:
            self._left_at = expected  # nothing stored since: the view is where it was left
            return True
        rows, changed = self._changes(events)
        if not self._advance(expected, position, rows, changed):
            return False
        self._left_at = position
        return True

    def in_batch(self, events: Sequence[object]) -> BatchFollow | None:
        """The view's part of a batch about to be stored, for the store's recorder to write
        in the batch's own transaction (see `BatchFollow`); None where this view cannot,
        or does not know where it was left (then `follow` or `catch_up`, after)."""
        return None

    def moved_to(self, position: int) -> None:
        """A batch's transaction moved the view to `position` (its `BatchFollow` did)."""
        self._left_at = position

    def _changes(
        self,
        events: Sequence[object],
        rows_of: Callable[[Collection[str]], FundingRows] | None = None,
    ) -> tuple[FundingRows, FundingRows]:
        """The rows these events touch, after them, and the rows they change (the stored
        rows read by `rows_of`, by default the view's own)."""
        read = [event for event in events if type(event).__name__ in TOPICS]
        touched = {str(getattr(event, "case_number", "")) for event in read}
        stored = (rows_of or self.rows_of)(touched) if touched else None
        changed, base = FundingFold(), FundingFold(stored)
        for event in read:
            base.apply(event, changed)
        return base.rows(), changed.rows()

    def rebuild(self, progress: Progress | None = None) -> int:
        """Folds every fact from scratch and swaps the result in; returns how many it passed."""
        fold, head = FundingFold(), self._head()
        self._fold_pages(fold, 0, head, progress)
        self._replace(head, fold.rows())
        return head

    def _fold_pages(
        self, fold: FundingFold, position: int, head: int, progress: Progress | None = None
    ) -> None:
        """Applies the view's facts after `position` up to `head` to `fold`, a page at a time."""
        while position < head:
            page, reached = self._page(position, head)
            for event in _events(self.ledger, page):
                fold.apply(event)
            if progress:
                progress(reached - position)
            position = reached

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
        position, head = self.position(), self._head()
        fold = FundingFold(self.rows())
        self._fold_pages(fold, position, head)
        return fold.rows()


class BatchFollow:
    """A view's changes for a batch, written by the store's recorder in the batch's own
    transaction, after its facts, so that following a batch costs no commit of its own.

    The recorder calls it with its cursor and the batch's last notification id; it
    sets `moved` when the view was where this process left it and now stands there.
    It must never undo the batch: a store's view writes it under a savepoint.
    """

    def __init__(
        self,
        write: Callable[[Any, int, int, Sequence[object]], bool],
        expected: int,
        events: Sequence[object],
    ) -> None:
        self._write, self._expected, self._events = write, expected, events
        self.moved = False

    def __call__(self, cursor: Any, position: int) -> None:
        self.moved = self._write(cursor, self._expected, position, self._events)


def _events(ledger: Application[str], page: list[Notification]) -> Iterator[object]:
    for notification in page:
        fact = ledger.mapper.to_domain_event(notification)
        assert isinstance(fact, Fact)
        yield fact.event


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
        # `rows` holds only the agreements this page touched: the changed rows merge in.
        merged = FundingFold(self._rows)
        merged.agreements.update(changed.agreements)
        merged.lines.update(changed.lines)
        self._rows, self._position = merged.rows(), position
        return True

    def _replace(self, position: int, rows: FundingRows) -> None:
        self._rows, self._position = rows, position


FundingViewFactory = Callable[[Application[str]], FundingView]
