"""The agreement (överenskommelse, IOP): its period, notice, funding, targets and payments.

`decide(command, state)` checks a command against what the ledger knows and
returns the events it causes, or raises a refusal; `evolve(state, event)` folds
one event into the state. Both are pure: no storage, no clock.

The state keeps every fact it was built from, so that it can answer for any
effective date: "what was the end date as decided on 2022-12-31?"
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import TYPE_CHECKING

from attrs import evolve as _replace
from attrs import frozen

from biv_domain.errors import AlreadyExists, NotFound, RuleBroken
from biv_domain.model.dates import Period, add_months
from biv_domain.model.events import (
    AgreementConcluded,
    AgreementEvent,
    AgreementExtended,
    DisbursementRecorded,
    DisbursementRetracted,
    FundingChanged,
    NoticeGiven,
    TargetSet,
)
from biv_domain.model.money import Money
from biv_domain.model.vocabulary import Party, TargetKind

if TYPE_CHECKING:  # the commands load with the first decision: a query only folds events
    from biv_domain.model.commands import (
        AgreementCommand,
        ExtendAgreement,
        GiveNotice,
        SetFunding,
    )


class AgreementStatus(StrEnum):
    """Where the agreement stands on a given day."""

    NOT_STARTED = "not_started"
    IN_FORCE = "in_force"
    UNDER_NOTICE = "under_notice"
    ENDED = "ended"


@frozen
class FundingKey:
    """A funding line is one party's money from one source for one period."""

    party: Party
    source: str
    start: date
    end: date


def funding_key(event: FundingChanged | SetFunding) -> FundingKey:
    return FundingKey(event.party, event.source, event.start, event.end)


@frozen
class AgreementState:
    """What the ledger knows of one agreement, every fact kept in recorded order."""

    terms: AgreementConcluded
    extensions: tuple[AgreementExtended, ...] = ()
    funding: tuple[FundingChanged, ...] = ()
    targets: tuple[TargetSet, ...] = ()
    notices: tuple[NoticeGiven, ...] = ()
    disbursements: tuple[DisbursementRecorded, ...] = ()
    retractions: tuple[DisbursementRetracted, ...] = ()
    retracted: tuple[DisbursementRecorded, ...] = ()  # the payments, in the retractions' order

    @property
    def case_number(self) -> str:
        return self.terms.case_number

    def end_as_decided(self, on: date | None = None) -> date:
        """The end date (slutdatum) after the extensions decided on or before `on`.

        With `on` None, after every extension known."""
        ends = [self.terms.end] + [
            e.end for e in self.extensions if on is None or e.decided_on <= on
        ]
        return max(ends)

    def notice(self, on: date | None = None) -> NoticeGiven | None:
        """The notice given on or before `on` (any, if None)."""
        for notice in self.notices:
            if on is None or notice.given_on <= on:
                return notice
        return None

    def ends_on(self, on: date | None = None) -> date:
        """The last day in force, counting extensions and notice known on `on`."""
        end = self.end_as_decided(on)
        notice = self.notice(on)
        return min(end, notice.ends_on) if notice else end

    def period(self, on: date | None = None) -> Period:
        return Period(self.terms.start, self.ends_on(on))

    def refuse_outside(self, period: Period, what: str) -> None:
        """The one rule that funding periods and follow-up windows lie within the agreement's."""
        agreement = self.period()
        if not period.within(agreement):
            raise RuleBroken(
                "end" if period.start >= agreement.start else "start",
                f"{what} {period.start} – {period.end} lies outside the agreement's "
                f"period {agreement.start} – {agreement.end}",
            )

    def status_on(self, day: date) -> AgreementStatus:
        if day < self.terms.start:
            return AgreementStatus.NOT_STARTED
        if day > self.ends_on(day):
            return AgreementStatus.ENDED
        if self.notice(day) is not None:
            return AgreementStatus.UNDER_NOTICE
        return AgreementStatus.IN_FORCE

    def last_notice_day(self, on: date | None = None) -> date:
        """The last day notice can be given to end the agreement on its end date.

        For an end of 2024-03-31 and six months' notice: 2023-09-30.
        """
        return add_months(self.end_as_decided(on), -self.terms.notice_months)

    def notice_ends_on(self, given_on: date) -> date:
        """Where notice given on a day ends the agreement: `notice_months` on, never after its end.

        The inverse of `last_notice_day`: the two are the notice arithmetic, here only.
        """
        return min(add_months(given_on, self.terms.notice_months), self.end_as_decided())

    def funding_amount(self, key: FundingKey, on: date | None = None) -> Money:
        """A funding line's amount as decided on or before `on` (zero if never set or withdrawn).

        The later decision wins, and on the same day the later recorded, as in the budget.
        """
        amount = Money.zero()
        for change in sorted(self.funding, key=lambda c: c.decided_on):  # stable: recorded order
            if funding_key(change) == key and (on is None or change.decided_on <= on):
                amount = change.amount
        return amount

    def target_decision(self, kind: TargetKind, on: date | None = None) -> TargetSet | None:
        """The decision that set the commitment of that kind last on or before `on`."""
        last = None
        for decided in sorted(self.targets, key=lambda t: t.decided_on):  # stable: recorded order
            if decided.target is kind and (on is None or decided.decided_on <= on):
                last = decided
        return last

    def target(self, kind: TargetKind, on: date | None = None) -> int | None:
        """The commitment of that kind decided last on or before `on`."""
        decided = self.target_decision(kind, on)
        return decided.value if decided else None


