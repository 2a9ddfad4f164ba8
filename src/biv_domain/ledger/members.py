"""An agreement's index of members: its groups and follow-ups, with the days they span.

The index (`bookkeeping.MemberJoined`, `MemberClosed`) lets a question find an
agreement's groups without reading other agreements' facts, and a report read
only the groups that can have met in its window.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from threading import Lock

from biv_domain.ledger.bookkeeping import MemberClosed, MemberJoined
from biv_domain.model.dates import Period
from biv_domain.model.fact import Fact

MemberDays = dict[str, tuple[date | None, date | None]]
"""An agreement's members of one kind, in the order they joined: ref -> (first day, closing day)."""


def member_days(facts: Iterable[Fact], kind: str, days: MemberDays | None = None) -> MemberDays:
    """The index of members folded (on `days`, when given, which is left as it was)."""
    days = dict(days or {})
    for fact in facts:
        event = fact.event
        if isinstance(event, MemberJoined) and event.kind == kind:
            days[event.ref] = (event.starts_on, None)
        elif isinstance(event, MemberClosed) and event.kind == kind:
            days[event.ref] = (days[event.ref][0], event.on)
    return days


def overlapping(days: MemberDays, period: Period | None) -> list[str]:
    """The members whose days (first day to closing day) meet the period; all without one."""
    if period is None:
        return list(days)
    return [
        ref
        for ref, (first, last) in days.items()
        if (first is None or first <= period.end) and (last is None or last >= period.start)
    ]


def keep_added(kept: dict[str, tuple[MemberDays, int]], facts: Iterable[Fact]) -> list[str]:
    """Folds a stored batch's index facts into the indexes `kept` (by stream: the groups'
    days and the version folded); returns the streams now kept as stored.

    Only an index kept right up to the batch's first fact on it (or a new one) is kept;
    one that others added to meanwhile is dropped, to be read again when asked for.
    """
    added: dict[str, list[Fact]] = {}
    for fact in facts:
        if isinstance(fact.event, MemberJoined | MemberClosed):
            added.setdefault(fact.originator_id, []).append(fact)
    now_kept = []
    for stream, new in added.items():
        days, version = kept.get(stream, ({}, 0))
        if new[0].originator_version != version + 1:
            kept.pop(stream, None)
            continue
        kept[stream] = (member_days(new, "group", days), new[-1].originator_version)
        now_kept.append(stream)
    return now_kept


INDEXES_KEPT = 1024
"""Indexes of members a reader keeps (about 100 facts each): those it was last asked about."""


class KeptIndexes:
    """The indexes of members a reader has read, kept between its questions by stream.

    Every question about an agreement reads its index first (a page of its history, its
    budget, its report), and decoding the index was a fifth of a page's time. An index
    holds no participant's data and is only ever appended to, so what was read stays
    true: a question reads only the rows after the last one kept (one query, most often
    answering none) and filters by its own moment (`model.fact.known_at`).
    """

    def __init__(self) -> None:
        # In the order last asked (a dict keeps it): the first is dropped when full. The lock
        # is for the HTTP service's threads, which read side by side: held while the dict is
        # changed, never while a store is read.
        self._kept: dict[str, tuple[Fact, ...]] = {}
        self._lock = Lock()

    def facts(self, stream: str, after: Callable[[str, int], Iterable[Fact]]) -> tuple[Fact, ...]:
        """Every fact of the index, those after the kept ones read by `after(stream, version)`.

        Two threads asking at once may each keep what they read: either is the index as
        stored at some moment, and the next question reads only what follows it.
        """
        kept = self._kept.get(stream, ())
        version = kept[-1].originator_version if kept else 0
        kept += tuple(after(stream, version))
        with self._lock:
            self._kept.pop(stream, None)  # put back last: the most recently asked
            if len(self._kept) >= INDEXES_KEPT:
                del self._kept[next(iter(self._kept))]
            self._kept[stream] = kept
        return kept
