"""The auditor's replay: what the ledger knew of an agreement at a moment, and what changed.

An auditor asks "what did the ledger say on 2022-10-01, before the extension
was recorded?" and "what changed between the report's submission and today,
and which facts changed it?". Both are answered from the facts alone: the
history as known at a moment is folded into plain summaries (the agreement's
terms and money, each group's counts, each follow-up's status), and a diff
compares two such summaries value by value, naming the facts recorded between
the two moments that changed each value.

Statuses that depend on a day (the agreement's, a follow-up's) are judged on
one day `on`, the same for both sides of a diff, so that every change a diff
lists is the work of a fact and none the mere passing of time.

Pure: the ledger reads the facts (`Ledger.history(case, as_known_at)`) and
hands them here.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from attrs import frozen

from biv_domain.converter import converter
from biv_domain.model import agreement, follow_up, group
from biv_domain.model.agreement import AgreementState, AgreementStatus
from biv_domain.model.events import (
    AgreementConcluded,
    AgreementEvent,
    AgreementExtended,
    DisbursementRecorded,
    DisbursementRetracted,
    FollowUpEvent,
    FollowUpScheduled,
    GroupEvent,
    GroupPlanned,
    NoticeGiven,
    TargetSet,
)
from biv_domain.model.fact import Fact, known_at
from biv_domain.model.follow_up import FollowUpState, FollowUpStatus
from biv_domain.model.group import GroupState
from biv_domain.model.money import Money, total
from biv_domain.model.vocabulary import (
    ADULT_GENDERS,
    CHILD_GENDERS,
    GroupKind,
    TargetKind,
)
from biv_domain.projections.budget import FundingLine, PartySums, funding_lines
from biv_domain.projections.history import FactRecord
from biv_domain.projections.report import AGE_BANDS, age_band

# --- Summaries --------------------------------------------------------------------------------


@frozen
class AgreementSummary:
    """The agreement's terms, end, notice, money and commitments as known.

    The decisions are the facts themselves (each carries its decided_on,
    decided_by and decision_ref): the terms as concluded; the extensions; each funding line as its
    last decision set it, by the budget's rule (`funding_lines`);
    for each kind of target the last decision; the payments counted and the
    retractions.
    """

    terms: AgreementConcluded
    end_as_decided: date
    ends_on: date
    status: AgreementStatus
    last_notice_day: date
    notice: NoticeGiven | None
    extensions: tuple[AgreementExtended, ...]
    funding: tuple[FundingLine, ...]
    funding_total: PartySums
    targets: tuple[TargetSet, ...]
    disbursements: tuple[DisbursementRecorded, ...]
    disbursed: Money
    retractions: tuple[DisbursementRetracted, ...]


class GroupStatus(StrEnum):
    OPEN = "open"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


@frozen
class GroupSummary:
    """A group's plan and counts: enrolments, sessions, attendances, and whether it was closed."""

    plan: GroupPlanned
    participants: int
    withdrawn: int
    sessions: int
    attendances: int
    attended: int
    first_session_on: date | None
    last_session_on: date | None
    by_gender: dict[str, int]
    by_age_band: dict[str, int]
    status: GroupStatus
    closed_on: date | None


@frozen
class FollowUpSummary:
    """A follow-up's window and due date, and where it stood on the replay's day."""

    schedule: FollowUpScheduled
    status: FollowUpStatus
    submitted_on: date | None
    submitted_late: bool
    closed_on: date | None


@frozen
class Replay:
    """What the ledger knew of an agreement at `as_known_at` (None: everything recorded)."""

    case_number: str
    as_known_at: datetime | None
    on: date
    facts: int
    agreement: AgreementSummary | None
    groups: tuple[GroupSummary, ...]
    follow_ups: tuple[FollowUpSummary, ...]


def summarise_agreement(state: AgreementState, on: date) -> AgreementSummary:
    funding = funding_lines(state, date.max)
    targets = [t for t in (state.target_decision(kind) for kind in TargetKind) if t is not None]
    return AgreementSummary(
        terms=state.terms,
        end_as_decided=state.end_as_decided(),
        ends_on=state.ends_on(),
        status=state.status_on(on),
        last_notice_day=state.last_notice_day(),
        notice=state.notice(),
        extensions=state.extensions,
        funding=tuple(funding),
        funding_total=PartySums.of([(f.party, f.amount) for f in funding]),
        targets=tuple(targets),
        disbursements=tuple(sorted(state.disbursements, key=lambda d: d.paid_on)),
        disbursed=total([d.amount for d in state.disbursements]),
        retractions=state.retractions,
    )


