"""Where each command goes: its pure decider and the events it records, in one look-up.

From a command's type, `HANDLED` names the decider that answers it (`decide` of
the agreement, a group or a follow-up) and the types of the events it may record;
`stored` how each of those is stored (`events.EVENTS`): a command's whole path,
rule to row, is one look-up from its class. The ledger's own records
(an applied line, a member, a batch's seal) are added by the ledger, not named here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from attrs import frozen

from biv_domain.model import agreement, follow_up, group
from biv_domain.model.commands import (
    CancelGroup,
    CloseFollowUp,
    CompleteGroup,
    ConcludeAgreement,
    CorrectAttendance,
    CorrectParticipant,
    EnrollParticipant,
    ExtendAgreement,
    GiveNotice,
    HoldSession,
    PlanGroup,
    RecordDisbursement,
    RetractDisbursement,
    RetractSession,
    ScheduleFollowUp,
    SetFunding,
    SetTarget,
    SubmitReport,
    WithdrawParticipant,
)
from biv_domain.model.events import (
    EVENTS,
    AgreementConcluded,
    AgreementExtended,
    AttendanceCorrected,
    DisbursementRecorded,
    DisbursementRetracted,
    FollowUpClosed,
    FollowUpScheduled,
    FundingChanged,
    GroupCancelled,
    GroupCompleted,
    GroupPlanned,
    NoticeGiven,
    ParticipantCorrected,
    ParticipantEnrolled,
    ParticipantWithdrew,
    ReportSubmitted,
    SessionHeld,
    SessionRetracted,
    TargetSet,
)
from biv_domain.model.stored import Stored


@frozen
class Handled:
    """A command's decider and the types of the events it may record."""

    decider: Callable[..., list[Any]]
    events: tuple[type[Any], ...]

    @property
    def stored(self) -> tuple[Stored, ...]:
        """How each of its events is stored (`events.EVENTS`)."""
        return tuple(EVENTS.of(event) for event in self.events)


HANDLED: dict[type[Any], Handled] = {
    ConcludeAgreement: Handled(agreement.decide, (AgreementConcluded,)),
    ExtendAgreement: Handled(agreement.decide, (AgreementExtended,)),
    SetFunding: Handled(agreement.decide, (FundingChanged,)),
    SetTarget: Handled(agreement.decide, (TargetSet,)),
    GiveNotice: Handled(agreement.decide, (NoticeGiven,)),
    RecordDisbursement: Handled(agreement.decide, (DisbursementRecorded,)),
    RetractDisbursement: Handled(agreement.decide, (DisbursementRetracted,)),
    PlanGroup: Handled(group.decide, (GroupPlanned,)),
    EnrollParticipant: Handled(group.decide, (ParticipantEnrolled,)),
    WithdrawParticipant: Handled(group.decide, (ParticipantWithdrew,)),
    HoldSession: Handled(group.decide, (SessionHeld,)),
    CompleteGroup: Handled(group.decide, (GroupCompleted,)),
    CancelGroup: Handled(group.decide, (GroupCancelled,)),
    CorrectAttendance: Handled(group.decide, (AttendanceCorrected,)),
    RetractSession: Handled(group.decide, (SessionRetracted,)),
    CorrectParticipant: Handled(group.decide, (ParticipantCorrected,)),
    ScheduleFollowUp: Handled(follow_up.decide, (FollowUpScheduled,)),
    SubmitReport: Handled(follow_up.decide, (ReportSubmitted,)),
    CloseFollowUp: Handled(follow_up.decide, (FollowUpClosed,)),
}
"""Each command of the partnership: its decider and its events. Erasure and retention
(`model.protection`) are decided by `ledger.erasure` and record the ledger's own
`ParticipantErased`, so they are not (yet) named here."""
