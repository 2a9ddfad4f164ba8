"""Commands: what a user asks the ledger to record, one class per exchange-format command.

Each command checks the shape of its own values when it is built (a name is not
blank, an age is a whole number, a period does not end before it starts). Rules
that need the ledger's state (is the agreement in force? is the child enrolled?)
are the deciders' job, in `agreement`, `group` and `follow_up`.
"""

from __future__ import annotations

from datetime import date
from typing import ClassVar

from attrs import field, frozen

from biv_domain.errors import InvalidValue
from biv_domain.model import validators as check
from biv_domain.model.dates import refuse_reversed
from biv_domain.model.figures import Information as Information  # SubmitReport's, named here too
from biv_domain.model.money import Money
from biv_domain.model.protection import ApplyRetention, EraseParticipant, ProtectionCommand
from biv_domain.model.vocabulary import (
    Gender,
    GroupKind,
    Party,
    ResidenceStatus,
    TargetKind,
    Track,
)

DEFAULT_AGES = (7, 20)
"""The ages an agreement covers when it names none: from 7 to 20 years (the programme's)."""


# --- The agreement (överenskommelsen) ---------------------------------------------------------


@frozen
class ConcludeAgreement:
    """Conclude an agreement (överenskommelse, IOP), known by its case number (diarienummer)."""

    name: ClassVar[str] = "conclude_agreement"
    case_number: str = field(validator=check.name)
    title: str = field(validator=check.name)
    municipality: str = field(validator=check.name)
    partner: str = field(validator=check.name)
    start: date
    end: date
    notice_months: int = field(validator=check.count_not_negative)
    decided_on: date
    min_age: int = field(default=DEFAULT_AGES[0], validator=check.count_not_negative)
    max_age: int = field(default=DEFAULT_AGES[1], validator=check.count_not_negative)
    follow_up_months: int = field(default=6, validator=check.count_positive)
    note: str = field(default="", validator=check.free_text)
    decided_by: str | None = field(default=None, validator=check.optional_name)
    decision_ref: str | None = field(default=None, validator=check.optional_name)

    def __attrs_post_init__(self) -> None:
        refuse_reversed(self.start, self.end)
        if self.max_age < self.min_age:
            raise InvalidValue("max_age", f"{self.max_age} is below min_age {self.min_age}")


@frozen
class ExtendAgreement:
    """Extend the agreement (förlängning) to a later end date."""

    name: ClassVar[str] = "extend_agreement"
    case_number: str = field(validator=check.name)
    end: date
    decided_on: date
    note: str = field(default="", validator=check.free_text)
    decided_by: str | None = field(default=None, validator=check.optional_name)
    decision_ref: str | None = field(default=None, validator=check.optional_name)


@frozen
class SetFunding:
    """Set one funding line (finansiering): a party's money from one source for one period.

    A later decision on the same party, source and period replaces the amount; "0" withdraws it.
    """

    name: ClassVar[str] = "set_funding"
    case_number: str = field(validator=check.name)
    party: Party
    source: str = field(validator=check.name)
    start: date
    end: date
    amount: Money = field(validator=check.amount_not_negative)
    decided_on: date
    note: str = field(default="", validator=check.free_text)
    decided_by: str | None = field(default=None, validator=check.optional_name)
    decision_ref: str | None = field(default=None, validator=check.optional_name)

    def __attrs_post_init__(self) -> None:
        refuse_reversed(self.start, self.end)


@frozen
class SetTarget:
    """Set a yearly commitment (åtagande): children or groups a year."""

    name: ClassVar[str] = "set_target"
    case_number: str = field(validator=check.name)
    target: TargetKind
    value: int = field(validator=check.count_not_negative)
    decided_on: date
    note: str = field(default="", validator=check.free_text)
    decided_by: str | None = field(default=None, validator=check.optional_name)
    decision_ref: str | None = field(default=None, validator=check.optional_name)


@frozen
class GiveNotice:
    """A party gives notice (uppsägning); the agreement ends when the notice period runs out."""

    name: ClassVar[str] = "give_notice"
    case_number: str = field(validator=check.name)
    party: Party
    given_on: date


@frozen
class RecordDisbursement:
    """Record a payment (utbetalning) from the municipality to the partner."""

    name: ClassVar[str] = "record_disbursement"
    case_number: str = field(validator=check.name)
    amount: Money = field(validator=check.amount)
    paid_on: date
    source: str | None = field(default=None, validator=check.bounded_name)
    note: str = field(default="", validator=check.free_text)
    decision_ref: str | None = field(default=None, validator=check.optional_name)

    def __attrs_post_init__(self) -> None:
        if self.amount.ore <= 0:
            raise InvalidValue("amount", f"a payment must be more than 0, got {self.amount}")
        if self.source is not None and not self.source.strip():
            raise InvalidValue("source", "must not be empty when given")


# --- Groups (grupper) -------------------------------------------------------------------------


@frozen
class PlanGroup:
    """Plan a support group (stödgrupp) for children or for parents."""

    name: ClassVar[str] = "plan_group"
    group_ref: str = field(validator=check.name)
    case_number: str = field(validator=check.name)
    kind: GroupKind
    area: str = field(validator=check.name)
    starts_on: date
    track: Track | None = None
    planned_sessions: int = field(default=14, validator=check.count_positive)
    language: str | None = field(default=None, validator=check.bounded_name)


@frozen
class EnrollParticipant:
    """Enrol a participant (deltagare) by a pseudonymous reference; never a name."""

    name: ClassVar[str] = "enroll_participant"
    group_ref: str = field(validator=check.name)
    participant_ref: str = field(validator=check.name)
    enrolled_on: date
    gender: Gender
    age: int | None = field(default=None, validator=check.count)
    status: ResidenceStatus | None = None


