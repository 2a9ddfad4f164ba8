"""A follow-up's rules: scheduling a half-year, the partner's written report, closing it.

Given the follow-up's past events (and its agreement), when a command, then these events or
this refusal.
"""

from __future__ import annotations

from datetime import date

import pytest

from biv_domain.errors import AlreadyExists, InvalidValue, NotFound, RuleBroken
from biv_domain.ledger import Ledger
from biv_domain.model.commands import (
    CloseFollowUp,
    ConcludeAgreement,
    FollowUpCommand,
    Information,
    ScheduleFollowUp,
    SubmitReport,
)
from biv_domain.model.events import FollowUpClosed, ReportSubmitted
from biv_domain.model.follow_up import decide
from tests.scenario import (
    CASE,
    FOLLOW_UP,
    agreement_state,
    concluded,
    given_follow_up,
    linkoping,
    notice_given,
    partnership_facts,
    refused,
    scheduled,
    submitted,
)


def schedule(
    start: date = date(2023, 4, 1), end: date = date(2023, 9, 30), due_on: date = date(2023, 10, 31)
) -> ScheduleFollowUp:
    return ScheduleFollowUp(FOLLOW_UP, CASE, start=start, end=end, due_on=due_on)


def submit(on: date = date(2023, 10, 25)) -> SubmitReport:
    return SubmitReport(FOLLOW_UP, submitted_on=on, experience="Trygg i gruppen")


# --- Scheduling -------------------------------------------------------------------------------


def test_a_half_year_is_scheduled_for_follow_up_within_the_agreement() -> None:
    assert decide(schedule(), None, agreement_state()) == [scheduled()]


def test_the_window_may_span_the_whole_agreement() -> None:
    command = schedule(date(2017, 4, 1), date(2024, 3, 31), date(2024, 4, 30))
    assert decide(command, None, agreement_state()) == [
        scheduled(date(2017, 4, 1), date(2024, 3, 31), date(2024, 4, 30))
    ]


def test_a_follow_up_is_scheduled_only_under_a_known_agreement() -> None:
    with refused(NotFound, "case_number", CASE):
        decide(schedule(), None, None)


@pytest.mark.parametrize(
    ("start", "end", "field"),
    [
        (date(2016, 10, 1), date(2017, 4, 30), "start"),
        (date(2023, 10, 1), date(2024, 4, 30), "end"),
        (date(2024, 4, 1), date(2024, 9, 30), "end"),
    ],
)
def test_a_follow_up_window_must_lie_within_the_agreement(
    start: date, end: date, field: str
) -> None:
    with refused(RuleBroken, field, start, end, "2017-04-01 – 2024-03-31"):
        decide(schedule(start, end, end), None, agreement_state())


def test_notice_shortens_the_period_a_follow_up_can_cover() -> None:
    agreement = agreement_state(*linkoping(), notice_given(date(2023, 8, 15), date(2024, 2, 15)))
    with refused(RuleBroken, "end", "2024-03-31", "2024-02-15"):
        decide(schedule(date(2023, 10, 1), date(2024, 3, 31)), None, agreement)


def test_a_follow_up_ref_cannot_be_scheduled_twice() -> None:
    with refused(AlreadyExists, "follow_up_ref", FOLLOW_UP, "already scheduled"):
        decide(schedule(), given_follow_up(scheduled()), agreement_state())


def test_a_window_cannot_end_before_it_starts() -> None:
    with refused(InvalidValue, "end", "2023-03-31", "2023-04-01"):
        schedule(date(2023, 4, 1), date(2023, 3, 31))


def test_a_report_cannot_be_due_before_its_window_starts() -> None:
    with refused(InvalidValue, "due_on", "2023-03-31", "2023-04-01"):
        schedule(due_on=date(2023, 3, 31))


# --- The written report -----------------------------------------------------------------------


def test_the_partner_submits_the_written_report() -> None:
    information = Information(municipality=True, partner=False)
    command = SubmitReport(FOLLOW_UP, date(2023, 10, 25), "Trygg i gruppen", information)
    assert decide(command, given_follow_up(scheduled()), agreement_state()) == [
        ReportSubmitted(FOLLOW_UP, date(2023, 10, 25), "Trygg i gruppen", information)
    ]