def summarise_group(state: GroupState) -> GroupSummary:
    children = state.plan.kind is GroupKind.CHILDREN
    genders = CHILD_GENDERS if children else ADULT_GENDERS
    by_gender = Counter({g.value: 0 for g in sorted(genders)})
    by_age = Counter({name: 0 for name, _, _ in AGE_BANDS} if children else {})
    for participant in state.participants:
        by_gender[participant.enrolment.gender.value] += 1
        if children and participant.enrolment.age is not None:
            by_age[age_band(participant.enrolment.age)] += 1
    held = sorted(s.held_on for s in state.sessions)
    status = (
        GroupStatus.COMPLETED
        if state.completed
        else GroupStatus.CANCELLED
        if state.cancelled
        else GroupStatus.OPEN
    )
    return GroupSummary(
        plan=state.plan,
        participants=len(state.participants),
        withdrawn=sum(1 for p in state.participants if p.withdrawn_on is not None),
        sessions=len(state.sessions),
        attendances=sum(len(s.attendees) for s in state.sessions),
        attended=len({ref for s in state.sessions for ref in s.attendees}),
        first_session_on=held[0] if held else None,
        last_session_on=held[-1] if held else None,
        by_gender=dict(by_gender),
        by_age_band=dict(by_age),
        status=status,
        closed_on=state.closed_on,
    )


def summarise_follow_up(state: FollowUpState, on: date) -> FollowUpSummary:
    return FollowUpSummary(
        schedule=state.schedule,
        status=state.status_on(on),
        submitted_on=state.report.submitted_on if state.report else None,
        submitted_late=state.submitted_late(),
        closed_on=state.closed.on if state.closed else None,
    )


def _json(summary: object) -> Any:
    return None if summary is None else converter.unstructure(summary)


class _Known:
    """The states of an agreement's streams folded so far, in order of first appearance."""

    def __init__(self) -> None:
        self.agreement: AgreementState | None = None
        self.groups: dict[str, GroupState] = {}
        self.follow_ups: dict[str, FollowUpState] = {}
        self.facts = 0

    def apply(self, fact: Fact) -> None:
        event, stream = fact.event, fact.stream
        if isinstance(event, AgreementEvent):
            self.agreement = agreement.evolve(self.agreement, event)
        elif isinstance(event, GroupEvent):
            self.groups[stream] = group.evolve(self.groups.get(stream), event)
        elif isinstance(event, FollowUpEvent):
            self.follow_ups[stream] = follow_up.evolve(self.follow_ups.get(stream), event)
        else:
            return  # the ledger's bookkeeping is not about the partnership
        self.facts += 1

    def part(self, fact: Fact, on: date) -> tuple[str, Any]:
        """The summary of the fact's stream as JSON (None before it exists), and its path."""
        event, stream = fact.event, fact.stream
        if isinstance(event, GroupEvent):
            g = self.groups.get(stream)
            return f"groups[{event.group_ref}]", _json(summarise_group(g) if g else None)
        if isinstance(event, FollowUpEvent):
            f = self.follow_ups.get(stream)
            path = f"follow_ups[{event.follow_up_ref}]"
            return path, _json(summarise_follow_up(f, on) if f else None)
        a = self.agreement
        return "agreement", _json(summarise_agreement(a, on) if a else None)

    def replay(self, case_number: str, as_known_at: datetime | None, on: date) -> Replay:
        return Replay(
            case_number=case_number,
            as_known_at=as_known_at,
            on=on,
            facts=self.facts,
            agreement=summarise_agreement(self.agreement, on) if self.agreement else None,
            groups=tuple(summarise_group(g) for g in self.groups.values()),
            follow_ups=tuple(summarise_follow_up(f, on) for f in self.follow_ups.values()),
        )


def replay(
    case_number: str, history: Iterable[Fact], as_known_at: datetime | None, on: date
) -> Replay:
    """The agreement, its groups and follow-ups as the facts recorded by `as_known_at` tell.

    `history` is the agreement's history in recorded order; facts recorded
    after `as_known_at` are left out here too, so the caller may pass more.
    """
    known = _Known()
    for fact in known_at(history, as_known_at):
        known.apply(fact)
    return known.replay(case_number, as_known_at, on)


# --- Diff -------------------------------------------------------------------------------------


