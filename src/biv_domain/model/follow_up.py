"""A follow-up (uppföljning): a half-year's written report and the parties' meeting."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from attrs import evolve as _replace
from attrs import frozen

from biv_domain.errors import AlreadyExists, NotFound, RuleBroken
from biv_domain.model.agreement import AgreementState
from biv_domain.model.dates import Period
from biv_domain.model.events import (
    FollowUpClosed,
    FollowUpEvent,
    FollowUpScheduled,
    ReportSubmitted,
)
from biv_domain.model.figures import ReportFigures

if TYPE_CHECKING:  # the commands load with the first decision: a query only folds events
    from biv_domain.model.commands import FollowUpCommand, ScheduleFollowUp


class FollowUpStatus(StrEnum):
    """Where a follow-up stands on a given day."""

    SCHEDULED = "scheduled"  # its window has not ended yet
    DUE = "due"  # the window has ended; the report is awaited, not yet late
    OVERDUE = "overdue"  # past its due date with no report
    SUBMITTED = "submitted"  # the report is in; the parties have not closed it
    CLOSED = "closed"  # the parties met and closed it


@frozen
class FollowUpState:
    """What the ledger knows of one follow-up."""

    schedule: FollowUpScheduled
    report: ReportSubmitted | None = None
    closed: FollowUpClosed | None = None

    @property
    def follow_up_ref(self) -> str:
        return self.schedule.follow_up_ref

    @property
    def case_number(self) -> str:
        return self.schedule.case_number

    @property
    def window(self) -> Period:
        return Period(self.schedule.start, self.schedule.end)

    def status_on(self, on: date) -> FollowUpStatus:
        if self.closed is not None and self.closed.on <= on:
            return FollowUpStatus.CLOSED
        if self.report is not None and self.report.submitted_on <= on:
            return FollowUpStatus.SUBMITTED
        if self.schedule.due_on < on:
            return FollowUpStatus.OVERDUE
        if self.schedule.end < on:
            return FollowUpStatus.DUE
        return FollowUpStatus.SCHEDULED

    def submitted_late(self) -> bool:
        return self.report is not None and self.report.submitted_on > self.schedule.due_on

    def standing(self, on: date) -> FollowUpStanding:
        """Where the follow-up stands on `on`: what `biv follow-ups` lists.

        Only what had happened by `on` shows: a report submitted, or a meeting
        that closed it, after that day is not yet there (nor its assessment).
        """
        report = self.report if self.report and self.report.submitted_on <= on else None
        closed = self.closed if self.closed and self.closed.on <= on else None
        return FollowUpStanding(
            follow_up_ref=self.follow_up_ref,
            start=self.schedule.start,
            end=self.schedule.end,
            due_on=self.schedule.due_on,
            status=self.status_on(on),
            submitted_on=report.submitted_on if report else None,
            submitted_late=report is not None and self.submitted_late(),
            closed_on=closed.on if closed else None,
            assessment=closed.assessment if closed else None,
        )


@frozen
class FollowUpStanding:
    """A follow-up's window, due date and status on a day, and how its report came in."""

    follow_up_ref: str
    start: date
    end: date
    due_on: date
    status: FollowUpStatus
    submitted_on: date | None
    submitted_late: bool
    closed_on: date | None
    assessment: str | None


@frozen
class FollowUpStandings:
    """An agreement's follow-ups and where each stood on a day, as known at a moment."""

    case_number: str
    on: date
    as_known_at: datetime | None
    follow_ups: tuple[FollowUpStanding, ...]


def decide(
    command: FollowUpCommand,
    state: FollowUpState | None,
    agreement: AgreementState | None,
    figures: ReportFigures | None = None,
) -> list[FollowUpEvent]:
    """The events a follow-up command causes, or a refusal.

    `figures` are the follow-up window's report figures as the ledger knows
    them now; a submitted report keeps them.
    """
    from biv_domain.model.commands import CloseFollowUp, ScheduleFollowUp, SubmitReport

    if isinstance(command, ScheduleFollowUp):
        return [_schedule(command, state, agreement)]
    if state is None:
        raise NotFound("follow_up_ref", f"no follow-up with reference {command.follow_up_ref!r}")
    if state.closed is not None:
        raise RuleBroken(
            "follow_up_ref", f"follow-up {state.follow_up_ref!r} was closed on {state.closed.on}"
        )
    match command:
        case SubmitReport():
            if state.report is not None:
                raise RuleBroken(
                    "follow_up_ref",
                    f"a report for {state.follow_up_ref!r} was already submitted on "
                    f"{state.report.submitted_on}",
                )
            if command.submitted_on < state.schedule.start:
                raise RuleBroken(
                    "submitted_on",
                    f"{command.submitted_on} is before the window starts, {state.schedule.start}",
                )
            return [
                ReportSubmitted(
                    follow_up_ref=state.follow_up_ref,
                    submitted_on=command.submitted_on,
                    experience=command.experience,
                    information=command.information,
                    figures=figures,
                )
            ]
        case CloseFollowUp():
            if state.report is None:
                raise RuleBroken(
                    "follow_up_ref",
                    f"no report has been submitted for {state.follow_up_ref!r}; "
                    "a follow-up is closed after its written report",
                )
            if command.on < state.report.submitted_on:
                raise RuleBroken(
                    "on",
                    f"{command.on} is before the report was submitted, {state.report.submitted_on}",
                )
            return [
                FollowUpClosed(
                    follow_up_ref=state.follow_up_ref, on=command.on, assessment=command.assessment
                )
            ]
    raise TypeError(f"not a follow-up command: {command!r}")  # pragma: no cover


def _schedule(
    command: ScheduleFollowUp, state: FollowUpState | None, agreement: AgreementState | None
) -> FollowUpScheduled:
    if state is not None:
        raise AlreadyExists(
            "follow_up_ref", f"follow-up {command.follow_up_ref!r} is already scheduled"
        )
    if agreement is None:
        raise NotFound("case_number", f"no agreement with case number {command.case_number!r}")
    agreement.refuse_outside(Period(command.start, command.end), "the window")
    return FollowUpScheduled(
        follow_up_ref=command.follow_up_ref,
        case_number=command.case_number,
        start=command.start,
        end=command.end,
        due_on=command.due_on,
    )


def evolve(state: FollowUpState | None, event: FollowUpEvent) -> FollowUpState:
    """The state after one more event."""
    if isinstance(event, FollowUpScheduled):
        return FollowUpState(schedule=event)
    if state is None:
        raise ValueError(f"{type(event).__name__} before the follow-up was scheduled")
    match event:
        case ReportSubmitted():
            return _replace(state, report=event)
        case FollowUpClosed():
            return _replace(state, closed=event)
    raise TypeError(f"not a follow-up event: {event!r}")  # pragma: no cover
