"""Commands: what a user asks the ledger to record, one class per exchange-format command.

Each command checks the shape of its own values when it is built (a name is not
blank, an age is a whole number, a period does not end before it starts). Rules
that need the ledger's state (is the agreement in force? is the child enrolled?)
are the deciders' job, in `agreement`, `group` and `follow_up`.
"""

from __future__ import annotations

from datetime import date
from typing import Any, ClassVar

from attrs import Attribute, field, frozen, validators

from biv_domain.errors import InvalidValue
from biv_domain.model.dates import refuse_reversed
from biv_domain.model.money import MAX_ORE, Money
from biv_domain.model.vocabulary import (
    Gender,
    GroupKind,
    Party,
    ResidenceStatus,
    TargetKind,
    Track,
)

# --- Limits: every value a command carries is bounded, so that every store can hold it ----------

NAME_LIMIT = 200
"""The most characters of a name or reference (case number, party, source, area, refs, ...)."""
FREE_TEXT_LIMIT = 1000
"""The most characters of free text (note, reason, experience, assessment)."""
COUNT_LIMIT = 100_000
"""The largest count, age, number of months or target a command may carry."""
ATTENDEES_LIMIT = 1000
"""The most attendees one session may list."""
FREE_TEXT = frozenset({"note", "reason", "experience", "assessment"})


def _text_limit(limit: int) -> Any:
    def check(_instance: object, attribute: Attribute[Any], value: object) -> None:
        if isinstance(value, str) and len(value) > limit:
            raise InvalidValue(
                attribute.name, f"must be at most {limit} characters, got {len(value)}"
            )

    return check


def _count_limit(_instance: object, attribute: Attribute[Any], value: object) -> None:
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > COUNT_LIMIT:
        raise InvalidValue(attribute.name, f"must be at most {COUNT_LIMIT}, got {value}")


def _money_limit(_instance: object, attribute: Attribute[Any], value: object) -> None:
    if isinstance(value, Money) and abs(value.ore) > MAX_ORE:
        raise InvalidValue(attribute.name, f"must be at most {Money(MAX_ORE)} kronor, got {value}")


def _refs_limit(_instance: object, attribute: Attribute[Any], value: object) -> None:
    if not isinstance(value, tuple):
        return
    if len(value) > ATTENDEES_LIMIT:
        raise InvalidValue(attribute.name, f"must list at most {ATTENDEES_LIMIT}, got {len(value)}")
    for ref in value:
        if isinstance(ref, str) and len(ref) > NAME_LIMIT:
            raise InvalidValue(
                attribute.name,
                f"a participant reference must be at most {NAME_LIMIT} characters",
            )


def _limits(_cls: type, fields: list[Attribute[Any]]) -> list[Attribute[Any]]:
    """Adds the limit that fits each field's type: one place for every command's bounds.

    The limits are checked before the field's own validator, so that a huge value
    is refused by its size before anything else looks at it.
    """
    bounded = []
    for attribute in fields:
        kind = str(attribute.type)
        limit: Any = None
        if kind in ("str", "str | None"):
            limit = _text_limit(FREE_TEXT_LIMIT if attribute.name in FREE_TEXT else NAME_LIMIT)
        elif kind in ("int", "int | None"):
            limit = _count_limit
        elif kind == "Money":
            limit = _money_limit
        elif kind == "tuple[str, ...]":
            limit = _refs_limit
        if limit is not None:
            checks = [limit] if attribute.validator is None else [limit, attribute.validator]
            attribute = attribute.evolve(validator=validators.and_(*checks))
        bounded.append(attribute)
    return bounded


def _text(_instance: object, attribute: Attribute[Any], value: str) -> None:
    if not value.strip():
        raise InvalidValue(attribute.name, "must not be empty")


def _positive(_instance: object, attribute: Attribute[Any], value: int) -> None:
    if value < 1:
        raise InvalidValue(attribute.name, f"must be 1 or more, got {value}")


def _not_negative(_instance: object, attribute: Attribute[Any], value: int) -> None:
    if value < 0:
        raise InvalidValue(attribute.name, f"must not be negative, got {value}")


def _money_not_negative(_instance: object, attribute: Attribute[Any], value: Money) -> None:
    if value.ore < 0:
        raise InvalidValue(attribute.name, f"must not be negative, got {value}")


