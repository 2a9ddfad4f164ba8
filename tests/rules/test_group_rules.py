"""A group's rules: planning, enrolment, withdrawal, sessions, completion and cancellation.

Given the group's past events (and its agreement), when a command, then these events or this
refusal.
"""

from __future__ import annotations

from datetime import date

import pytest

from biv_domain.errors import AlreadyExists, InvalidValue, NotFound, RuleBroken
from biv_domain.ledger import Ledger, Line, LineRefused
from biv_domain.model.commands import (
    CancelGroup,
    CompleteGroup,
    ConcludeAgreement,
    EnrollParticipant,
    GroupCommand,
    HoldSession,
    PlanGroup,
    WithdrawParticipant,
)
from biv_domain.model.events import (
    GroupCancelled,
    GroupCompleted,
    GroupEvent,
    ParticipantWithdrew,
    SessionHeld,
)
from biv_domain.model.group import decide
from biv_domain.model.vocabulary import Gender, GroupKind, ResidenceStatus, Track
from tests.scenario import (
    CASE,
    GROUP,
    agreement_state,
    concluded,
    enrolled,
    given_group,
    linkoping,
    notice_given,
    partnership_facts,
    planned,
    refused,
)

STARTS_ON = date(2023, 9, 6)


def plan(starts_on: date = STARTS_ON, kind: GroupKind = GroupKind.CHILDREN) -> PlanGroup:
    return PlanGroup(
        group_ref=GROUP,
        case_number=CASE,
        kind=kind,
        area="Ryd",
        starts_on=starts_on,
        track=Track.WAITING,
        planned_sessions=14,
        language="arabic",
    )


def enroll(
    ref: str = "C-01",
    gender: Gender = Gender.GIRL,
    age: int | None = 9,
    on: date = date(2023, 8, 30),
) -> EnrollParticipant:
    return EnrollParticipant(GROUP, ref, on, gender, age, ResidenceStatus.ASYLUM_SEEKER)


def session(on: date, *attendees: str) -> HoldSession:
    return HoldSession(GROUP, held_on=on, attendees=attendees)


def held(on: date, *attendees: str) -> SessionHeld:
    return SessionHeld(group_ref=GROUP, held_on=on, attendees=attendees)


# --- Planning ---------------------------------------------------------------------------------


def test_a_group_is_planned_under_an_agreement_in_force_on_its_first_day() -> None:
    assert decide(plan(), None, agreement_state()) == [planned()]


@pytest.mark.parametrize("starts_on", [date(2017, 4, 1), date(2024, 3, 31)])
def test_a_group_may_start_on_the_agreements_first_or_last_day(starts_on: date) -> None:
    assert decide(plan(starts_on), None, agreement_state()) == [planned(starts_on=starts_on)]


def test_a_group_is_planned_only_under_a_known_agreement() -> None:
    with refused(NotFound, "case_number", CASE):
        decide(plan(), None, None)


@pytest.mark.parametrize("starts_on", [date(2017, 3, 31), date(2024, 4, 1)])
def test_a_group_starts_only_while_the_agreement_is_in_force(starts_on: date) -> None:
    with refused(RuleBroken, "starts_on", starts_on, "not in force"):
        decide(plan(starts_on), None, agreement_state())


def test_a_group_cannot_start_after_notice_has_run_out() -> None:
    agreement = agreement_state(*linkoping(), notice_given(date(2023, 8, 15), date(2024, 2, 15)))
    with refused(RuleBroken, "starts_on", "2024-02-16", "2024-02-15"):
        decide(plan(date(2024, 2, 16)), None, agreement)


def test_a_group_ref_cannot_be_planned_twice() -> None:
    with refused(AlreadyExists, "group_ref", GROUP, "already planned"):
        decide(plan(), given_group(planned()), agreement_state())


@pytest.mark.parametrize(("field", "value"), [("area", " "), ("planned_sessions", 0)])
def test_a_plan_needs_an_area_and_at_least_one_session(field: str, value: object) -> None:
    values: dict[str, object] = {
        "group_ref": GROUP,
        "case_number": CASE,
        "kind": GroupKind.CHILDREN,
        "area": "Berga",
        "starts_on": STARTS_ON,
        field: value,
    }
    with refused(InvalidValue, field):
        PlanGroup(**values)  # type: ignore[arg-type]


# --- Enrolment --------------------------------------------------------------------------------


