"""The ledger's write side and its service: record commands, then bring the read models along.

It loads the states a command needs (the unit of work), asks the pure deciders
of `biv_domain.model` for the events, and stores them as facts, all of a batch
in one transaction, sealed into the chain. Where facts are stored is the store
plugin's business (`biv_domain.ledger.store`), configured by URL in
`biv_adapters.stores`. The questions are asked of `LedgerReads`.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Sequence
from datetime import UTC
from typing import Any

from attrs import evolve, frozen
from eventsourcing.persistence import IntegrityError, StoredEvent

from biv_domain.errors import Refused
from biv_domain.ledger.bookkeeping import (
    CHAIN_STREAM,
    FORMAT_STREAM,
    SETTINGS_STREAM,
    BatchSealed,
    FormatRecorded,
    LineApplied,
    ParticipantErased,
    SettingsChanged,
    line_stream,
)
from biv_domain.ledger.deciding import decide, streams_of
from biv_domain.ledger.log import AppliedLine, LogReads, Span, applied_lines
from biv_domain.ledger.sealing import sealed_rows
from biv_domain.ledger.store import BatchRows
from biv_domain.ledger.store_info import FactCounts, counted_in_batch
from biv_domain.ledger.subjects import KeyChanges
from biv_domain.ledger.unit_of_work import LARGE_BATCH, Batch, Kept, collector_paused
from biv_domain.ledger.upcasting import FORMAT
from biv_domain.model.commands import Command, EnrollParticipant
from biv_domain.model.fact import Fact

LOG = logging.getLogger(__name__)


@frozen
class Line:
    """One command to apply, with where it came from (an exchange file's line number) and its id."""

    number: int
    command: Command
    line_id: str | None = None


@frozen
class LineRefused(Exception):
    """A line of a batch was refused; nothing of the batch was stored."""

    number: int
    refusal: Refused

    def __str__(self) -> str:
        return f"line {self.number}: {self.refusal}"


class WriteConflict(Exception):
    """Other writers kept changing the same streams; the batch was not stored."""


@frozen
class Receipt:
    """What a batch did: the facts it stored and how many lines it applied and skipped."""

    facts: tuple[Fact, ...]
    applied: int
    skipped: int
    lines: tuple[AppliedLine, ...] = ()  # each applied line's facts (a receipt's, issue 21)

    @property
    def erased(self) -> int:
        """How many participants' data the batch erased (one ParticipantErased fact each)."""
        return sum(isinstance(fact.event, ParticipantErased) for fact in self.facts)


@frozen
class Sealed:
    """A batch made into its rows: the rows to store, its facts as placed in the chain, the
    events decided (the seal's aside), the participants' key changes, and the chain's
    position before it."""

    rows: Sequence[StoredEvent]
    placed: tuple[Fact, ...]
    events: tuple[Any, ...]
    changes: KeyChanges
    after: int

    @property
    def position(self) -> int:
        """The chain's position once the batch is stored."""
        return self.placed[-1].position if self.placed else self.after


class Ledger(LogReads):
    """The ledger of idea-based public partnerships (IOP), their groups and follow-ups.

    It loads the states a command needs, asks the pure deciders for the
    events, stores them as facts (all of a batch in one transaction, sealed
    into the chain), and brings the read models up to date.
    """

    retries_on_conflict = 10
    fact_counts: FactCounts | None = None  # kept in each batch's transaction: see store_info

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # What this process's batches keep for its next ones (a long import, a server):
        # states, member indexes, and up to where they are the store's truth.
        self._kept = Kept()
        # A store's format mark, once there, stays: read when the ledger opened, not again.
        self._kept.format_marked = self._format_at_open >= FORMAT

    # --- Writing ------------------------------------------------------------------------------

    def execute(
        self, command: Command, *, line_id: str | None = None, actor: str | None = None
    ) -> Receipt:
        """Records one command, or refuses it with the field and the reason."""
        try:
            return self.execute_all([Line(1, command, line_id)], actor=actor)
        except LineRefused as refused:
            raise refused.refusal from None

    def execute_all(self, lines: Sequence[Line], *, actor: str | None = None) -> Receipt:
        """Records every line or none: one refused line stores nothing (raises LineRefused).

        `actor` names who records (a person or a system); a store configured to
        require it refuses a batch without one. A line whose id the store has
        already applied is skipped. When another writer changed the same streams
        meanwhile, the whole batch is decided again on the new state, a few
        times, before giving up with WriteConflict.
        """
        actor = self._checked_actor(actor)
        with collector_paused(len(lines) >= LARGE_BATCH):
            receipt = self._write(lambda b: self._decide_lines(b, lines), actor, len(lines))
        # Each applied line's facts, for a receipt (issue 21): the spans of the last decision.
        return evolve(receipt, lines=applied_lines(self._spans, receipt.facts))

    def _checked_actor(self, actor: str | None) -> str | None:
        actor = actor or self.actor
        if actor is not None and not actor.strip():
            raise Refused("actor", "must not be empty when given")
        return actor

    def _refuse_without_actor(self, actor: str | None) -> None:
        """A store that records who recorded each fact refuses a batch that names no one."""
        if actor is not None:
            return
        if self._kept.actor_required is None:  # read again whenever another writer stored
            self._kept.actor_required = self.requires_actor()
        if self._kept.actor_required:
            raise Refused(
                "actor", "this store records who recorded each fact: give --actor NAME or BIV_ACTOR"
            )

    def configure(self, *, require_actor: bool, actor: str | None = None) -> Receipt:
        """Sets whether every batch must name its actor; the setting is a fact like any other."""
        actor = self._checked_actor(actor)

        def decide_setting(batch: Batch) -> int:
            batch.exists(SETTINGS_STREAM)
            setting = SettingsChanged(require_actor=require_actor)
            batch.record(SETTINGS_STREAM, [setting], lambda _state, event: event)
            return 0

        try:
            return self._write(decide_setting, actor, 1)
        finally:
            self._kept.actor_required = None  # read again from the store by the next batch

    def _write(self, decide: Callable[[Batch], int], actor: str | None, lines: int) -> Receipt:
        """Decides a batch and stores it; decides again when another writer stored first.

        The handler: the chain's head (read once), the states as the lines ask for them
        (load), the deciders' events (decide), the batch's rows (seal), one transaction
        (store), the read models (views).

        The chain's head is read before deciding, and the batch is sealed right
        after it: a batch stored by anyone in between takes that place, this
        seal collides with it, and this batch is decided again on what is now
        known. So every batch is decided on the store as it was when stored,
        across agreements, groups and follow-ups alike.
        """
        for attempt in range(self.retries_on_conflict):
            if attempt:
                # Writers that collided wait a random while, so they do not collide again.
                time.sleep(random.uniform(0, 0.002 * 2 ** min(attempt, 6)))
            head = self.chain_head()
            exact = self._as_stored(head)
            self._refuse_without_actor(actor)
            batch = Batch(self, self._kept)
            skipped = decide(batch)
            sealed = self._seal(batch, head, actor)
            try:
                last_id, followed = self._insert(sealed, exact)
            except IntegrityError:
                continue
            self._kept.stored(batch, sealed.placed, sealed.position)
            self._follow_views(sealed, last_id, followed, exact)
            return Receipt(facts=sealed.placed, applied=lines - skipped, skipped=skipped)
        raise WriteConflict(
            "chain: other writers kept extending the store's chain of facts at the same time; "
            f"tried {self.retries_on_conflict} times and stored nothing: try again"
        )

    def _as_stored(self, head: Fact) -> bool:
        """Whether nobody else stored since this process's last batch (what it keeps is then
        the store's truth); if somebody did, the keys are read again too (it may have erased
        a child)."""
        exact = self._kept.as_stored(head.position)
        if not exact:
            self.keys.forget()
        return exact

    def _follow_views(
        self, sealed: Sealed, last_id: int | None, followed: bool, exact: bool
    ) -> None:
        """The read models follow the stored facts (a lagging view still answers right: see
        FundingView.current_rows). When nobody else stored since this process's previous
        batch, they follow this batch's own facts, in its transaction where they could."""
        if followed and last_id is not None:  # (followed: the store gave the batch's ids)
            self.funding_view.moved_to(last_id)  # it followed in the batch's transaction
        else:
            self._catch_up_views(sealed.placed if exact else None, last_id)

    def _catch_up_views(self, stored: Sequence[Fact] | None, last_id: int | None) -> None:
        """Brings the read models along; a failure leaves them behind, never the write undone.

        `stored` is the batch's facts when nobody else stored since this process's
        previous batch (None otherwise), `last_id` the notification id of its last.

        The facts are stored by now. A view that cannot follow (a store that went
        away, a row it cannot hold) lags: reads fold the facts since its position
        (FundingView.current_rows), and the next write or `biv rebuild` catches up.
        """
        try:
            if stored is None or (stored and last_id is None):
                self.funding_view.catch_up()  # others stored too, or the store named no ids
            elif not self.funding_view.follow([fact.event for fact in stored], last_id):
                self.funding_view.catch_up()  # the view is not where this process left it
        except Exception as error:
            LOG.warning(
                "the funding view lags behind the stored facts (%s: %s); "
                "the next write or `biv rebuild` catches it up",
                type(error).__name__,
                str(error).splitlines()[0] if str(error) else "",
            )

    def requires_actor(self) -> bool:
        last = None
        for fact in self.stream(SETTINGS_STREAM):
            last = fact.event
        return isinstance(last, SettingsChanged) and last.require_actor

    def _decide_lines(self, batch: Batch, lines: Sequence[Line]) -> int:
        """Decides every line into the batch; returns how many were skipped as applied before."""
        skipped = 0
        self._spans = spans = list[Span]()  # each applied line's number, id and pending facts
        seen_ids: dict[str, int] = {}
        # Which line ids were applied before: one question for the batch, not one a line.
        batch.prefetch([line_stream(line.line_id) for line in lines if line.line_id is not None])
        # Which of the streams the lines name are new (a group planned, an agreement
        # concluded): one question, not one read of each empty stream.
        batch.prefetch([stream for line in lines for stream in streams_of(line.command)])
        # The keys of the children enrolled, for `_refuse_erased`: one query, not one a child.
        enrolled = (line.command for line in lines if isinstance(line.command, EnrollParticipant))
        self.keys.prefetch(self.keys.subject_of(command.participant_ref) for command in enrolled)
        for line in lines:
            if line.line_id is not None:
                if line.line_id in seen_ids:
                    raise LineRefused(
                        line.number,
                        Refused(
                            "id",
                            f"{line.line_id!r} was already used on line {seen_ids[line.line_id]}",
                        ),
                    )
                seen_ids[line.line_id] = line.number
                if batch.exists(line_stream(line.line_id)):
                    skipped += 1
                    continue
            start = len(batch.pending)
            try:
                decide(self, batch, line.command)
            except Refused as refusal:
                raise LineRefused(line.number, refusal) from None
            if line.line_id is not None:
                applied = LineApplied(line_id=line.line_id, command=line.command.name)
                batch.record(line_stream(line.line_id), [applied], lambda _s, e: e)
            spans.append((line.number, line.line_id, start, len(batch.pending)))
        return skipped

    def _seal(self, batch: Batch, head: Fact, actor: str | None) -> Sealed:
        """The batch's facts made into the rows to store, sealed into the chain after `head`
        with one recorded time (the ledger's clock) and the actor; participants' fields
        sealed under their keys, new keys made and erased ones to be destroyed."""
        if not batch.pending:
            return Sealed((), (), (), KeyChanges(), head.position)
        now = self.clock()
        if now.tzinfo is None:
            raise ValueError("the ledger's clock must give UTC times")
        pending = [*batch.pending, *self._format_mark()]
        seal = (CHAIN_STREAM, head.originator_version + 1, BatchSealed(len(pending)))
        changes = KeyChanges(
            erased={
                e.participant: e.decided_on.isoformat()
                for _stream, _version, e in batch.pending
                if isinstance(e, ParticipantErased)
            }
        )
        if head.position == 0:
            self.keys.make_encrypted()  # BIV_CIPHER_KEY given to a new store: encrypt it
        rows, placed = sealed_rows(
            [*pending, seal], now.astimezone(UTC), actor, self.keys, changes, head.position,
            head.hash,
        )  # fmt: skip
        events = tuple(event for _stream, _version, event in pending)
        return Sealed(rows, placed, events, changes, head.position)

    def _insert(self, sealed: Sealed, exact: bool) -> tuple[int | None, bool]:
        """Stores the sealed rows in one transaction, with their keys, the log's tree, the
        funding view's rows (when it is where this process left it and nobody else stored
        since) and the counts; returns the notification id of the last row (None if unknown
        or nothing was stored) and whether the funding view followed in that transaction.

        Raises IntegrityError when another writer stored first (a stream's
        version, or the chain's, is taken): the caller decides again.
        """
        if not sealed.rows:
            return None, False
        follow = self.funding_view.in_batch(list(sealed.events)) if exact else None
        counts = counted_in_batch(self.fact_counts, sealed.after, sealed.position, sealed.rows)
        with self._logging(sealed.placed, sealed.after) as log:  # the tree, in the same transaction
            extra = BatchRows(self.keys.stored_form(sealed.changes), log, follow, counts)
            ids = self.recorder.insert_events(sealed.rows, batch=extra)
            self.keys.committed(sealed.changes)
        return ids[-1] if ids else None, follow is not None and follow.moved

    def _format_mark(self) -> list[tuple[str, int, FormatRecorded]]:
        """The fact that marks the store as of this code's format, if it is not marked yet."""
        if self._kept.format_marked:
            return []  # a mark, once stored, stays: read when the ledger opened or since
        recorded, version = self.recorded_format()
        self._kept.format_marked = recorded >= FORMAT
        if recorded < FORMAT:
            # The first batch of a newer code marks the store, so older code refuses it.
            return [(FORMAT_STREAM, version + 1, FormatRecorded(FORMAT))]
        return []

    def rekey(self, new_cipher_key: bytes) -> int:
        """Re-wraps every key of the store under a new store key; returns how many.

        The facts are sealed under the store's data key, which is itself wrapped
        by the store key, so rotation touches only the key table: no fact changes.
        """
        return self.keys.rekey(new_cipher_key)

    def rebuild(self, progress: Callable[[int], object] | None = None) -> int:
        """Rebuilds every read model from every stored fact; returns how many facts it passed."""
        return self.funding_view.rebuild(progress)
