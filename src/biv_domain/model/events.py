"""Events: the facts the ledger keeps, immutable and in the past tense.

An event says what happened in the world and carries its effective date (when
it happened: a decision's date, a session's date). When the ledger stored it is
not the event's business: the ledger wraps each event in a `Fact` with its
recorded time. Corrections are new events, never edits of old ones.
"""

from __future__ import annotations

from datetime import date

from attrs import frozen

from biv_domain.model.commands import Information
from biv_domain.model.figures import ReportFigures
from biv_domain.model.money import Money
from biv_domain.model.vocabulary import (
    Gender,
    GroupKind,
    Party,
    ResidenceStatus,
    TargetKind,
    Track,
)

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

    @property
    def effective_on(self) -> date:
        return self.decided_on


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

    @property
    def effective_on(self) -> date:
        return self.decided_on


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

    @property
    def effective_on(self) -> date:
        return self.decided_on


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

    @property
    def effective_on(self) -> date:
        return self.decided_on


@frozen
class NoticeGiven:
    """A party gave notice (sade upp överenskommelsen); it ends on `ends_on`."""

    case_number: str
    party: Party
    given_on: date
    ends_on: date

    @property
    def effective_on(self) -> date:
        return self.given_on


@frozen
class DisbursementRecorded:
    """The municipality paid money to the partner (utbetalning)."""

    case_number: str
    amount: Money
    paid_on: date
    source: str | None = None
    note: str = ""
    decision_ref: str | None = None

    @property
    def effective_on(self) -> date:
        return self.paid_on


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

    @property
    def effective_on(self) -> date:
        return self.starts_on


@frozen
class ParticipantEnrolled:
    """A participant joined a group: a pseudonymous reference, never a name."""

    group_ref: str
    participant_ref: str
    enrolled_on: date
    gender: Gender
    age: int | None
    status: ResidenceStatus | None

    @property
    def effective_on(self) -> date:
        return self.enrolled_on


@frozen
class ParticipantWithdrew:
    """A participant left the group."""

    group_ref: str
    participant_ref: str
    on: date

    @property
    def effective_on(self) -> date:
        return self.on


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

    @property
    def effective_on(self) -> date:
        return self.held_on


@frozen
class GroupCompleted:
    """The group finished its sessions."""

    group_ref: str
    on: date

    @property
    def effective_on(self) -> date:
        return self.on


@frozen
class GroupCancelled:
    """The group was cancelled."""

    group_ref: str
    on: date
    reason: str

    @property
    def effective_on(self) -> date:
        return self.on


# --- Follow-ups -------------------------------------------------------------------------------


@frozen
class FollowUpScheduled:
    """A follow-up of a window was scheduled, its report due on `due_on`."""

    follow_up_ref: str
    case_number: str
    start: date
    end: date
    due_on: date

    @property
    def effective_on(self) -> date:
        return self.start


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

    @property
    def effective_on(self) -> date:
        return self.submitted_on


@frozen
class FollowUpClosed:
    """The parties met and closed the follow-up."""

    follow_up_ref: str
    on: date
    assessment: str | None

    @property
    def effective_on(self) -> date:
        return self.on


# --- Corrections -------------------------------------------------------------------------------


@frozen
class DisbursementRetracted:
    """A payment recorded by mistake was retracted; the original fact stays in the history."""

    case_number: str
    paid_on: date
    amount: Money
    reason: str

    @property
    def effective_on(self) -> date:
        return self.paid_on


@frozen
class AttendanceCorrected:
    """A session's attendance was set right: these attended, not those first recorded."""

    group_ref: str
    held_on: date
    attendees: tuple[str, ...]
    previous_attendees: tuple[str, ...]
    reason: str

    @property
    def effective_on(self) -> date:
        return self.held_on


@frozen
class SessionRetracted:
    """A session entered by mistake was retracted."""

    group_ref: str
    held_on: date
    reason: str

    @property
    def effective_on(self) -> date:
        return self.held_on


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

    @property
    def effective_on(self) -> date:
        return self.enrolled_on


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

# The stored name of each event is its class name: stable, readable in the
# database, and independent of the module it lives in.
EVENT_TYPES: dict[str, type[Event]] = {
    cls.__name__: cls
    for cls in (
        AgreementConcluded,
        AgreementExtended,
        FundingChanged,
        TargetSet,
        NoticeGiven,
        DisbursementRecorded,
        GroupPlanned,
        ParticipantEnrolled,
        ParticipantWithdrew,
        SessionHeld,
        GroupCompleted,
        GroupCancelled,
        FollowUpScheduled,
        ReportSubmitted,
        FollowUpClosed,
        DisbursementRetracted,
        AttendanceCorrected,
        SessionRetracted,
        ParticipantCorrected,
    )
}
