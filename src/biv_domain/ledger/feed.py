"""The change feed: the partnership's facts in chain order after a position, for followers.

A tool that follows the ledger (a diarium link, a payment check, a dashboard) keeps
the chain position of the last fact it handled and asks for the facts after it.
Every stored row has a place in the store's one chain, numbered 1, 2, 3, … with no
gap; the store's own row ids increase with the chain but may skip numbers (a
PostgreSQL sequence after a rolled-back batch), so a position is found by a few
one-row reads (`start_row`), never by a scan.

The feed holds every fact of the partnership and each erasure (`ParticipantErased`);
the ledger's other bookkeeping (applied line ids, the index of members, batch seals,
settings) is left out. A participant erased before a page is read is read as erased:
the keys are read afresh for every page, so a follower never receives the reference
of a child erased before it asked.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from time import sleep
from typing import Any, Protocol

from eventsourcing.persistence import Notification

from biv_domain.ledger.decoding import facts_of
from biv_domain.ledger.envelope import read_envelope
from biv_domain.ledger.subjects import SubjectKeys
from biv_domain.model.events import EVENT_TYPES
from biv_domain.model.fact import Fact

# The stored topics of the feed: every event of the partnership, and erasures.
FEED_TOPICS: tuple[str, ...] = (*sorted(EVENT_TYPES), "ParticipantErased")
DEFAULT_LIMIT = 500
MAX_LIMIT = 10_000
_JUMPS = 64  # one-row reads to find a position before falling back to a scan


class Notifications(Protocol):
    """What the feed needs of an `eventsourcing` recorder."""

    def select_notifications(
        self,
        start: int | None,
        limit: int,
        stop: int | None = None,
        topics: Sequence[str] = (),
        *,
        inclusive_of_start: bool = True,
    ) -> Sequence[Notification]: ...


def start_row(recorder: Notifications, position: int) -> int:
    """The row id after which the fact at chain position `position + 1` is the next row.

    Chain positions are consecutive and row ids increase at least as fast, so the
    row at position `p` has an id of at least `p`, and at least `id(q) + p - q` for a
    row `q` before it: each read jumps to such a bound until the next row is the one.
    """
    if position <= 0:
        return 0
    start = position
    for _ in range(_JUMPS):
        rows = recorder.select_notifications(start, 1, inclusive_of_start=False)
        if not rows:
            return start  # the chain ends at or before `position`
        found = read_envelope(rows[0]).chain.position
        if found == position + 1:
            return start
        if found <= position:
            start = rows[0].id + (position - found)
        else:  # ids below positions: a store this code did not write; go back
            start = max(0, start - (found - position))
            if start == 0:
                return 0
    return 0  # the caller filters by position, so reading from the start is only slower


def facts_after(
    recorder: Notifications,
    keys: SubjectKeys,
    position: int,
    limit: int = DEFAULT_LIMIT,
    topics: Sequence[str] = FEED_TOPICS,
) -> list[Fact]:
    """At most `limit` facts of `topics` after chain position `position`, in chain order."""
    if limit < 1:
        raise ValueError("limit must be at least 1")
    keys.forget()  # an erasure made by another process since the last page is honoured
    start = start_row(recorder, position)
    found: list[Fact] = []
    while len(found) < limit:
        rows = recorder.select_notifications(
            start, limit - len(found), topics=topics, inclusive_of_start=False
        )
        if not rows:
            break
        found += [f for f in facts_of(rows, keys) if f.position > position]
        start = rows[-1].id
    return found


class FeedReads:
    """The change feed's questions, part of every `Ledger` (`LedgerReads` inherits them)."""

    # What `LedgerReads` gives them: the `eventsourcing` recorder and the children's keys.
    recorder: Any
    keys: SubjectKeys

    def facts_after(self, position: int = 0, limit: int = DEFAULT_LIMIT) -> list[Fact]:
        """The partnership's facts after chain position `position`, in chain order, at most
        `limit`: each with its `position` and `hash` in the chain, its two times, actor and
        event. Erasures (`ParticipantErased`) are in it; the ledger's other bookkeeping is not.
        The next page is after the last fact's `position`.
        """
        return facts_after(self.recorder, self.keys, position, limit)

    def follow(
        self,
        after: int = 0,
        *,
        poll: float = 0.5,
        limit: int = DEFAULT_LIMIT,
        stop: Callable[[], bool] = lambda: False,
    ) -> Iterator[Fact]:
        """Every fact after chain position `after`, then each new one as it is stored, for
        ever (or until `stop()` is true): blocks, looking again every `poll` seconds.
        """
        position = after
        while not stop():
            page = self.facts_after(position, limit)
            for fact in page:
                yield fact
                position = fact.position
            if len(page) < limit:
                sleep(poll)


def history_page(
    paged: Callable[[Sequence[str], int, int | None], Sequence[Notification]],
    ids: Sequence[str],
    ledger: FeedReads,
    after: int,
    limit: int | None,
    as_known_at: datetime | None,
) -> list[Fact]:
    """The facts of these streams after chain position `after`, at most `limit` (all: None),
    read from the store (`select_streams_after`) in one query where none is left out, each
    row decoded once: the whole history and each of its pages come from here.

    A page is read again past its last row only where some of its rows were left out (a
    fact recorded after `as_known_at`, or at a position not after `after`)."""
    facts: list[Fact] = []
    start = start_row(ledger.recorder, after)
    while True:
        wanted = None if limit is None else limit - len(facts)
        rows = paged(ids, start, wanted)
        # As every question does: each fact recorded by `as_known_at`.
        facts += [f for f in facts_of(rows, ledger.keys, as_known_at) if f.position > after]
        if wanted is None or len(rows) < wanted or len(facts) == limit:
            break
        start = rows[-1].id
    return facts