def _refuse_unless_in_force(state: AgreementState, day: date, field: str, doing: str) -> None:
    period = state.period()
    if day not in period:
        raise RuleBroken(
            field,
            f"agreement {state.case_number!r} is not in force on {day} "
            f"(it runs {period.start} – {period.end}), so it cannot {doing}",
        )


def decide(command: AgreementCommand, state: AgreementState | None) -> list[AgreementEvent]:
    """The events an agreement command causes, or a refusal."""
    from biv_domain.model.commands import (
        ConcludeAgreement,
        ExtendAgreement,
        GiveNotice,
        RecordDisbursement,
        RetractDisbursement,
        SetFunding,
        SetTarget,
    )

    if isinstance(command, ConcludeAgreement):
        if state is not None:
            raise AlreadyExists(
                "case_number", f"agreement {command.case_number!r} is already concluded"
            )
        return [
            AgreementConcluded(
                case_number=command.case_number,
                title=command.title,
                municipality=command.municipality,
                partner=command.partner,
                start=command.start,
                end=command.end,
                notice_months=command.notice_months,
                decided_on=command.decided_on,
                min_age=command.min_age,
                max_age=command.max_age,
                follow_up_months=command.follow_up_months,
                note=command.note,
                decided_by=command.decided_by,
                decision_ref=command.decision_ref,
            )
        ]
    if state is None:
        raise NotFound("case_number", f"no agreement with case number {command.case_number!r}")
    match command:
        case ExtendAgreement():
            return [_extend(command, state)]
        case SetFunding():
            return [_set_funding(command, state)]
        case SetTarget():
            return [
                TargetSet(
                    case_number=state.case_number,
                    target=command.target,
                    value=command.value,
                    decided_on=command.decided_on,
                    note=command.note,
                    decided_by=command.decided_by,
                    decision_ref=command.decision_ref,
                )
            ]
        case GiveNotice():
            return [_give_notice(command, state)]
        case RecordDisbursement():
            return [
                DisbursementRecorded(
                    case_number=state.case_number,
                    amount=command.amount,
                    paid_on=command.paid_on,
                    source=command.source,
                    note=command.note,
                    decision_ref=command.decision_ref,
                )
            ]
        case RetractDisbursement():
            paid = [
                d
                for d in state.disbursements
                if (d.paid_on, d.amount) == (command.paid_on, command.amount)
            ]
            if not paid:
                raise NotFound(
                    "paid_on",
                    f"no payment of {command.amount} on {command.paid_on} to retract "
                    f"under {state.case_number!r}",
                )
            return [
                DisbursementRetracted(
                    case_number=state.case_number,
                    paid_on=command.paid_on,
                    amount=command.amount,
                    reason=command.reason,
                )
            ]
    raise TypeError(f"not an agreement command: {command!r}")  # pragma: no cover


def _extend(command: ExtendAgreement, state: AgreementState) -> AgreementExtended:
    notice = state.notice()
    if notice is not None:
        raise RuleBroken(
            "case_number",
            f"notice was given on {notice.given_on}; the agreement ends on {notice.ends_on} "
            "and can no longer be extended",
        )
    _refuse_unless_in_force(state, command.decided_on, "decided_on", "be extended")
    current_end = state.end_as_decided()
    if command.end <= current_end:
        raise RuleBroken(
            "end", f"{command.end} does not move the end date forward from {current_end}"
        )
    return AgreementExtended(
        case_number=state.case_number,
        previous_end=current_end,
        end=command.end,
        decided_on=command.decided_on,
        note=command.note,
        decided_by=command.decided_by,
        decision_ref=command.decision_ref,
    )


def _set_funding(command: SetFunding, state: AgreementState) -> FundingChanged:
    state.refuse_outside(Period(command.start, command.end), "the funding period")
    return FundingChanged(
        case_number=state.case_number,
        party=command.party,
        source=command.source,
        start=command.start,
        end=command.end,
        amount=command.amount,
        previous_amount=state.funding_amount(funding_key(command), command.decided_on),
        decided_on=command.decided_on,
        note=command.note,
        decided_by=command.decided_by,
        decision_ref=command.decision_ref,
    )


def _give_notice(command: GiveNotice, state: AgreementState) -> NoticeGiven:
    notice = state.notice()
    if notice is not None:
        raise RuleBroken(
            "given_on", f"notice was already given on {notice.given_on} by the {notice.party}"
        )
    _refuse_unless_in_force(state, command.given_on, "given_on", "be given notice")
    return NoticeGiven(
        case_number=state.case_number,
        party=command.party,
        given_on=command.given_on,
        ends_on=state.notice_ends_on(command.given_on),
    )


def evolve(state: AgreementState | None, event: AgreementEvent) -> AgreementState:
    """The state after one more event."""
    if isinstance(event, AgreementConcluded):
        return AgreementState(terms=event)
    if state is None:
        raise ValueError(f"{type(event).__name__} before the agreement was concluded")
    match event:
        case AgreementExtended():
            return _replace(state, extensions=(*state.extensions, event))
        case FundingChanged():
            return _replace(state, funding=(*state.funding, event))
        case TargetSet():
            return _replace(state, targets=(*state.targets, event))
        case NoticeGiven():
            return _replace(state, notices=(*state.notices, event))
        case DisbursementRecorded():
            return _replace(state, disbursements=(*state.disbursements, event))
        case DisbursementRetracted():
            kept = list(state.disbursements)
            paid = next(d for d in kept if (d.paid_on, d.amount) == (event.paid_on, event.amount))
            kept.remove(paid)
            return _replace(
                state,
                disbursements=tuple(kept),
                retractions=(*state.retractions, event),
                retracted=(*state.retracted, paid),
            )
    raise TypeError(f"not an agreement event: {event!r}")  # pragma: no cover
