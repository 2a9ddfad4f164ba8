"""The ledger: the one application service that records commands and answers questions.

It loads the states a command needs, asks the pure deciders in `agreement`,
`group` and `follow_up` for the events, and stores them as facts, all of a
batch in one transaction. Where facts are stored is the `eventsourcing`
library's business, configured by the settings the ledger is given (see
`biv_adapters.stores` for the URLs users write).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any, TypeVar

from attrs import frozen
from eventsourcing.application import Application
from eventsourcing.persistence import IntegrityError, Mapper, Notification
from eventsourcing.utils import Environment

from biv_domain import agreement, follow_up, group
from biv_domain.agreement import AgreementState
from biv_domain.audit import Digest, Verification, verify
from biv_domain.batch import Batch
from biv_domain.commands import (
    AgreementCommand,
    Command,
    FollowUpCommand,
    GroupCommand,
    PlanGroup,
    ScheduleFollowUp,
    SubmitReport,
)
from biv_domain.dates import Period
from biv_domain.errors import NotFound, Refused
from biv_domain.facts import (
    CHAIN_STREAM,
    GENESIS,
    SETTINGS_STREAM,
    BatchSealed,
    Fact,
    FactMapper,
    LineApplied,
    MemberClosed,
    MemberJoined,
    SettingsChanged,
    agreement_stream,
    chained,
    follow_up_stream,
    group_stream,
    line_stream,
    members_stream,
)
from biv_domain.follow_up import FollowUpState
from biv_domain.group import GroupState
from biv_domain.report import report

MEMORY: Mapping[str, str] = {"PERSISTENCE_MODULE": "eventsourcing.popo"}

S = TypeVar("S")
E = TypeVar("E")


def utc_now() -> datetime:
    return datetime.now(UTC)


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


class Ledger(Application[str]):
    """The ledger of idea-based public partnerships (IOP), their groups and follow-ups."""

    name = "biv"
    retries_on_conflict = 10

    def __init__(
        self,
        settings: Mapping[str, str] | None = None,
        *,
        clock: Callable[[], datetime] = utc_now,
        actor: str | None = None,
    ) -> None:
        self.clock = clock
        self.actor = actor
        super().__init__(env={**(settings or MEMORY), "ORIGINATOR_ID_TYPE": "text"})

    def construct_env(self, name: str, env: Mapping[str, str] | None = None) -> Environment:
        # Only the settings given count: a stray PERSISTENCE_MODULE in the
        # shell must never send the ledger to another store.
        return Environment(name, dict(env or {}))

    def construct_mapper(self) -> Mapper[str]:
        return FactMapper(transcoder=self.construct_transcoder())

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
        return self._write(lambda batch: self._decide_lines(batch, lines), actor, len(lines))

    def _checked_actor(self, actor: str | None) -> str | None:
        actor = actor or self.actor
        if actor is not None and not actor.strip():
            raise Refused("actor", "must not be empty when given")
        if actor is None and self.requires_actor():
            raise Refused(
                "actor", "this store records who recorded each fact: give --actor NAME or BIV_ACTOR"
            )
        return actor

    def configure(self, *, require_actor: bool, actor: str | None = None) -> Receipt:
        """Sets whether every batch must name its actor; the setting is a fact like any other."""
        actor = self._checked_actor(actor)

        def decide(batch: Batch) -> int:
            batch.exists(SETTINGS_STREAM)
            setting = SettingsChanged(require_actor=require_actor)
            batch.record(SETTINGS_STREAM, [setting], lambda _state, event: event)
            return 0

        return self._write(decide, actor, 1)

    def _write(self, decide: Callable[[Batch], int], actor: str | None, lines: int) -> Receipt:
        """Decides a batch and stores it; decides again when another writer stored first.

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
            batch = self._batch()
            skipped = decide(batch)
            try:
                facts = self._store(batch, head, actor)
            except IntegrityError:
                continue
            return Receipt(facts=facts, applied=lines - skipped, skipped=skipped)
        raise WriteConflict(
            "other writers kept changing the same agreement, groups or follow-ups; "
            f"tried {self.retries_on_conflict} times and stored nothing"
        )

    def requires_actor(self) -> bool:
        last = None
        for fact in self.stream(SETTINGS_STREAM):
            last = fact.event
        return isinstance(last, SettingsChanged) and last.require_actor

    def _batch(self) -> Batch:
        return Batch(
            self.stream,
            lambda case_number, window: self._members(case_number, "group", None, window),
        )

    def _decide_lines(self, batch: Batch, lines: Sequence[Line]) -> int:
        """Decides every line into the batch; returns how many were skipped as applied before."""
        skipped = 0
        seen_ids: dict[str, int] = {}
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
            try:
                self._decide(batch, line.command)
            except Refused as refusal:
                raise LineRefused(line.number, refusal) from None
            if line.line_id is not None:
                applied = LineApplied(line_id=line.line_id, command=line.command.name)
                batch.record(line_stream(line.line_id), [applied], lambda _s, e: e)
        return skipped

    def _store(self, batch: Batch, head: Fact, actor: str | None) -> tuple[Fact, ...]:
        """Stores the batch's facts in one transaction, sealed into the chain after `head`.

        Raises IntegrityError when another writer stored first (a stream's
        version, or the chain's, is taken): the caller decides again.
        """
        if not batch.pending:
            return ()
        now = self.clock()
        if now.tzinfo is None:
            raise ValueError("the ledger's clock must give UTC times")
        recorded_at = now.astimezone(UTC)
        facts = [
            Fact(stream, version, recorded_at, event, actor)
            for stream, version, event in batch.pending
        ]
        seal = Fact(
            CHAIN_STREAM, head.originator_version + 1, recorded_at, BatchSealed(len(facts)), actor
        )
        stored = tuple(chained([*facts, seal], head.position, head.hash))
        self.save(*stored)
        return stored

    def chain_head(self) -> Fact:
        """The last fact of the chain (a seal), or a stand-in before the first batch."""
        for stored in self.recorder.select_events(CHAIN_STREAM, desc=True, limit=1):
            fact = self.mapper.to_domain_event(stored)
            assert isinstance(fact, Fact)
            return fact
        return Fact(CHAIN_STREAM, 0, datetime.min.replace(tzinfo=UTC), BatchSealed(0), hash=GENESIS)

    def _decide(self, batch: Batch, command: Command) -> None:
        if isinstance(command, AgreementCommand):
            stream = agreement_stream(command.case_number)
            events = agreement.decide(command, batch.state(stream, agreement.evolve))
            batch.record(stream, events, agreement.evolve)
        elif isinstance(command, GroupCommand):
            stream = group_stream(command.group_ref)
            state = batch.state(stream, group.evolve)
            # A plan names its agreement; every later command finds it through the group.
            case_number = command.case_number if isinstance(command, PlanGroup) else None
            terms = _agreement_of(batch, case_number or (state.case_number if state else None))
            batch.record(stream, group.decide(command, state, terms), group.evolve)
        elif isinstance(command, FollowUpCommand):
            stream = follow_up_stream(command.follow_up_ref)
            state_f = batch.state(stream, follow_up.evolve)
            case_number = command.case_number if isinstance(command, ScheduleFollowUp) else None
            terms = _agreement_of(batch, case_number or (state_f.case_number if state_f else None))
            figures = None
            if isinstance(command, SubmitReport) and state_f is not None and terms is not None:
                # The report keeps the window's figures as known at submission.
                window = state_f.window
                figures = report(terms, batch.groups_of(terms.case_number, window), window)
            events_f = follow_up.decide(command, state_f, terms, figures)
            batch.record(stream, events_f, follow_up.evolve)
        else:  # pragma: no cover
            raise TypeError(f"not a command: {command!r}")

    # --- Reading ------------------------------------------------------------------------------

    def stream(self, stream: str, as_known_at: datetime | None = None) -> Iterator[Fact]:
        """The facts of one stream in order, as far as recorded by `as_known_at`."""
        for fact in self.events.get(stream):
            assert isinstance(fact, Fact)
            if as_known_at is None or fact.recorded_at <= as_known_at:
                yield fact

    def rows(self, page: int = 1000) -> Iterator[Notification]:
        """Every stored row in recorded order, as the store holds it (for audits)."""
        after = 0
        while rows := self.recorder.select_notifications(
            start=after, limit=page, inclusive_of_start=False
        ):
            yield from rows
            after = rows[-1].id

    def facts(self, as_known_at: datetime | None = None) -> Iterator[Fact]:
        """Every fact in the store in recorded order, as far as recorded by `as_known_at`."""
        for row in self.rows():
            fact = self.mapper.to_domain_event(row)
            assert isinstance(fact, Fact)
            if as_known_at is None or fact.recorded_at <= as_known_at:
                yield fact

    def verify_chain(self, digest: Digest | None = None) -> Verification:
        """Walks the store's chain of facts; names the first row that does not fit."""
        return verify(self.rows(), digest)

    def digest(self) -> Digest | None:
        """The chain's head as a digest for an auditor to keep outside the system."""
        head = self.chain_head()
        return Digest(head.position, head.hash) if head.position else None

    def agreement(self, case_number: str, as_known_at: datetime | None = None) -> AgreementState:
        state = _fold(self.stream(agreement_stream(case_number), as_known_at), agreement.evolve)
        if state is None:
            raise NotFound("case_number", f"no agreement with case number {case_number!r}")
        return state

    def group(self, group_ref: str, as_known_at: datetime | None = None) -> GroupState:
        state = _fold(self.stream(group_stream(group_ref), as_known_at), group.evolve)
        if state is None:
            raise NotFound("group_ref", f"no group with reference {group_ref!r}")
        return state

    def follow_up(self, follow_up_ref: str, as_known_at: datetime | None = None) -> FollowUpState:
        state = _fold(self.stream(follow_up_stream(follow_up_ref), as_known_at), follow_up.evolve)
        if state is None:
            raise NotFound("follow_up_ref", f"no follow-up with reference {follow_up_ref!r}")
        return state

    def groups(
        self,
        case_number: str,
        as_known_at: datetime | None = None,
        overlapping: Period | None = None,
    ) -> list[GroupState]:
        """The agreement's groups in the order they were planned.

        With `overlapping`, only those that can have met in that period (a
        report's window), which spares reading years of other groups.
        """
        self._refuse_unknown(case_number, as_known_at)
        refs = self._members(case_number, "group", as_known_at, overlapping)
        return [self.group(ref, as_known_at) for ref in refs]

    def follow_ups(
        self, case_number: str, as_known_at: datetime | None = None
    ) -> list[FollowUpState]:
        """The agreement's follow-ups in the order they were scheduled."""
        self._refuse_unknown(case_number, as_known_at)
        return [
            self.follow_up(ref, as_known_at)
            for ref in self._members(case_number, "follow_up", as_known_at)
        ]

    def _refuse_unknown(self, case_number: str, as_known_at: datetime | None) -> None:
        """NotFound unless the agreement was concluded as known then; reads only its first fact."""
        for stored in self.recorder.select_events(agreement_stream(case_number), limit=1):
            concluded = self.mapper.to_domain_event(stored)
            assert isinstance(concluded, Fact)
            if as_known_at is None or concluded.recorded_at <= as_known_at:
                return
        raise NotFound("case_number", f"no agreement with case number {case_number!r}")

    def _members(
        self,
        case_number: str,
        kind: str,
        as_known_at: datetime | None,
        overlapping: Period | None = None,
    ) -> list[str]:
        """The refs of the agreement's groups or follow-ups, from its index of members.

        With `overlapping`, only the groups whose days (first day to closing day)
        meet that period: the others held no session in it.
        """
        days: dict[str, list[date | None]] = {}
        for fact in self.stream(members_stream(case_number), as_known_at):
            event = fact.event
            if isinstance(event, MemberJoined) and event.kind == kind:
                days[event.ref] = [event.starts_on, None]
            elif isinstance(event, MemberClosed) and event.kind == kind:
                days[event.ref][1] = event.on
        if overlapping is None:
            return list(days)
        return [
            ref
            for ref, (first, last) in days.items()
            if (first is None or first <= overlapping.end)
            and (last is None or last >= overlapping.start)
        ]

    def history(self, case_number: str, as_known_at: datetime | None = None) -> list[Fact]:
        """Every fact about the agreement, its groups and follow-ups, in recorded order.

        The agreement's streams are read one by one and merged by their place in
        the store's chain, which is the order they were recorded in.
        """
        self.agreement(case_number, as_known_at)
        streams = [
            agreement_stream(case_number),
            *(group_stream(ref) for ref in self._members(case_number, "group", as_known_at)),
            *(
                follow_up_stream(ref)
                for ref in self._members(case_number, "follow_up", as_known_at)
            ),
        ]
        facts = [fact for stream in streams for fact in self.stream(stream, as_known_at)]
        return sorted(facts, key=lambda fact: fact.position)


def _agreement_of(batch: Batch, case_number: str | None) -> AgreementState | None:
    return batch.state(agreement_stream(case_number), agreement.evolve) if case_number else None


def _fold(facts: Iterator[Fact], evolve: Callable[[S | None, Any], S]) -> S | None:
    state: S | None = None
    for fact in facts:
        state = evolve(state, fact.event)
    return state
