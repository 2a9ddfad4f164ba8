"""Corrections are new facts, never edits.

Given/when/then for each correction, and through the ledger: the history shows
the original and the correction, today's figures use the corrected facts, and
figures as known before the correction still show the original.
"""

from __future__ import annotations

from datetime import date

from biv_domain.errors import InvalidValue, NotFound, RuleBroken
from biv_domain.ledger import Ledger
from biv_domain.model import agreement, group
from biv_domain.model.commands import (
    ConcludeAgreement,
    CorrectAttendance,
    CorrectParticipant,
    EnrollParticipant,
    HoldSession,
    PlanGroup,
    RecordDisbursement,
    RetractDisbursement,
    RetractSession,
)
from biv_domain.model.dates import Period
from biv_domain.model.events import (
    AttendanceCorrected,
    DisbursementRecorded,
    DisbursementRetracted,
    GroupCompleted,
    ParticipantCorrected,
    SessionHeld,
    SessionRetracted,
)
from biv_domain.model.money import Money
from biv_domain.model.vocabulary import Gender, GroupKind, ResidenceStatus
from biv_domain.projections.budget import budget
from biv_domain.projections.report import report
from tests.conftest import Clock
from tests.scenario import (
    CASE,
    GROUP,
    agreement_state,
    enrolled,
    given_agreement,
    given_group,
    linkoping,
    planned,
    refused,
)

DAY = date(2023, 9, 6)


def held(on: date, *attendees: str) -> SessionHeld:
    return SessionHeld(group_ref=GROUP, held_on=on, attendees=attendees)


def a_group_that_met() -> group.GroupState | None:
    return given_group(planned(), enrolled("C-01"), enrolled("C-02"), held(DAY, "C-01"))


# --- Given / when / then ----------------------------------------------------------------------


def test_attendance_is_corrected_with_what_was_recorded_before() -> None:
    command = CorrectAttendance(GROUP, DAY, ("C-01", "C-02"), "C-02 was left off the list")
    assert group.decide(command, a_group_that_met(), agreement_state()) == [
        AttendanceCorrected(GROUP, DAY, ("C-01", "C-02"), ("C-01",), "C-02 was left off the list")
    ]


def test_a_corrected_attendance_replaces_the_sessions_attendees() -> None:
    state = group.evolve(
        a_group_that_met(), AttendanceCorrected(GROUP, DAY, ("C-02",), ("C-01",), "mixed up")
    )
    assert [s.attendees for s in state.sessions] == [("C-02",)]


def test_an_attendance_correction_lists_only_enrolled_participants() -> None:
    with refused(RuleBroken, "attendees", "C-09", DAY):
        group.decide(
            CorrectAttendance(GROUP, DAY, ("C-09",), "typo"), a_group_that_met(), agreement_state()
        )


def test_an_attendance_correction_must_change_something() -> None:
    with refused(RuleBroken, "attendees", "nothing to correct"):
        group.decide(
            CorrectAttendance(GROUP, DAY, ("C-01",), "again"), a_group_that_met(), agreement_state()
        )


def test_a_correction_names_a_session_that_was_recorded() -> None:
    with refused(NotFound, "held_on", "2023-09-07"):
        group.decide(
            RetractSession(GROUP, date(2023, 9, 7), "wrong day"),
            a_group_that_met(),
            agreement_state(),
        )


def test_a_correction_needs_a_reason() -> None:
    with refused(InvalidValue, "reason", "empty"):
        RetractSession(GROUP, DAY, "  ")


def test_a_session_entered_by_mistake_is_retracted_and_leaves_the_sessions() -> None:
    command = RetractSession(GROUP, DAY, "entered for the wrong group")
    events = group.decide(command, a_group_that_met(), agreement_state())
    assert events == [SessionRetracted(GROUP, DAY, "entered for the wrong group")]
    assert group.evolve(a_group_that_met(), events[0]).sessions == ()


def test_a_completed_group_can_still_be_corrected() -> None:
    completed = group.evolve(a_group_that_met(), GroupCompleted(GROUP, date(2023, 12, 6)))
    command = RetractSession(GROUP, DAY, "was a planning meeting")
    assert group.decide(command, completed, agreement_state()) == [
        SessionRetracted(GROUP, DAY, "was a planning meeting")
    ]


def test_a_participants_age_is_corrected_within_the_agreements_ages() -> None:
    command = CorrectParticipant(GROUP, "C-01", "the birth year was misread", age=12)
    assert group.decide(command, a_group_that_met(), agreement_state()) == [
        ParticipantCorrected(
            GROUP,
            "C-01",
            date(2023, 8, 30),
            12,
            Gender.GIRL,
            ResidenceStatus.ASYLUM_SEEKER,
            "the birth year was misread",
        )
    ]
    with refused(InvalidValue, "age", "21", "7–20"):
        group.decide(
            CorrectParticipant(GROUP, "C-01", "typo", age=21), a_group_that_met(), agreement_state()
        )


