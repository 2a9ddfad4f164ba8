"""Events: the facts the ledger keeps, immutable and in the past tense.

An event says what happened in the world and carries its effective date (when
it happened: a decision's date, a session's date). When the ledger stored it is
not the event's business: the ledger wraps each event in a `Fact` with its
recorded time. Corrections are new events, never edits of old ones.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from attrs import frozen

from biv_domain.model.figures import Information, ReportFigures
from biv_domain.model.money import Money
from biv_domain.model.stored import REFERENCE, Stored, StoredTypes
from biv_domain.model.vocabulary import (
    Gender,
    GroupKind,
    Party,
    ResidenceStatus,
    TargetKind,
    Track,
)

Data = dict[str, Any]

# --- The agreement ----------------------------------------------------------------------------


@frozen
class AgreementConcluded:
    """The agreement was concluded (överenskommelsen ingicks)."""

    case_number: str
    title: str
    municipality: str
    partner: str
    start: date
    end: date
    notice_months: int
    decided_on: date
    min_age: int
    max_age: int
    follow_up_months: int
    note: str = ""
    decided_by: str | None = None
    decision_ref: str | None = None


@frozen
class AgreementExtended:
    """The agreement was extended (förlängdes) from one end date to a later one."""

    case_number: str
    previous_end: date
    end: date
    decided_on: date
    note: str = ""
    decided_by: str | None = None
    decision_ref: str | None = None


@frozen
class FundingChanged:
    """A funding line was set: a party's money from a source for a period (0 withdraws it)."""

    case_number: str
    party: Party
    source: str
    start: date
    end: date
    amount: Money
    previous_amount: Money
    decided_on: date
    note: str = ""
    decided_by: str | None = None
    decision_ref: str | None = None


@frozen
class TargetSet:
    """A yearly commitment was set (children or groups a year)."""

    case_number: str
    target: TargetKind
    value: int
    decided_on: date
    note: str = ""
    decided_by: str | None = None
    decision_ref: str | None = None


@frozen
class NoticeGiven:
    """A party gave notice (sade upp överenskommelsen); it ends on `ends_on`."""

    case_number: str
    party: Party
    given_on: date
    ends_on: date


@frozen
class DisbursementRecorded:
    """The municipality paid money to the partner (utbetalning)."""

    case_number: str
    amount: Money
    paid_on: date
    source: str | None = None
    note: str = ""
    decision_ref: str | None = None


# --- Groups -----------------------------------------------------------------------------------


@frozen
class GroupPlanned:
    """A support group was planned under an agreement."""

    group_ref: str
    case_number: str
    kind: GroupKind
    area: str
    starts_on: date
    track: Track | None
    planned_sessions: int
    language: str | None


@frozen
class ParticipantEnrolled:
    """A participant joined a group: a pseudonymous reference, never a name."""

    group_ref: str
    participant_ref: str
    enrolled_on: date
    gender: Gender
    age: int | None
    status: ResidenceStatus | None


@frozen
class ParticipantWithdrew:
    """A participant left the group."""

    group_ref: str
    participant_ref: str
    on: date


SESSION_NORM_MINUTES = 120  # the method's session: two hours (a träff of the programme)


@frozen
class SessionHeld:
    """A session (träff) was held; these participants attended, for so many minutes.

    Version 2 added `minutes` and `minutes_assumed`: a session whose length was not
    given (every session of a format-1 store) counts as the method's norm of
    120 minutes, marked as assumed, so hours of support can be reported honestly.
    """

    group_ref: str
    held_on: date
    attendees: tuple[str, ...]
    minutes: int = SESSION_NORM_MINUTES
    minutes_assumed: bool = True


@frozen
class GroupCompleted:
    """The group finished its sessions."""

    group_ref: str
    on: date


@frozen
class GroupCancelled:
    """The group was cancelled."""

    group_ref: str
    on: date
    reason: str


# --- Follow-ups -------------------------------------------------------------------------------


@frozen
class FollowUpScheduled:
    """A follow-up of a window was scheduled, its report due on `due_on`."""

    follow_up_ref: str
    case_number: str
    start: date
    end: date
    due_on: date


@frozen
class ReportSubmitted:
    """The partner submitted the written report for a follow-up.

    `figures` are the window's figures as the ledger knew them at that moment,
    frozen into the fact, so that what was reported can always be set beside
    what the ledger shows today.
    """

    follow_up_ref: str
    submitted_on: date
    experience: str | None
    information: Information | None
    figures: ReportFigures | None = None