def test_a_report_may_be_submitted_from_the_first_day_of_its_window() -> None:
    events = decide(submit(date(2023, 4, 1)), given_follow_up(scheduled()), agreement_state())
    assert events == [submitted(date(2023, 4, 1))]


def test_a_report_is_submitted_only_once() -> None:
    given = given_follow_up(scheduled(), submitted())
    with refused(RuleBroken, "follow_up_ref", FOLLOW_UP, "already submitted", "2023-10-25"):
        decide(submit(date(2023, 10, 30)), given, agreement_state())


def test_a_report_is_not_submitted_before_its_window_starts() -> None:
    with refused(RuleBroken, "submitted_on", "2023-03-31", "2023-04-01"):
        decide(submit(date(2023, 3, 31)), given_follow_up(scheduled()), agreement_state())


# --- Closing ----------------------------------------------------------------------------------


@pytest.mark.parametrize("on", [date(2023, 10, 25), date(2023, 11, 8)])
def test_the_parties_close_the_follow_up_after_the_report(on: date) -> None:
    command = CloseFollowUp(FOLLOW_UP, on, "Målen uppfyllda")
    given = given_follow_up(scheduled(), submitted())
    assert decide(command, given, agreement_state()) == [
        FollowUpClosed(FOLLOW_UP, on, "Målen uppfyllda")
    ]


def test_a_follow_up_is_closed_only_after_its_report() -> None:
    with refused(RuleBroken, "follow_up_ref", FOLLOW_UP, "no report"):
        decide(CloseFollowUp(FOLLOW_UP, date(2023, 11, 8)), given_follow_up(scheduled()), None)


def test_a_follow_up_is_not_closed_before_the_report_was_submitted() -> None:
    given = given_follow_up(scheduled(), submitted())
    with refused(RuleBroken, "on", "2023-10-24", "2023-10-25"):
        decide(CloseFollowUp(FOLLOW_UP, date(2023, 10, 24)), given, agreement_state())


LATER_COMMANDS: list[FollowUpCommand] = [
    submit(date(2023, 11, 20)),
    CloseFollowUp(FOLLOW_UP, date(2023, 11, 20)),
]


@pytest.mark.parametrize("command", LATER_COMMANDS, ids=lambda command: command.name)
def test_nothing_is_recorded_after_a_follow_up_is_closed(command: FollowUpCommand) -> None:
    closed = FollowUpClosed(FOLLOW_UP, date(2023, 11, 8), None)
    given = given_follow_up(scheduled(), submitted(), closed)
    with refused(RuleBroken, "follow_up_ref", FOLLOW_UP, "closed on 2023-11-08"):
        decide(command, given, agreement_state())


@pytest.mark.parametrize("command", LATER_COMMANDS, ids=lambda command: command.name)
def test_a_command_naming_an_unknown_follow_up_is_refused(command: FollowUpCommand) -> None:
    with refused(NotFound, "follow_up_ref", FOLLOW_UP):
        decide(command, None, agreement_state())


# --- The ledger stores nothing of a refused command -------------------------------------------


def test_a_refused_close_stores_nothing(memory_ledger: Ledger) -> None:
    terms = concluded(date(2023, 4, 1), date(2024, 3, 31))
    memory_ledger.execute(
        ConcludeAgreement(
            CASE,
            terms.title,
            terms.municipality,
            terms.partner,
            terms.start,
            terms.end,
            6,
            terms.start,
        )
    )
    memory_ledger.execute(schedule())
    before = len(partnership_facts(memory_ledger))
    with refused(RuleBroken, "follow_up_ref", FOLLOW_UP, "no report"):
        memory_ledger.execute(CloseFollowUp(FOLLOW_UP, date(2023, 11, 8)))
    assert len(partnership_facts(memory_ledger)) == before == 2  # concluded, scheduled


def test_a_follow_up_under_an_unknown_agreement_stores_nothing(memory_ledger: Ledger) -> None:
    with refused(NotFound, "case_number", CASE):
        memory_ledger.execute(schedule())
    assert list(memory_ledger.facts()) == []