def test_a_participants_gender_is_corrected_and_counted_so() -> None:
    command = CorrectParticipant(GROUP, "C-01", "recorded wrongly", gender=Gender.BOY)
    [event] = group.decide(command, a_group_that_met(), agreement_state())
    state = group.evolve(a_group_that_met(), event)
    participant = state.participant("C-01")
    assert participant is not None
    assert participant.enrolment.gender is Gender.BOY
    assert participant.enrolment.age == 9


def test_a_participant_correction_must_change_something() -> None:
    with refused(RuleBroken, "participant_ref", "changes nothing"):
        group.decide(
            CorrectParticipant(GROUP, "C-01", "check", age=9), a_group_that_met(), agreement_state()
        )
    with refused(InvalidValue, "age", "at least one"):
        CorrectParticipant(GROUP, "C-01", "check")


def test_a_payment_recorded_by_mistake_is_retracted() -> None:
    paid = DisbursementRecorded(CASE, Money.kronor(150_250), date(2023, 4, 20))
    state = given_agreement(*linkoping(), paid)
    command = RetractDisbursement(CASE, date(2023, 4, 20), Money.kronor(150_250), "paid twice")
    events = agreement.decide(command, state)
    assert events == [
        DisbursementRetracted(CASE, date(2023, 4, 20), Money.kronor(150_250), "paid twice")
    ]
    after = agreement.evolve(state, events[0])
    assert after.disbursements == ()
    assert after.retractions == tuple(events)


def test_only_a_recorded_payment_can_be_retracted() -> None:
    with refused(NotFound, "paid_on", "2023-04-21", "150250.00"):
        agreement.decide(
            RetractDisbursement(CASE, date(2023, 4, 21), Money.kronor(150_250), "typo"),
            agreement_state(),
        )


# --- Through the ledger: the two kinds of time ------------------------------------------------


def test_a_correction_changes_todays_figures_and_leaves_the_past_as_known(
    memory_ledger: Ledger, clock: Clock
) -> None:
    terms = agreement_state().terms
    memory_ledger.execute(
        ConcludeAgreement(
            CASE,
            terms.title,
            terms.municipality,
            terms.partner,
            date(2023, 4, 1),
            date(2024, 3, 31),
            6,
            date(2023, 3, 1),
        )
    )
    memory_ledger.execute(PlanGroup(GROUP, CASE, GroupKind.CHILDREN, "Ryd", DAY))
    for ref, age in (("C-01", 9), ("C-02", 16)):
        memory_ledger.execute(EnrollParticipant(GROUP, ref, DAY, Gender.GIRL, age=age))
    memory_ledger.execute(HoldSession(GROUP, DAY, ("C-01", "C-02")))
    memory_ledger.execute(HoldSession(GROUP, date(2023, 9, 13), ("C-01",)))
    memory_ledger.execute(RecordDisbursement(CASE, Money.kronor(1000), date(2023, 9, 1)))
    submitted = clock.advance(days=30)

    clock.advance(days=30)
    memory_ledger.execute(CorrectParticipant(GROUP, "C-02", "16 was her sister's age", age=15))
    memory_ledger.execute(RetractSession(GROUP, date(2023, 9, 13), "the group did not meet"))
    memory_ledger.execute(
        CorrectAttendance(GROUP, DAY, ("C-01",), "C-02 came to the parents' group")
    )
    memory_ledger.execute(
        RetractDisbursement(CASE, date(2023, 9, 1), Money.kronor(1000), "never paid")
    )

    window = Period(date(2023, 9, 1), date(2023, 9, 30))
    now = report(memory_ledger.agreement(CASE), memory_ledger.groups(CASE), window)
    then = report(
        memory_ledger.agreement(CASE, submitted), memory_ledger.groups(CASE, submitted), window
    )
    assert (then.sessions, then.participants, then.by_age_band["16-17"]) == (2, 2, 1)
    assert (now.sessions, now.participants, now.by_age_band["16-17"]) == (1, 1, 0)
    assert str(budget(memory_ledger.agreement(CASE, submitted), date(2023, 10, 1)).disbursed) == (
        "1000.00"
    )
    assert str(budget(memory_ledger.agreement(CASE), date(2023, 10, 1)).disbursed) == "0.00"

    # The history keeps the originals and shows each correction after them.
    types = [f.type for f in memory_ledger.history(CASE)]
    assert types.count("SessionHeld") == 2
    assert types[-4:] == [
        "ParticipantCorrected",
        "SessionRetracted",
        "AttendanceCorrected",
        "DisbursementRetracted",
    ]