@frozen
class WithdrawParticipant:
    """A participant leaves the group (avbryter)."""

    name: ClassVar[str] = "withdraw_participant"
    group_ref: str = field(validator=check.name)
    participant_ref: str = field(validator=check.name)
    on: date


@frozen
class HoldSession:
    """Record a session (träff) held, with who attended."""

    name: ClassVar[str] = "hold_session"
    group_ref: str = field(validator=check.name)
    held_on: date
    attendees: tuple[str, ...] = field(validator=check.references)
    # The session's length; left out, it is the method's norm (120), recorded as assumed.
    minutes: int | None = field(default=None, validator=check.minutes)

    def __attrs_post_init__(self) -> None:
        if not self.attendees:
            raise InvalidValue("attendees", "a session needs at least one attendee")
        seen: set[str] = set()
        for ref in self.attendees:
            if not ref.strip():
                raise InvalidValue("attendees", "a participant reference must not be empty")
            if ref in seen:
                raise InvalidValue("attendees", f"{ref!r} is listed twice")
            seen.add(ref)


@frozen
class CompleteGroup:
    """The group has held its sessions and is finished (avslutad)."""

    name: ClassVar[str] = "complete_group"
    group_ref: str = field(validator=check.name)
    on: date


@frozen
class CancelGroup:
    """The group is cancelled (inställd), with the reason."""

    name: ClassVar[str] = "cancel_group"
    group_ref: str = field(validator=check.name)
    on: date
    reason: str = field(validator=check.reason)


# --- Follow-ups (uppföljning) -----------------------------------------------------------------


@frozen
class ScheduleFollowUp:
    """Schedule a half-year follow-up (uppföljning) of a window, with its report's due date."""

    name: ClassVar[str] = "schedule_follow_up"
    follow_up_ref: str = field(validator=check.name)
    case_number: str = field(validator=check.name)
    start: date
    end: date
    due_on: date

    def __attrs_post_init__(self) -> None:
        refuse_reversed(self.start, self.end)
        if self.due_on < self.start:
            raise InvalidValue("due_on", f"{self.due_on} is before the window starts {self.start}")


@frozen
class SubmitReport:
    """The partner submits the written report (skriftlig redovisning) for a follow-up."""

    name: ClassVar[str] = "submit_report"
    follow_up_ref: str = field(validator=check.name)
    submitted_on: date
    experience: str | None = field(default=None, validator=check.free_text)
    information: Information | None = None


@frozen
class CloseFollowUp:
    """The parties have met and the follow-up is closed (avstämd), with an assessment."""

    name: ClassVar[str] = "close_follow_up"
    follow_up_ref: str = field(validator=check.name)
    on: date
    assessment: str | None = field(default=None, validator=check.free_text)


# --- Corrections (rättelser): new facts that set right what was recorded wrongly -------------


@frozen
class RetractDisbursement:
    """A payment was recorded by mistake; the one paid on that day of that amount is retracted."""

    name: ClassVar[str] = "retract_disbursement"
    case_number: str = field(validator=check.name)
    paid_on: date
    amount: Money = field(validator=check.amount)
    reason: str = field(validator=check.reason)


@frozen
class CorrectAttendance:
    """The attendance of a session was recorded wrongly; this is who attended."""

    name: ClassVar[str] = "correct_attendance"
    group_ref: str = field(validator=check.name)
    held_on: date
    attendees: tuple[str, ...] = field(validator=check.references)
    reason: str = field(validator=check.reason)

    def __attrs_post_init__(self) -> None:
        HoldSession(self.group_ref, self.held_on, self.attendees)  # the same checks


@frozen
class RetractSession:
    """A session was entered by mistake (it was not held that day)."""

    name: ClassVar[str] = "retract_session"
    group_ref: str = field(validator=check.name)
    held_on: date
    reason: str = field(validator=check.reason)


@frozen
class CorrectParticipant:
    """A participant's age at enrolment, gender or status was recorded wrongly."""

    name: ClassVar[str] = "correct_participant"
    group_ref: str = field(validator=check.name)
    participant_ref: str = field(validator=check.name)
    reason: str = field(validator=check.reason)
    age: int | None = field(default=None, validator=check.count)
    gender: Gender | None = None
    status: ResidenceStatus | None = None

    def __attrs_post_init__(self) -> None:
        if self.age is None and self.gender is None and self.status is None:
            raise InvalidValue("age", "a correction gives at least one of age, gender, status")


AgreementCommand = (
    ConcludeAgreement
    | ExtendAgreement
    | SetFunding
    | SetTarget
    | GiveNotice
    | RecordDisbursement
    | RetractDisbursement
)
GroupCommand = (
    PlanGroup
    | EnrollParticipant
    | WithdrawParticipant
    | HoldSession
    | CompleteGroup
    | CancelGroup
    | CorrectAttendance
    | RetractSession
    | CorrectParticipant
)
FollowUpCommand = ScheduleFollowUp | SubmitReport | CloseFollowUp
Command = AgreementCommand | GroupCommand | FollowUpCommand | ProtectionCommand

COMMANDS: dict[str, type[Command]] = {
    cls.name: cls
    for cls in (
        ConcludeAgreement,
        ExtendAgreement,
        SetFunding,
        SetTarget,
        GiveNotice,
        RecordDisbursement,
        PlanGroup,
        EnrollParticipant,
        WithdrawParticipant,
        HoldSession,
        CompleteGroup,
        CancelGroup,
        ScheduleFollowUp,
        SubmitReport,
        CloseFollowUp,
        RetractDisbursement,
        CorrectAttendance,
        RetractSession,
        CorrectParticipant,
        EraseParticipant,
        ApplyRetention,
    )
}