def test_a_child_is_enrolled_by_a_pseudonymous_reference() -> None:
    assert decide(enroll("C-01"), given_group(planned()), agreement_state()) == [enrolled("C-01")]


def test_a_parent_is_enrolled_without_an_age() -> None:
    given = given_group(planned(GroupKind.PARENTS))
    command = enroll("P-01", Gender.WOMAN, age=None)
    assert decide(command, given, agreement_state()) == [
        enrolled("P-01", gender=Gender.WOMAN, age=None)
    ]


def test_a_child_must_have_an_age() -> None:
    with refused(InvalidValue, "age", "required"):
        decide(enroll(age=None), given_group(planned()), agreement_state())


@pytest.mark.parametrize("age", [7, 20])
def test_a_child_of_the_agreements_youngest_or_oldest_age_is_enrolled(age: int) -> None:
    events = decide(enroll(age=age), given_group(planned()), agreement_state())
    assert events == [enrolled("C-01", age=age)]


@pytest.mark.parametrize("age", [6, 21, -1])
def test_a_child_outside_the_agreements_ages_is_refused(age: int) -> None:
    with refused(InvalidValue, "age", age, "7–20"):
        decide(enroll(age=age), given_group(planned()), agreement_state())


def test_the_ages_are_the_agreements_own() -> None:
    agreement = agreement_state(
        concluded(date(2023, 1, 1), date(2024, 12, 31), min_age=10, max_age=15)
    )
    with refused(InvalidValue, "age", "9", "10–15"):
        decide(enroll(age=9), given_group(planned()), agreement)


@pytest.mark.parametrize("gender", [Gender.WOMAN, Gender.MAN])
def test_a_child_is_a_girl_a_boy_other_or_unknown(gender: Gender) -> None:
    with refused(InvalidValue, "gender", gender.value, "for parents"):
        decide(enroll(gender=gender), given_group(planned()), agreement_state())


@pytest.mark.parametrize("gender", [Gender.GIRL, Gender.BOY])
def test_a_parent_is_a_woman_a_man_other_or_unknown(gender: Gender) -> None:
    given = given_group(planned(GroupKind.PARENTS))
    with refused(InvalidValue, "gender", gender.value, "for children"):
        decide(enroll("P-01", gender, age=None), given, agreement_state())


@pytest.mark.parametrize("kind", list(GroupKind))
@pytest.mark.parametrize("gender", [Gender.OTHER, Gender.UNKNOWN])
def test_other_and_unknown_genders_fit_any_group(kind: GroupKind, gender: Gender) -> None:
    events = decide(enroll(gender=gender), given_group(planned(kind)), agreement_state())
    assert events == [enrolled("C-01", gender=gender)]


def test_a_parents_age_cannot_be_negative() -> None:
    given = given_group(planned(GroupKind.PARENTS))
    with refused(InvalidValue, "age", "-1"):
        decide(enroll("P-01", Gender.MAN, age=-1), given, agreement_state())


@pytest.mark.parametrize(
    "past",
    [
        (enrolled("C-01"),),
        (enrolled("C-01"), ParticipantWithdrew(GROUP, "C-01", date(2023, 9, 20))),
    ],
    ids=["enrolled", "withdrawn"],
)
def test_a_participant_cannot_be_enrolled_twice(past: tuple[GroupEvent, ...]) -> None:
    given = given_group(planned(), *past)
    with refused(AlreadyExists, "participant_ref", "C-01", GROUP):
        decide(enroll("C-01", on=date(2023, 10, 1)), given, agreement_state())


# --- Withdrawal -------------------------------------------------------------------------------


@pytest.mark.parametrize("on", [date(2023, 8, 30), date(2023, 10, 4)])
def test_an_enrolled_participant_withdraws(on: date) -> None:
    given = given_group(planned(), enrolled("C-01"))
    command = WithdrawParticipant(GROUP, "C-01", on)
    assert decide(command, given, agreement_state()) == [ParticipantWithdrew(GROUP, "C-01", on)]


def test_only_an_enrolled_participant_withdraws() -> None:
    given = given_group(planned(), enrolled("C-01"))
    with refused(NotFound, "participant_ref", "C-02", "not enrolled"):
        decide(WithdrawParticipant(GROUP, "C-02", date(2023, 10, 4)), given, agreement_state())