def _optional_text(_instance: object, attribute: Attribute[Any], value: str | None) -> None:
    if value is not None and not value.strip():
        raise InvalidValue(attribute.name, "must not be empty when given")


@frozen(field_transformer=_limits)
class Information:
    """Whether each party spread information about the programme (informationsspridning)."""

    municipality: bool
    partner: bool


# --- The agreement (överenskommelsen) ---------------------------------------------------------


@frozen(field_transformer=_limits)
class ConcludeAgreement:
    """Conclude an agreement (överenskommelse, IOP), known by its case number (diarienummer)."""

    name: ClassVar[str] = "conclude_agreement"
    case_number: str = field(validator=_text)
    title: str = field(validator=_text)
    municipality: str = field(validator=_text)
    partner: str = field(validator=_text)
    start: date
    end: date
    notice_months: int = field(validator=_not_negative)
    decided_on: date
    min_age: int = field(default=7, validator=_not_negative)
    max_age: int = field(default=20, validator=_not_negative)
    follow_up_months: int = field(default=6, validator=_positive)
    note: str = ""
    decided_by: str | None = field(default=None, validator=_optional_text)
    decision_ref: str | None = field(default=None, validator=_optional_text)

    def __attrs_post_init__(self) -> None:
        refuse_reversed(self.start, self.end)
        if self.max_age < self.min_age:
            raise InvalidValue("max_age", f"{self.max_age} is below min_age {self.min_age}")


@frozen(field_transformer=_limits)
class ExtendAgreement:
    """Extend the agreement (förlängning) to a later end date."""

    name: ClassVar[str] = "extend_agreement"
    case_number: str = field(validator=_text)
    end: date
    decided_on: date
    note: str = ""
    decided_by: str | None = field(default=None, validator=_optional_text)
    decision_ref: str | None = field(default=None, validator=_optional_text)


@frozen(field_transformer=_limits)
class SetFunding:
    """Set one funding line (finansiering): a party's money from one source for one period.

    A later decision on the same party, source and period replaces the amount; "0" withdraws it.
    """

    name: ClassVar[str] = "set_funding"
    case_number: str = field(validator=_text)
    party: Party
    source: str = field(validator=_text)
    start: date
    end: date
    amount: Money = field(validator=_money_not_negative)
    decided_on: date
    note: str = ""
    decided_by: str | None = field(default=None, validator=_optional_text)
    decision_ref: str | None = field(default=None, validator=_optional_text)

    def __attrs_post_init__(self) -> None:
        refuse_reversed(self.start, self.end)


@frozen(field_transformer=_limits)
class SetTarget:
    """Set a yearly commitment (åtagande): children or groups a year."""

    name: ClassVar[str] = "set_target"
    case_number: str = field(validator=_text)
    target: TargetKind
    value: int = field(validator=_not_negative)
    decided_on: date
    note: str = ""
    decided_by: str | None = field(default=None, validator=_optional_text)
    decision_ref: str | None = field(default=None, validator=_optional_text)


@frozen(field_transformer=_limits)
class GiveNotice:
    """A party gives notice (uppsägning); the agreement ends when the notice period runs out."""

    name: ClassVar[str] = "give_notice"
    case_number: str = field(validator=_text)
    party: Party
    given_on: date


@frozen(field_transformer=_limits)
class RecordDisbursement:
    """Record a payment (utbetalning) from the municipality to the partner."""

    name: ClassVar[str] = "record_disbursement"
    case_number: str = field(validator=_text)
    amount: Money
    paid_on: date
    source: str | None = None
    note: str = ""
    decision_ref: str | None = field(default=None, validator=_optional_text)

    def __attrs_post_init__(self) -> None:
        if self.amount.ore <= 0:
            raise InvalidValue("amount", f"a payment must be more than 0, got {self.amount}")
        if self.source is not None and not self.source.strip():
            raise InvalidValue("source", "must not be empty when given")


# --- Groups (grupper) -------------------------------------------------------------------------


@frozen(field_transformer=_limits)
class PlanGroup:
    """Plan a support group (stödgrupp) for children or for parents."""

    name: ClassVar[str] = "plan_group"
    group_ref: str = field(validator=_text)
    case_number: str = field(validator=_text)
    kind: GroupKind
    area: str = field(validator=_text)
    starts_on: date
    track: Track | None = None
    planned_sessions: int = field(default=14, validator=_positive)
    language: str | None = None