@frozen
class FollowUpClosed:
    """The parties met and closed the follow-up."""

    follow_up_ref: str
    on: date
    assessment: str | None


# --- Corrections -------------------------------------------------------------------------------


@frozen
class DisbursementRetracted:
    """A payment recorded by mistake was retracted; the original fact stays in the history."""

    case_number: str
    paid_on: date
    amount: Money
    reason: str


@frozen
class AttendanceCorrected:
    """A session's attendance was set right: these attended, not those first recorded."""

    group_ref: str
    held_on: date
    attendees: tuple[str, ...]
    previous_attendees: tuple[str, ...]
    reason: str


@frozen
class SessionRetracted:
    """A session entered by mistake was retracted."""

    group_ref: str
    held_on: date
    reason: str


@frozen
class ParticipantCorrected:
    """A participant's age, gender or status as at enrolment was set right."""

    group_ref: str
    participant_ref: str
    enrolled_on: date
    age: int | None
    gender: Gender
    status: ResidenceStatus | None
    reason: str


AgreementEvent = (
    AgreementConcluded
    | AgreementExtended
    | FundingChanged
    | TargetSet
    | NoticeGiven
    | DisbursementRecorded
    | DisbursementRetracted
)
GroupEvent = (
    GroupPlanned
    | ParticipantEnrolled
    | ParticipantWithdrew
    | SessionHeld
    | GroupCompleted
    | GroupCancelled
    | AttendanceCorrected
    | SessionRetracted
    | ParticipantCorrected
)
FollowUpEvent = FollowUpScheduled | ReportSubmitted | FollowUpClosed
Event = AgreementEvent | GroupEvent | FollowUpEvent

# --- How each event is stored (see `stored`): its version, personal fields, lists and date -------


def session_minutes_v1_v2(data: Data) -> Data:
    """SessionHeld 1 → 2: a session gains its length in minutes.

    Format-1 sessions were recorded without a length; they count as the
    method's norm (120 minutes), marked as assumed, so a follow-up can report
    hours of support without passing a guess off as a measurement.
    """
    return {"minutes": SESSION_NORM_MINUTES, "minutes_assumed": True, **data}


def report_minutes_v1_v2(data: Data) -> Data:
    """ReportSubmitted 1 → 2: the frozen figures gain the minutes of support.

    Figures frozen by format-1 code did not count minutes: they are null
    (not counted when submitted), never a number made up afterwards.
    """
    figures = data.get("figures")
    if figures is None:
        return data
    counted = {"support_minutes": None, "support_minutes_assumed": None, **figures}
    return {**data, "figures": counted}


PERSONAL = (REFERENCE, "gender", "age", "status")  # a child's, sealed under its key

EVENTS = StoredTypes(
    Stored(AgreementConcluded, "decided_on"),
    Stored(AgreementExtended, "decided_on"),
    Stored(FundingChanged, "decided_on"),
    Stored(TargetSet, "decided_on"),
    Stored(NoticeGiven, "given_on"),
    Stored(DisbursementRecorded, "paid_on"),
    Stored(GroupPlanned, "starts_on"),
    Stored(ParticipantEnrolled, "enrolled_on", sealed=PERSONAL),
    Stored(ParticipantWithdrew, "on", sealed=(REFERENCE,)),
    Stored(SessionHeld, "held_on", (session_minutes_v1_v2,), lists=("attendees",)),
    Stored(GroupCompleted, "on"),
    Stored(GroupCancelled, "on"),
    Stored(FollowUpScheduled, "start"),
    Stored(ReportSubmitted, "submitted_on", (report_minutes_v1_v2,)),
    Stored(FollowUpClosed, "on"),
    Stored(DisbursementRetracted, "paid_on"),
    Stored(AttendanceCorrected, "held_on", lists=("attendees", "previous_attendees")),
    Stored(SessionRetracted, "held_on"),
    Stored(ParticipantCorrected, "enrolled_on", sealed=(*PERSONAL, "reason")),
)
"""The partnership's events, one declaration each: the one place to add an event or a version."""

EVENT_TYPES: dict[str, type[Event]] = EVENTS.types
"""Each event type by its stored name (derived from `EVENTS`)."""
