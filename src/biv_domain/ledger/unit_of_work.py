"""A unit of work: the states a batch of commands needs, loaded once, and the events it decides.

The ledger decides every line of a batch against the states as this batch
has changed them so far, then stores the pending events together, or none.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Protocol, TypeVar

from biv_domain.ledger.bookkeeping import MemberClosed, MemberJoined, group_stream, members_stream
from biv_domain.ledger.members import MemberDays, keep_added, member_days, overlapping
from biv_domain.model import group
from biv_domain.model.dates import Period
from biv_domain.model.events import FollowUpScheduled, GroupCancelled, GroupCompleted, GroupPlanned
from biv_domain.model.fact import Fact
from biv_domain.model.group import GroupState

S = TypeVar("S")
E = TypeVar("E")

StateCache = dict[str, tuple[Callable[..., Any], Any, int]]
"""States folded by earlier batches of this process, by stream: (fold, state, version).

Facts are never changed once stored, so a state at version v stays right; a batch
folds on it only the facts stored after v, whoever stored them."""
STATES_KEPT = 50_000
LARGE_BATCH = 1_000  # lines: a batch of this many keeps the cycle collector paused


@contextmanager
def collector_paused(pause: bool) -> Iterator[None]:
    """Pauses Python's cycle collector while a large batch is decided and stored.

    Every object a batch makes (states, events, rows, placed facts) lives until it
    is stored, so the collector, run every few hundred allocations, scanned them
    again and again to find no garbage: 15 % of a 20,000-line import. Reference
    counting still frees what dies; the cycle collector runs again afterwards.
    """
    if not pause or not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


class StreamReader(Protocol):
    """What a batch reads of the store: the ledger's one read path for streams."""

    def stream(self, stream: str, *, after: int = 0) -> Iterable[Fact]:
        """The stream's facts after its version `after`, in order."""
        ...

    def last_fact(self, stream: str) -> Fact | None:
        """The stream's last fact only."""
        ...

    def existing_streams(self, streams: Sequence[str]) -> set[str]:
        """Which of these streams hold a fact, in one question."""
        ...


class Kept:
    """What this process's batches keep for its next ones, in one place.

    The states they folded and the agreements' indexes of members, each at its
    version; the chain position up to which all of it is the store's truth
    (`through`: nobody else stored since this process's last batch while the chain's
    head is still there); which streams are so (`exact`: read not at all); whether the
    store is marked as of this code's format; and whether it requires an actor.
    Facts are never changed once stored, so what is kept at version v stays right:
    a batch folds on it only the facts stored after v, whoever stored them.
    """

    def __init__(self) -> None:
        self.states: StateCache = {}
        self.members: dict[str, tuple[MemberDays, int]] = {}
        self.exact: set[str] = set()
        self.through: int | None = None  # None: not known yet
        self.format_marked = False
        self.actor_required: bool | None = None

    def as_stored(self, head: int) -> bool:
        """Whether nobody else stored since this process's last batch (the chain's head is at
        `head`); if somebody did, what they may have changed is read again."""
        if head == self.through:
            return True
        self.exact.clear()
        self.actor_required = None
        return False

    def members_version(self, stream: str) -> int | None:
        """An index of members' version as kept, when it is as stored (None: read it)."""
        kept = self.members.get(stream)
        return kept[1] if kept is not None and stream in self.exact else None

    def groups_stored(
        self, reader: StreamReader, case_number: str, window: Period, exact: bool
    ) -> list[str]:
        """The agreement's stored groups that can have met in the window (its index of members).

        The index as folded by this process's earlier batches is kept by version: only
        the index facts stored since are read (it was read whole for each report
        submitted, ~110 facts at the end of an agreement's seven years), none when
        `exact` (nothing was stored since).
        """
        stream = members_stream(case_number)
        days, version = self.members.get(stream, ({}, 0))
        if exact and stream in self.members:
            return overlapping(days, window)
        new = list(reader.stream(stream, after=version))
        if new:
            days = member_days(new, "group", days)
            version = new[-1].originator_version
            if len(self.members) > STATES_KEPT:
                self.members.clear()
            self.members[stream] = (days, version)
        return overlapping(days, window)

    def stored(self, batch: Batch, facts: Sequence[Fact], position: int) -> None:
        """The batch is stored, and the chain's head is at `position`: what it folded and the
        indexes it added to are kept, as stored (nobody else stored in between, or this
        batch's seal would have collided)."""
        batch.stored(self.exact)
        if len(self.members) > STATES_KEPT:
            self.members.clear()
        self.exact.update(keep_added(self.members, facts))
        self.through = position


