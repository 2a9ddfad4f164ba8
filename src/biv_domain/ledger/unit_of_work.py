"""A unit of work: the states a batch of commands needs, loaded once, and the events it decides.

The ledger decides every line of a batch against the states as this batch
has changed them so far, then stores the pending events together, or none.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

from biv_domain.ledger.bookkeeping import MemberClosed, MemberJoined, group_stream, members_stream
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


class Batch:
    """A unit of work: states loaded once, events decided in order, stored together."""

    def __init__(
        self,
        read: Callable[[str], Iterable[Fact]],
        groups_stored: Callable[[str, Period, bool], list[str]],
        existing: Callable[[Sequence[str]], set[str]] | None = None,
        last: Callable[[str], Fact | None] | None = None,
        known: StateCache | None = None,
        read_after: Callable[[str, int], Iterable[Fact]] | None = None,
        exact: Collection[str] = frozenset(),
        kept_version: Callable[[str], int | None] | None = None,
    ) -> None:
        """`exact` names the streams whose kept state or index is as stored (nothing was
        stored since it was kept): they are taken as they are, not read again.
        `kept_version` gives such a stream's version where the caller keeps it (an
        agreement's index of members), so that `exists` need not read its last fact."""
        self._kept_version = kept_version
        self._read = read
        self._last = last
        self._known = known
        self._read_after = read_after
        self._folds: dict[str, Callable[..., Any]] = {}
        self._groups_stored = groups_stored
        self._existing = existing
        self._exact = exact
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
        if self._existing is None:
            return
        known = self._known if self._known is not None else {}
        # A stream kept by an earlier batch exists, or is kept with its version: not asked.
        unknown = [s for s in dict.fromkeys(streams) if s not in self._states and s not in known]
        if not unknown:
            return
        found = self._existing(unknown)
        for stream in unknown:
            if stream not in found:
                self._states[stream] = (None, 0)

    def state(self, stream: str, fold: Callable[[S | None, Any], S]) -> S | None:
        if stream not in self._states:
            state: S | None = None
            version = 0
            facts = None
            cached = self._known.get(stream) if self._known is not None else None
            if cached is not None and cached[0] is fold and self._read_after is not None:
                # Folded by an earlier batch of this process: only the facts since.
                _fold, state, version = cached
                facts = () if stream in self._exact else self._read_after(stream, version)
            for fact in facts if facts is not None else self._read(stream):
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
        if self._known is None:
            return
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
            kept = self._kept_version(stream) if self._kept_version is not None else None
            if kept is not None:
                self._states[stream] = (None, kept)  # its version is all `record` needs
                return kept > 0
            last = None
            if self._last is not None:
                last = self._last(stream)  # the stream's last fact only, not all of it
            else:
                for fact in self._read(stream):
                    last = fact
            self._states[stream] = (last, last.originator_version if last else 0)
        return self._states[stream][1] > 0

    def groups_of(self, case_number: str, window: Period) -> list[GroupState]:
        """The agreement's groups that can have met in the window, as stored and as changed here.

        Groups planned in this batch are all included: a report ignores those
        that did not meet in the window.
        """
        index = members_stream(case_number)
        self._indexes.add(index)
        refs = dict.fromkeys(self._groups_stored(case_number, window, index in self._exact))
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