def test_a_participant_withdraws_only_once() -> None:
    given = given_group(
        planned(), enrolled("C-01"), ParticipantWithdrew(GROUP, "C-01", date(2023, 9, 20))
    )
    with refused(RuleBroken, "participant_ref", "C-01", "2023-09-20"):
        decide(WithdrawParticipant(GROUP, "C-01", date(2023, 10, 4)), given, agreement_state())


def test_a_participant_cannot_withdraw_before_enrolling() -> None:
    given = given_group(planned(), enrolled("C-01"))
    with refused(RuleBroken, "on", "2023-08-29", "2023-08-30"):
        decide(WithdrawParticipant(GROUP, "C-01", date(2023, 8, 29)), given, agreement_state())


def test_a_withdrawal_cannot_be_dated_on_or_before_a_session_attended() -> None:
    given = given_group(planned(), enrolled("C-01"), held(STARTS_ON, "C-01"))
    with refused(RuleBroken, "on", "2023-09-01", STARTS_ON):
        decide(WithdrawParticipant(GROUP, "C-01", date(2023, 9, 1)), given, agreement_state())


# --- Sessions ---------------------------------------------------------------------------------


def test_a_session_is_held_with_the_enrolled_participants_who_came() -> None:
    given = given_group(planned(), enrolled("C-01"), enrolled("C-02"), enrolled("C-03"))
    command = session(STARTS_ON, "C-01", "C-03")
    assert decide(command, given, agreement_state()) == [held(STARTS_ON, "C-01", "C-03")]


def test_a_participant_enrolled_on_the_session_day_attends() -> None:
    given = given_group(planned(), enrolled("C-01", on=STARTS_ON))
    assert decide(session(STARTS_ON, "C-01"), given, agreement_state()) == [held(STARTS_ON, "C-01")]


def test_a_participant_withdrawn_the_day_after_a_session_attended_it() -> None:
    given = given_group(
        planned(), enrolled("C-01"), ParticipantWithdrew(GROUP, "C-01", date(2023, 9, 7))
    )
    assert decide(session(STARTS_ON, "C-01"), given, agreement_state()) == [held(STARTS_ON, "C-01")]


@pytest.mark.parametrize(
    "past",
    [
        (),
        (enrolled("C-09", on=date(2023, 9, 7)),),
        (enrolled("C-09"), ParticipantWithdrew(GROUP, "C-09", STARTS_ON)),
        (enrolled("C-09"), ParticipantWithdrew(GROUP, "C-09", date(2023, 9, 1))),
    ],
    ids=["never enrolled", "enrolled after", "withdrawn that day", "withdrawn before"],
)
def test_a_session_lists_only_participants_enrolled_on_that_date(
    past: tuple[GroupEvent, ...],
) -> None:
    given = given_group(planned(), enrolled("C-01"), *past)
    with refused(RuleBroken, "attendees", "C-09", "not enrolled", STARTS_ON):
        decide(session(STARTS_ON, "C-01", "C-09"), given, agreement_state())


def test_no_session_is_held_before_the_group_starts() -> None:
    given = given_group(planned(), enrolled("C-01"))
    with refused(RuleBroken, "held_on", "2023-09-05", STARTS_ON):
        decide(session(date(2023, 9, 5), "C-01"), given, agreement_state())


def test_a_group_holds_one_session_a_day() -> None:
    given = given_group(planned(), enrolled("C-01"), enrolled("C-02"), held(STARTS_ON, "C-01"))
    with refused(AlreadyExists, "held_on", STARTS_ON, "already has a session"):
        decide(session(STARTS_ON, "C-02"), given, agreement_state())


@pytest.mark.parametrize(
    ("attendees", "mention"),
    [((), "at least one"), (("C-01", "C-01"), "'C-01' is listed twice"), (("C-01", " "), "empty")],
)
def test_a_session_lists_each_attendee_once_and_at_least_one(
    attendees: tuple[str, ...], mention: str
) -> None:
    with refused(InvalidValue, "attendees", mention):
        session(STARTS_ON, *attendees)


# --- Completing and cancelling ----------------------------------------------------------------


def test_a_group_is_completed_on_or_after_its_last_session() -> None:
    given = given_group(
        planned(), enrolled("C-01"), held(STARTS_ON, "C-01"), held(date(2023, 9, 13), "C-01")
    )
    command = CompleteGroup(GROUP, date(2023, 9, 13))
    assert decide(command, given, agreement_state()) == [GroupCompleted(GROUP, date(2023, 9, 13))]