class Batch:
    """A unit of work: states loaded once, events decided in order, stored together."""

    def __init__(self, reader: StreamReader, kept: Kept | None = None) -> None:
        """`reader` reads the store's streams; `kept` is what earlier batches of this process
        kept (None: nothing). The streams it names `exact` are as stored: taken as they
        are, not read again; an index of members it keeps gives its version to `exists`."""
        self._reader = reader
        self._kept = kept if kept is not None else Kept()
        self._known = self._kept.states
        self._exact = self._kept.exact
        self._folds: dict[str, Callable[..., Any]] = {}
        self._indexes: set[str] = set()  # the member indexes read (`groups_of`)
        self._states: dict[str, tuple[Any, int]] = {}
        self.pending: list[tuple[str, int, Any]] = []
        # The groups planned in this batch, by agreement, kept as they are recorded,
        # so that `groups_of` never scans the pending events (quadratic in the batch).
        self._planned: dict[str, dict[str, None]] = {}

    def prefetch(self, streams: Sequence[str]) -> None:
        """Learns in one question which of these streams exist, sparing a read of each.

        A stream found empty is known to be at version 0; one that exists is read
        when it is first asked for, as before.
        """
        known = self._known
        # A stream kept by an earlier batch exists, or is kept with its version: not asked.
        unknown = [s for s in dict.fromkeys(streams) if s not in self._states and s not in known]
        if not unknown:
            return
        found = self._reader.existing_streams(unknown)
        for stream in unknown:
            if stream not in found:
                self._states[stream] = (None, 0)

    def state(self, stream: str, fold: Callable[[S | None, Any], S]) -> S | None:
        if stream not in self._states:
            state: S | None = None
            version = 0
            facts = None
            cached = self._known.get(stream)
            if cached is not None and cached[0] is fold:
                # Folded by an earlier batch of this process: only the facts since.
                _fold, state, version = cached
                facts = () if stream in self._exact else self._reader.stream(stream, after=version)
            for fact in facts if facts is not None else self._reader.stream(stream):
                state, version = fold(state, fact.event), fact.originator_version
            self._states[stream] = (state, version)
            self._folds[stream] = fold
        elif stream not in self._folds and self._states[stream][1] == 0:
            self._folds[stream] = fold  # found empty by `prefetch`: kept once recorded
        return self._states[stream][0]  # type: ignore[no-any-return]

    def stored(self, exact: set[str] | None = None) -> None:
        """The batch is stored: the states it folded are known at their new versions.

        `exact` gains the streams whose kept state or index is now as stored, and
        loses those this batch wrote without keeping (a member index it added to).
        """
        if len(self._known) > STATES_KEPT:
            self._known.clear()  # a bound on memory; they are folded again when asked
            if exact is not None:
                exact.clear()
        for stream, fold in self._folds.items():
            state, version = self._states[stream]
            self._known[stream] = (fold, state, version)
        if exact is not None:
            exact.update(self._folds)
            exact.update(self._indexes)
            exact.difference_update(s for s, _, _ in self.pending if s not in self._folds)

    def exists(self, stream: str) -> bool:
        if stream not in self._states:
            kept = self._kept.members_version(stream)
            if kept is not None:
                self._states[stream] = (None, kept)  # its version is all `record` needs
                return kept > 0
            last = self._reader.last_fact(stream)  # the stream's last fact only, not all of it
            self._states[stream] = (last, last.originator_version if last else 0)
        return self._states[stream][1] > 0

    def groups_of(self, case_number: str, window: Period) -> list[GroupState]:
        """The agreement's groups that can have met in the window, as stored and as changed here.

        Groups planned in this batch are all included: a report ignores those
        that did not meet in the window.
        """
        index = members_stream(case_number)
        self._indexes.add(index)
        stored = self._kept.groups_stored(self._reader, case_number, window, index in self._exact)
        refs = dict.fromkeys(stored)
        refs.update(self._planned.get(case_number, {}))
        states = [self.state(group_stream(ref), group.evolve) for ref in refs]
        return [s for s in states if s is not None]

    def record(self, stream: str, events: Sequence[E], fold: Callable[[Any, E], Any]) -> None:
        state, version = self._states.get(stream, (None, 0))
        for event in events:
            version += 1
            state = fold(state, event)
            self.pending.append((stream, version, event))
        self._states[stream] = (state, version)
        for event in events:
            if isinstance(event, GroupPlanned):
                self._planned.setdefault(event.case_number, {})[event.group_ref] = None
                self._join(
                    event.case_number, MemberJoined("group", event.group_ref, event.starts_on)
                )
            elif isinstance(event, GroupCompleted | GroupCancelled):
                assert isinstance(state, GroupState)
                self._join(state.case_number, MemberClosed("group", event.group_ref, event.on))
            elif isinstance(event, FollowUpScheduled):
                self._join(event.case_number, MemberJoined("follow_up", event.follow_up_ref))

    def _join(self, case_number: str, member: MemberJoined | MemberClosed) -> None:
        stream = members_stream(case_number)
        self.exists(stream)  # loads the index's version, so the new fact follows it
        self.record(stream, [member], lambda _state, event: event)
