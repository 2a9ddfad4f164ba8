"""A support group (stödgrupp): its participants and its sessions.

Participants are children (or, in parents' groups, their parents) in a
vulnerable position. The group keeps a pseudonymous reference supplied by the
partner, the age at enrolment, gender and residence status: never a name.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from attrs import evolve as _replace
from attrs import frozen

from biv_domain.errors import AlreadyExists, InvalidValue, NotFound, RuleBroken
from biv_domain.model.agreement import AgreementState
from biv_domain.model.events import (
    AttendanceCorrected,
    GroupCancelled,
    GroupCompleted,
    GroupEvent,
    GroupPlanned,
    ParticipantCorrected,
    ParticipantEnrolled,
    ParticipantWithdrew,
    SessionHeld,
    SessionRetracted,
)
from biv_domain.model.vocabulary import ADULT_GENDERS, CHILD_GENDERS, GroupKind

if TYPE_CHECKING:  # the commands load with the first decision: a query only folds events
    from biv_domain.model.commands import (
        CorrectAttendance,
        CorrectParticipant,
        EnrollParticipant,
        GroupCommand,
        HoldSession,
        PlanGroup,
        RetractSession,
        WithdrawParticipant,
    )


@frozen
class Participant:
    """One enrolment in a group, and when it ended, if it did."""

    enrolment: ParticipantEnrolled
    withdrawn_on: date | None = None

    @property
    def ref(self) -> str:
        return self.enrolment.participant_ref

    def enrolled_on_day(self, day: date) -> bool:
        """Enrolled on that day: on or after enrolment, and before any withdrawal."""
        return self.enrolment.enrolled_on <= day and (
            self.withdrawn_on is None or day < self.withdrawn_on
        )


@frozen
class GroupState:
    """What the ledger knows of one group."""

    plan: GroupPlanned
    participants: tuple[Participant, ...] = ()
    sessions: tuple[SessionHeld, ...] = ()
    completed: GroupCompleted | None = None
    cancelled: GroupCancelled | None = None

    @property
    def group_ref(self) -> str:
        return self.plan.group_ref

    @property
    def case_number(self) -> str:
        return self.plan.case_number

    def participant(self, ref: str) -> Participant | None:
        return next((p for p in self.participants if p.ref == ref), None)

    @property
    def closed_on(self) -> date | None:
        ended = self.completed or self.cancelled
        return ended.on if ended else None


def decide(
    command: GroupCommand, state: GroupState | None, agreement: AgreementState | None
) -> list[GroupEvent]:
    """The events a group command causes, or a refusal.

    `agreement` is the agreement the group belongs to (for a plan: the one it names).
    """
    from biv_domain.model.commands import (
        CancelGroup,
        CompleteGroup,
        CorrectAttendance,
        CorrectParticipant,
        EnrollParticipant,
        HoldSession,
        PlanGroup,
        RetractSession,
        WithdrawParticipant,
    )

    if isinstance(command, PlanGroup):
        return [_plan(command, state, agreement)]
    if state is None:
        raise NotFound("group_ref", f"no group with reference {command.group_ref!r}")
    # Corrections set the record right whatever became of the group since.
    if isinstance(command, CorrectAttendance | RetractSession | CorrectParticipant):
        return [_correct(command, state, agreement)]
    _refuse_if_closed(state)
    match command:
        case EnrollParticipant():
            return [_enroll(command, state, agreement)]
        case WithdrawParticipant():
            return [_withdraw(command, state)]
        case HoldSession():
            return [_hold_session(command, state)]
        case CompleteGroup():
            _refuse_before_start(state, command.on, "on")
            _refuse_before_last_session(state, command.on)
            return [GroupCompleted(group_ref=state.group_ref, on=command.on)]
        case CancelGroup():
            _refuse_before_last_session(state, command.on)
            return [GroupCancelled(group_ref=state.group_ref, on=command.on, reason=command.reason)]
    raise TypeError(f"not a group command: {command!r}")  # pragma: no cover


def _plan(
    command: PlanGroup, state: GroupState | None, agreement: AgreementState | None
) -> GroupPlanned:
    if state is not None:
        raise AlreadyExists("group_ref", f"group {command.group_ref!r} is already planned")
    if agreement is None:
        raise NotFound("case_number", f"no agreement with case number {command.case_number!r}")
    period = agreement.period()
    if command.starts_on not in period:
        raise RuleBroken(
            "starts_on",
            f"agreement {agreement.case_number!r} is not in force on {command.starts_on} "
            f"(it runs {period.start} – {period.end})",
        )
    return GroupPlanned(
        group_ref=command.group_ref,
        case_number=command.case_number,
        kind=command.kind,
        area=command.area,
        starts_on=command.starts_on,
        track=command.track,
        planned_sessions=command.planned_sessions,
        language=command.language,
    )


def _refuse_if_closed(state: GroupState) -> None:
    if state.completed is not None:
        raise RuleBroken(
            "group_ref", f"group {state.group_ref!r} was completed on {state.completed.on}"
        )
    if state.cancelled is not None:
        raise RuleBroken(
            "group_ref", f"group {state.group_ref!r} was cancelled on {state.cancelled.on}"
        )


def _session(state: GroupState, held_on: date) -> SessionHeld:
    for session in state.sessions:
        if session.held_on == held_on:
            return session
    raise NotFound("held_on", f"group {state.group_ref!r} has no session on {held_on}")


def _correct(
    command: CorrectAttendance | RetractSession | CorrectParticipant,
    state: GroupState,
    agreement: AgreementState | None,
) -> AttendanceCorrected | SessionRetracted | ParticipantCorrected:
    from biv_domain.model.commands import CorrectAttendance, EnrollParticipant, RetractSession

    if isinstance(command, RetractSession):
        _session(state, command.held_on)
        return SessionRetracted(state.group_ref, command.held_on, command.reason)
    if isinstance(command, CorrectAttendance):
        session = _session(state, command.held_on)
        if set(command.attendees) == set(session.attendees):
            raise RuleBroken("attendees", "are the same as recorded; there is nothing to correct")
        _refuse_unless_enrolled(state, command.attendees, command.held_on)
        return AttendanceCorrected(
            state.group_ref, command.held_on, command.attendees, session.attendees, command.reason
        )
    participant = state.participant(command.participant_ref)
    if participant is None:
        raise NotFound(
            "participant_ref",
            f"{command.participant_ref!r} is not enrolled in group {state.group_ref!r}",
        )
    was = participant.enrolment
    corrected = _enrolment_checked(
        state,
        agreement,
        EnrollParticipant(
            state.group_ref,
            was.participant_ref,
            was.enrolled_on,
            command.gender or was.gender,
            command.age if command.age is not None else was.age,
            command.status or was.status,
        ),
    )
    if (corrected.age, corrected.gender, corrected.status) == (was.age, was.gender, was.status):
        raise RuleBroken("participant_ref", "the correction changes nothing recorded")
    return ParticipantCorrected(
        state.group_ref,
        was.participant_ref,
        was.enrolled_on,
        corrected.age,
        corrected.gender,
        corrected.status,
        command.reason,
    )


def _refuse_unless_enrolled(state: GroupState, attendees: tuple[str, ...], day: date) -> None:
    # The participants by reference, the first of each as `participant` finds it: one pass
    # over them for the session, not one for each attendee.
    by_ref = {p.ref: p for p in reversed(state.participants)}
    for ref in attendees:
        participant = by_ref.get(ref)
        if participant is None or not participant.enrolled_on_day(day):
            raise RuleBroken(
                "attendees", f"{ref!r} is not enrolled in group {state.group_ref!r} on {day}"
            )


def _refuse_before_last_session(state: GroupState, day: date) -> None:
    last = max((s.held_on for s in state.sessions), default=None)
    if last is not None and day < last:
        raise RuleBroken("on", f"{day} is before the last session, {last}")


def _refuse_before_start(state: GroupState, day: date, field: str) -> None:
    if day < state.plan.starts_on:
        raise RuleBroken(field, f"{day} is before the group starts, {state.plan.starts_on}")


def _enroll(
    command: EnrollParticipant, state: GroupState, agreement: AgreementState | None
) -> ParticipantEnrolled:
    if state.participant(command.participant_ref) is not None:
        raise AlreadyExists(
            "participant_ref",
            f"{command.participant_ref!r} is already enrolled in group {state.group_ref!r}",
        )
    return _enrolment_checked(state, agreement, command)


def _enrolment_checked(
    state: GroupState, agreement: AgreementState | None, command: EnrollParticipant
) -> ParticipantEnrolled:
    """The enrolment, if its age and gender fit the group and the agreement."""
    from biv_domain.model.commands import DEFAULT_AGES

    if state.plan.kind is GroupKind.CHILDREN:
        if command.gender not in CHILD_GENDERS:
            raise InvalidValue(
                "gender",
                f"{command.gender.value!r} is for parents; a child is girl, boy, other or unknown",
            )
        if command.age is None:
            raise InvalidValue("age", "is required in a children's group (age at enrolment)")
        terms = agreement.terms if agreement else None
        low, high = (terms.min_age, terms.max_age) if terms else DEFAULT_AGES
        if not low <= command.age <= high:
            raise InvalidValue(
                "age", f"{command.age} is outside the ages {low}–{high} the agreement covers"
            )
    elif command.gender not in ADULT_GENDERS:
        raise InvalidValue(
            "gender",
            f"{command.gender.value!r} is for children; a parent is woman, man, other or unknown",
        )
    if command.age is not None and command.age < 0:
        raise InvalidValue("age", f"must not be negative, got {command.age}")
    return ParticipantEnrolled(
        group_ref=state.group_ref,
        participant_ref=command.participant_ref,
        enrolled_on=command.enrolled_on,
        gender=command.gender,
        age=command.age,
        status=command.status,
    )


def _withdraw(command: WithdrawParticipant, state: GroupState) -> ParticipantWithdrew:
    participant = state.participant(command.participant_ref)
    if participant is None:
        raise NotFound(
            "participant_ref",
            f"{command.participant_ref!r} is not enrolled in group {state.group_ref!r}",
        )
    if participant.withdrawn_on is not None:
        raise RuleBroken(
            "participant_ref",
            f"{command.participant_ref!r} already left the group on {participant.withdrawn_on}",
        )
    if command.on < participant.enrolment.enrolled_on:
        raise RuleBroken(
            "on", f"{command.on} is before the enrolment on {participant.enrolment.enrolled_on}"
        )
    attended = [s.held_on for s in state.sessions if command.participant_ref in s.attendees]
    if attended and command.on <= max(attended):
        raise RuleBroken(
            "on",
            f"{command.on} is not after {command.participant_ref!r} attended a session on "
            f"{max(attended)}; a participant leaves after the last session attended",
        )
    return ParticipantWithdrew(
        group_ref=state.group_ref, participant_ref=command.participant_ref, on=command.on
    )


def _hold_session(command: HoldSession, state: GroupState) -> SessionHeld:
    _refuse_before_start(state, command.held_on, "held_on")
    if any(s.held_on == command.held_on for s in state.sessions):
        raise AlreadyExists(
            "held_on", f"group {state.group_ref!r} already has a session on {command.held_on}"
        )
    _refuse_unless_enrolled(state, command.attendees, command.held_on)
    if command.minutes is None:
        return SessionHeld(state.group_ref, command.held_on, command.attendees)
    return SessionHeld(
        state.group_ref, command.held_on, command.attendees, command.minutes, minutes_assumed=False
    )


def evolve(state: GroupState | None, event: GroupEvent) -> GroupState:
    """The state after one more event."""
    if isinstance(event, GroupPlanned):
        return GroupState(plan=event)
    if state is None:
        raise ValueError(f"{type(event).__name__} before the group was planned")
    match event:
        # The two events an import holds most of are folded by making the state directly:
        # `attrs.evolve` looks every field up by name, once for each of them.
        case ParticipantEnrolled():
            return GroupState(
                plan=state.plan,
                participants=(*state.participants, Participant(event)),
                sessions=state.sessions,
                completed=state.completed,
                cancelled=state.cancelled,
            )
        case ParticipantWithdrew():
            return _replace(
                state,
                participants=tuple(
                    _replace(p, withdrawn_on=event.on) if p.ref == event.participant_ref else p
                    for p in state.participants
                ),
            )
        case SessionHeld():
            return GroupState(
                plan=state.plan,
                participants=state.participants,
                sessions=(*state.sessions, event),
                completed=state.completed,
                cancelled=state.cancelled,
            )
        case GroupCompleted():
            return _replace(state, completed=event)
        case GroupCancelled():
            return _replace(state, cancelled=event)
        case AttendanceCorrected():
            return _replace(
                state,
                sessions=tuple(
                    _replace(s, attendees=event.attendees) if s.held_on == event.held_on else s
                    for s in state.sessions
                ),
            )
        case SessionRetracted():
            return _replace(
                state, sessions=tuple(s for s in state.sessions if s.held_on != event.held_on)
            )
        case ParticipantCorrected():
            return _replace(
                state,
                participants=tuple(
                    _replace(
                        p,
                        enrolment=_replace(
                            p.enrolment, age=event.age, gender=event.gender, status=event.status
                        ),
                    )
                    if p.ref == event.participant_ref
                    else p
                    for p in state.participants
                ),
            )
    raise TypeError(f"not a group event: {event!r}")  # pragma: no cover