def test_a_group_is_not_completed_before_its_last_session() -> None:
    given = given_group(
        planned(), enrolled("C-01"), held(STARTS_ON, "C-01"), held(date(2023, 9, 13), "C-01")
    )
    with refused(RuleBroken, "on", "2023-09-12", "2023-09-13"):
        decide(CompleteGroup(GROUP, date(2023, 9, 12)), given, agreement_state())


def test_a_group_is_not_completed_before_it_starts() -> None:
    with refused(RuleBroken, "on", "2023-09-05", STARTS_ON):
        decide(CompleteGroup(GROUP, date(2023, 9, 5)), given_group(planned()), agreement_state())


def test_a_group_is_cancelled_with_a_reason() -> None:
    command = CancelGroup(GROUP, date(2023, 9, 1), "Too few children enrolled")
    assert decide(command, given_group(planned()), agreement_state()) == [
        GroupCancelled(GROUP, date(2023, 9, 1), "Too few children enrolled")
    ]


def test_a_group_is_not_cancelled_before_a_session_it_held() -> None:
    given = given_group(planned(), enrolled("C-01"), held(date(2023, 9, 13), "C-01"))
    with refused(RuleBroken, "on", "2023-09-12", "2023-09-13"):
        decide(CancelGroup(GROUP, date(2023, 9, 12), "Moved away"), given, agreement_state())


def test_a_cancellation_needs_a_reason() -> None:
    with refused(InvalidValue, "reason", "empty"):
        CancelGroup(GROUP, date(2023, 9, 1), " ")


LATER_COMMANDS: list[GroupCommand] = [
    enroll("C-02", on=date(2023, 12, 20)),
    WithdrawParticipant(GROUP, "C-01", date(2023, 12, 20)),
    session(date(2023, 12, 20), "C-01"),
    CompleteGroup(GROUP, date(2023, 12, 20)),
    CancelGroup(GROUP, date(2023, 12, 20), "Again"),
]


@pytest.mark.parametrize("command", LATER_COMMANDS, ids=lambda command: command.name)
@pytest.mark.parametrize(
    ("closing", "word"),
    [
        (GroupCompleted(GROUP, date(2023, 12, 13)), "completed"),
        (GroupCancelled(GROUP, date(2023, 12, 13), "The leader fell ill"), "cancelled"),
    ],
)
def test_nothing_is_recorded_in_a_closed_group(
    command: GroupCommand, closing: GroupEvent, word: str
) -> None:
    given = given_group(planned(), enrolled("C-01"), held(STARTS_ON, "C-01"), closing)
    with refused(RuleBroken, "group_ref", GROUP, word, "2023-12-13"):
        decide(command, given, agreement_state())


@pytest.mark.parametrize("command", LATER_COMMANDS, ids=lambda command: command.name)
def test_a_command_naming_an_unknown_group_is_refused(command: GroupCommand) -> None:
    with refused(NotFound, "group_ref", GROUP):
        decide(command, None, agreement_state())


# --- The ledger stores nothing of a refused command -------------------------------------------


def conclude() -> ConcludeAgreement:
    terms = concluded(date(2023, 4, 1), date(2024, 3, 31))
    return ConcludeAgreement(
        terms.case_number,
        terms.title,
        terms.municipality,
        terms.partner,
        terms.start,
        terms.end,
        terms.notice_months,
        terms.decided_on,
    )


def test_a_refused_enrolment_stores_nothing(memory_ledger: Ledger) -> None:
    memory_ledger.execute(conclude())
    memory_ledger.execute(plan())
    before = len(partnership_facts(memory_ledger))
    with refused(InvalidValue, "age", "21"):
        memory_ledger.execute(enroll(age=21))
    assert len(partnership_facts(memory_ledger)) == before == 2  # concluded, planned


def test_one_refused_line_stores_nothing_of_its_batch(memory_ledger: Ledger) -> None:
    memory_ledger.execute(conclude())
    before = len(partnership_facts(memory_ledger))
    lines = [
        Line(1, plan()),
        Line(2, enroll("C-01")),
        Line(3, session(STARTS_ON, "C-01", "C-02")),
    ]
    with pytest.raises(LineRefused) as caught:
        memory_ledger.execute_all(lines)
    assert caught.value.number == 3
    assert caught.value.refusal.field == "attendees"
    assert "C-02" in caught.value.refusal.reason
    assert len(partnership_facts(memory_ledger)) == before == 1