@frozen(field_transformer=_limits)
class EnrollParticipant:
    """Enrol a participant (deltagare) by a pseudonymous reference; never a name."""

    name: ClassVar[str] = "enroll_participant"
    group_ref: str = field(validator=_text)
    participant_ref: str = field(validator=_text)
    enrolled_on: date
    gender: Gender
    age: int | None = None
    status: ResidenceStatus | None = None


@frozen(field_transformer=_limits)
class WithdrawParticipant:
    """A participant leaves the group (avbryter)."""

    name: ClassVar[str] = "withdraw_participant"
    group_ref: str = field(validator=_text)
    participant_ref: str = field(validator=_text)
    on: date


@frozen(field_transformer=_limits)
class HoldSession:
    """Record a session (träff) held, with who attended."""

    name: ClassVar[str] = "hold_session"
    group_ref: str = field(validator=_text)
    held_on: date
    attendees: tuple[str, ...]

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


@frozen(field_transformer=_limits)
class CompleteGroup:
    """The group has held its sessions and is finished (avslutad)."""

    name: ClassVar[str] = "complete_group"
    group_ref: str = field(validator=_text)
    on: date


@frozen(field_transformer=_limits)
class CancelGroup:
    """The group is cancelled (inställd), with the reason."""

    name: ClassVar[str] = "cancel_group"
    group_ref: str = field(validator=_text)
    on: date
    reason: str = field(validator=_text)


# --- Follow-ups (uppföljning) -----------------------------------------------------------------


@frozen(field_transformer=_limits)
class ScheduleFollowUp:
    """Schedule a half-year follow-up (uppföljning) of a window, with its report's due date."""

    name: ClassVar[str] = "schedule_follow_up"
    follow_up_ref: str = field(validator=_text)
    case_number: str = field(validator=_text)
    start: date
    end: date
    due_on: date

    def __attrs_post_init__(self) -> None:
        refuse_reversed(self.start, self.end)
        if self.due_on < self.start:
            raise InvalidValue("due_on", f"{self.due_on} is before the window starts {self.start}")


@frozen(field_transformer=_limits)
class SubmitReport:
    """The partner submits the written report (skriftlig redovisning) for a follow-up."""

    name: ClassVar[str] = "submit_report"
    follow_up_ref: str = field(validator=_text)
    submitted_on: date
    experience: str | None = None
    information: Information | None = None


@frozen(field_transformer=_limits)
class CloseFollowUp:
    """The parties have met and the follow-up is closed (avstämd), with an assessment."""

    name: ClassVar[str] = "close_follow_up"
    follow_up_ref: str = field(validator=_text)
    on: date
    assessment: str | None = None


# --- Corrections (rättelser): new facts that set right what was recorded wrongly -------------


@frozen(field_transformer=_limits)
class RetractDisbursement:
    """A payment was recorded by mistake; the one paid on that day of that amount is retracted."""

    name: ClassVar[str] = "retract_disbursement"
    case_number: str = field(validator=_text)
    paid_on: date
    amount: Money
    reason: str = field(validator=_text)


@frozen(field_transformer=_limits)
class CorrectAttendance:
    """The attendance of a session was recorded wrongly; this is who attended."""

    name: ClassVar[str] = "correct_attendance"
    group_ref: str = field(validator=_text)
    held_on: date
    attendees: tuple[str, ...]
    reason: str = field(validator=_text)

    def __attrs_post_init__(self) -> None:
        HoldSession(self.group_ref, self.held_on, self.attendees)  # the same checks


@frozen(field_transformer=_limits)
class RetractSession:
    """A session was entered by mistake (it was not held that day)."""

    name: ClassVar[str] = "retract_session"
    group_ref: str = field(validator=_text)
    held_on: date
    reason: str = field(validator=_text)


@frozen(field_transformer=_limits)
class CorrectParticipant:
    """A participant's age at enrolment, gender or status was recorded wrongly."""

    name: ClassVar[str] = "correct_participant"
    group_ref: str = field(validator=_text)
    participant_ref: str = field(validator=_text)
    reason: str = field(validator=_text)
    age: int | None = None
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
Command = AgreementCommand | GroupCommand | FollowUpCommand

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
    )
}
