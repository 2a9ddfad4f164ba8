"""Which pure decider a command goes to, and what it is given: the states of the batch.

The ledger's write side (`application`) calls `decide` for every line of a batch;
the deciders of `biv_domain.model` answer with events or a refusal.
"""

from __future__ import annotations

from biv_domain.errors import RuleBroken
from biv_domain.ledger import erasure
from biv_domain.ledger.bookkeeping import agreement_stream, follow_up_stream, group_stream
from biv_domain.ledger.reading import LedgerReads
from biv_domain.ledger.subjects import SubjectKeys
from biv_domain.ledger.unit_of_work import Batch
from biv_domain.model import agreement, follow_up, group
from biv_domain.model.agreement import AgreementState
from biv_domain.model.commands import (
    AgreementCommand,
    Command,
    CorrectParticipant,
    EnrollParticipant,
    FollowUpCommand,
    GroupCommand,
    PlanGroup,
    ScheduleFollowUp,
    SubmitReport,
)
from biv_domain.model.protection import ApplyRetention, EraseParticipant
from biv_domain.projections.report import report

READ_THE_AGREEMENT = (PlanGroup, EnrollParticipant, CorrectParticipant)
"""The group commands whose rules read the agreement's terms (`group.decide`: its period,
its ages); for the others (a session, a withdrawal, a closing) it is not loaded."""


def decide(ledger: LedgerReads, batch: Batch, command: Command) -> None:
    """Asks the command's pure decider for its events, on the states in the batch."""
    if isinstance(command, AgreementCommand):
        stream = agreement_stream(command.case_number)
        events = agreement.decide(command, batch.state(stream, agreement.evolve))
        batch.record(stream, events, agreement.evolve)
    elif isinstance(command, GroupCommand):
        _refuse_erased(ledger.keys, command)
        stream = group_stream(command.group_ref)
        state = batch.state(stream, group.evolve)
        terms = None
        if isinstance(command, READ_THE_AGREEMENT):
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
    elif isinstance(command, EraseParticipant):
        erasure.erase(ledger, batch, command)
    elif isinstance(command, ApplyRetention):
        erasure.apply_retention(ledger, batch, command)
    else:  # pragma: no cover
        raise TypeError(f"not a command: {command!r}")


def streams_of(command: Command) -> list[str]:
    """The streams whose states `decide` reads first for the command (more may follow)."""
    if isinstance(command, AgreementCommand):
        return [agreement_stream(command.case_number)]
    if isinstance(command, PlanGroup):
        return [group_stream(command.group_ref), agreement_stream(command.case_number)]
    if isinstance(command, GroupCommand):
        return [group_stream(command.group_ref)]
    if isinstance(command, ScheduleFollowUp):
        return [follow_up_stream(command.follow_up_ref), agreement_stream(command.case_number)]
    if isinstance(command, FollowUpCommand):
        return [follow_up_stream(command.follow_up_ref)]
    return []


def _agreement_of(batch: Batch, case_number: str | None) -> AgreementState | None:
    return batch.state(agreement_stream(case_number), agreement.evolve) if case_number else None


def _refuse_erased(keys: SubjectKeys, command: GroupCommand) -> None:
    """A reference whose data was erased is never recorded again: give a new one."""
    if isinstance(command, EnrollParticipant):
        record = keys.lookup(keys.subject_of(command.participant_ref))
        if record is not None and record.erased:
            raise RuleBroken(
                "participant_ref",
                f"the data of {command.participant_ref!r} was erased on {record.erased_on}; "
                "enrol the child under a new reference",
            )