@frozen
class ValueChange:
    """One value of the replay that differs between the two moments, and the facts behind it.

    `value` is a path into the replay's JSON: `agreement.end_as_decided`,
    `groups[RYD-1].sessions`, `agreement.funding[municipality committee_budget
    2023-04-01–2024-03-31].amount`. A whole item that appeared or went is one
    change, its `before` or `after` null.
    """

    value: str
    before: object
    after: object
    changed_by: tuple[FactRecord, ...]


@frozen
class ReplayDiff:
    """What changed between `since` and `until` (None: everything recorded) and which facts did."""

    case_number: str
    since: datetime
    until: datetime | None
    on: date
    changes: tuple[ValueChange, ...]
    facts: tuple[FactRecord, ...]


# How the items of a list are told apart, so that a list compares item by item.
_KEYS: dict[str, Callable[[dict[str, Any]], str]] = {
    "groups": lambda item: str(item["plan"]["group_ref"]),
    "follow_ups": lambda item: str(item["schedule"]["follow_up_ref"]),
    "extensions": lambda item: str(item["end"]),
    "funding": lambda item: f"{item['party']} {item['source']} {item['start']}–{item['end']}",
    "targets": lambda item: str(item["target"]),
    "disbursements": lambda item: f"{item['paid_on']} {item['amount']}",
    "retractions": lambda item: f"{item['paid_on']} {item['amount']}",
}


def _keyed(path: str, items: Sequence[Any]) -> dict[str, Any]:
    key_of = _KEYS.get(path.rsplit(".", 1)[-1].split("[", 1)[0])
    result: dict[str, Any] = {}
    seen: Counter[str] = Counter()
    for index, item in enumerate(items):
        key = key_of(item) if key_of and isinstance(item, dict) else str(index)
        seen[key] += 1
        result[key if seen[key] == 1 else f"{key} #{seen[key]}"] = item
    return result


def compare(path: str, before: Any, after: Any) -> list[tuple[str, Any, Any]]:
    """The values that differ between two JSON documents, as (path, before, after)."""
    if isinstance(before, dict) and isinstance(after, dict):
        result = []
        for key in dict.fromkeys([*before, *after]):
            result += compare(f"{path}.{key}" if path else key, before.get(key), after.get(key))
        return result
    if isinstance(before, list) and isinstance(after, list):
        old, new = _keyed(path, before), _keyed(path, after)
        result = []
        for key in dict.fromkeys([*old, *new]):
            result += compare(f"{path}[{key}]", old.get(key), new.get(key))
        return result
    return [] if before == after else [(path, before, after)]


def _related(path: str, other: str) -> bool:
    """Whether one path is the other or lies within it (a whole item holds its values)."""
    short, long = sorted((path, other), key=len)
    return long == short or long.startswith((f"{short}.", f"{short}["))


def _document(replay: Replay) -> dict[str, Any]:
    body: dict[str, Any] = converter.unstructure(replay)
    return {key: body[key] for key in ("agreement", "groups", "follow_ups")}


def diff(
    case_number: str,
    history: Iterable[Fact],
    since: datetime,
    until: datetime | None,
    on: date,
) -> ReplayDiff:
    """What the facts recorded after `since` and by `until` changed, value by value.

    Each fact recorded in between is applied to the state of its own stream
    (an agreement's, a group's or a follow-up's summary depends on that stream
    alone), so the values it changed are known exactly; a change is credited to
    every fact that touched it.
    """
    before, after = _Known(), _Known()
    touched: list[tuple[Fact, list[str]]] = []
    for fact in history:
        if until is not None and fact.recorded_at > until:
            continue
        if fact.recorded_at <= since:
            before.apply(fact)
            after.apply(fact)
        elif not fact.is_bookkeeping:
            path, old = after.part(fact, on)
            after.apply(fact)
            touched.append((fact, [p for p, _, _ in compare(path, old, after.part(fact, on)[1])]))
        elif fact.type == "ParticipantErased":  # an erasure or retention: listed, no value moves
            touched.append((fact, []))
    changes = tuple(
        ValueChange(
            path,
            was,
            now,
            tuple(
                FactRecord.of(f) for f, paths in touched if any(_related(path, p) for p in paths)
            ),
        )
        for path, was, now in compare(
            "",
            _document(before.replay(case_number, since, on)),
            _document(after.replay(case_number, until, on)),
        )
    )
    return ReplayDiff(
        case_number, since, until, on, changes, tuple(FactRecord.of(f) for f, _ in touched)
    )
