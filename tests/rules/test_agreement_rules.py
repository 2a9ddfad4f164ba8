"""The agreement's rules: conclusion, extension, notice, funding, targets and payments.

Given the agreement's past events, when a command, then these events or this refusal.
"""

from __future__ import annotations

from datetime import date

import pytest

from biv_domain.errors import AlreadyExists, InvalidValue, NotFound, RuleBroken
from biv_domain.ledger import Ledger
from biv_domain.model.agreement import AgreementStatus, FundingKey, decide, evolve
from biv_domain.model.commands import (
    AgreementCommand,
    ConcludeAgreement,
    ExtendAgreement,
    GiveNotice,
    RecordDisbursement,
    SetFunding,
    SetTarget,
)
from biv_domain.model.events import (
    AgreementConcluded,
    AgreementExtended,
    DisbursementRecorded,
    FundingChanged,
    NoticeGiven,
    TargetSet,
)
from biv_domain.model.money import Money
from biv_domain.model.vocabulary import Party, TargetKind
from tests.scenario import (
    CASE,
    agreement_state,
    concluded,
    extended,
    given_agreement,
    linkoping,
    notice_given,
    partnership_facts,
    refused,
)

THE_2022_DECISION = date(2022, 10, 19)


def conclude(**changes: object) -> ConcludeAgreement:
    values: dict[str, object] = {
        "case_number": CASE,
        "title": "Barn i väntan / Barn i start",
        "municipality": "Linköpings kommun, Omsorgsnämnden",
        "partner": "Linköpings domkyrkopastorat",
        "start": date(2017, 4, 1),
        "end": date(2019, 3, 31),
        "notice_months": 6,
        "decided_on": date(2017, 4, 1),
    }
    return ConcludeAgreement(**{**values, **changes})  # type: ignore[arg-type]


def funding(
    amount: str,
    *,
    party: Party = Party.MUNICIPALITY,
    source: str = "state_grant_parenting_support",
    start: date = date(2023, 4, 1),
    end: date = date(2024, 3, 31),
    decided_on: date = THE_2022_DECISION,
) -> SetFunding:
    return SetFunding(
        case_number=CASE,
        party=party,
        source=source,
        start=start,
        end=end,
        amount=Money.parse(amount),
        decided_on=decided_on,
    )


def funding_changed(command: SetFunding, previous: str) -> FundingChanged:
    return FundingChanged(
        case_number=CASE,
        party=command.party,
        source=command.source,
        start=command.start,
        end=command.end,
        amount=command.amount,
        previous_amount=Money.parse(previous),
        decided_on=command.decided_on,
    )


# --- Concluding -------------------------------------------------------------------------------


def test_an_agreement_is_concluded_under_its_case_number_with_the_default_terms() -> None:
    # given no agreement, when it is concluded
    events = decide(conclude(), given_agreement())
    # then it is concluded for ages 7-20 with half-yearly follow-ups
    assert events == [concluded()]


def test_a_case_number_cannot_be_concluded_twice() -> None:
    with refused(AlreadyExists, "case_number", CASE, "already concluded"):
        decide(conclude(title="Another title"), agreement_state(concluded()))


def test_an_agreement_cannot_end_before_it_starts() -> None:
    with refused(InvalidValue, "end", "2017-03-31", "2017-04-01"):
        conclude(end=date(2017, 3, 31))


def test_an_agreement_may_last_a_single_day() -> None:
    command = conclude(end=date(2017, 4, 1))
    assert decide(command, None) == [concluded(end=date(2017, 4, 1))]


def test_the_oldest_age_cannot_be_below_the_youngest() -> None:
    with refused(InvalidValue, "max_age", "6", "min_age 7"):
        conclude(max_age=6)


@pytest.mark.parametrize("field", ["case_number", "title", "municipality", "partner"])
@pytest.mark.parametrize("blank", ["", "   "])
def test_an_agreement_needs_every_name_filled_in(field: str, blank: str) -> None:
    with refused(InvalidValue, field, "empty"):
        conclude(**{field: blank})


@pytest.mark.parametrize(
    ("field", "value"),
    [("notice_months", -1), ("min_age", -1), ("max_age", -1), ("follow_up_months", 0)],
)
def test_periods_and_ages_cannot_be_negative(field: str, value: int) -> None:
    with refused(InvalidValue, field, value):
        conclude(**{field: value})


# --- Extending --------------------------------------------------------------------------------


def test_an_extension_moves_the_end_date_forward() -> None:
    given = agreement_state(*linkoping()[:2])
    command = ExtendAgreement(CASE, end=date(2024, 3, 31), decided_on=THE_2022_DECISION)
    assert decide(command, given) == [
        AgreementExtended(
            case_number=CASE,
            previous_end=date(2023, 3, 31),
            end=date(2024, 3, 31),
            decided_on=THE_2022_DECISION,
        )
    ]


def test_an_extension_counts_from_the_latest_end_date() -> None:
    command = ExtendAgreement(CASE, end=date(2025, 3, 31), decided_on=date(2023, 10, 1))
    [event] = decide(command, agreement_state())
    assert event == extended(date(2024, 3, 31), date(2025, 3, 31), date(2023, 10, 1))
    assert evolve(agreement_state(), event).end_as_decided() == date(2025, 3, 31)


@pytest.mark.parametrize("end", [date(2024, 3, 31), date(2023, 12, 31)])
def test_an_extension_must_move_the_end_date_forward(end: date) -> None:
    command = ExtendAgreement(CASE, end=end, decided_on=date(2023, 10, 1))
    with refused(RuleBroken, "end", end, "2024-03-31"):
        decide(command, agreement_state())


@pytest.mark.parametrize("decided_on", [date(2017, 4, 1), date(2019, 3, 31)])
def test_an_extension_can_be_decided_on_any_day_in_force(decided_on: date) -> None:
    command = ExtendAgreement(CASE, end=date(2020, 3, 31), decided_on=decided_on)
    assert decide(command, agreement_state(concluded())) == [
        extended(date(2019, 3, 31), date(2020, 3, 31), decided_on)
    ]


@pytest.mark.parametrize("decided_on", [date(2017, 3, 31), date(2019, 4, 1)])
def test_an_extension_is_decided_only_while_the_agreement_is_in_force(decided_on: date) -> None:
    command = ExtendAgreement(CASE, end=date(2020, 3, 31), decided_on=decided_on)
    with refused(RuleBroken, "decided_on", decided_on, "not in force"):
        decide(command, agreement_state(concluded()))


def test_an_agreement_under_notice_cannot_be_extended() -> None:
    given = agreement_state(*linkoping(), notice_given(date(2023, 8, 15), date(2024, 2, 15)))
    command = ExtendAgreement(CASE, end=date(2025, 3, 31), decided_on=date(2023, 9, 1))
    with refused(RuleBroken, "case_number", "2023-08-15", "no longer be extended"):
        decide(command, given)


# --- Notice -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given_on", "ends_on"),
    [
        (date(2023, 8, 31), date(2024, 2, 29)),  # a month-end maps to the month-end
        (date(2023, 9, 30), date(2024, 3, 31)),
        (date(2023, 8, 15), date(2024, 2, 15)),
        (date(2023, 4, 1), date(2023, 10, 1)),
        (date(2023, 12, 1), date(2024, 3, 31)),  # never after the end date
        (date(2024, 3, 31), date(2024, 3, 31)),
    ],
)
def test_notice_ends_the_agreement_the_notice_period_later_but_never_after_its_end(
    given_on: date, ends_on: date
) -> None:
    command = GiveNotice(CASE, Party.PARTNER, given_on=given_on)
    assert decide(command, agreement_state()) == [
        NoticeGiven(case_number=CASE, party=Party.PARTNER, given_on=given_on, ends_on=ends_on)
    ]


def test_notice_is_given_only_once() -> None:
    given = agreement_state(*linkoping(), notice_given(date(2023, 8, 15), date(2024, 2, 15)))
    command = GiveNotice(CASE, Party.MUNICIPALITY, given_on=date(2023, 9, 1))
    with refused(RuleBroken, "given_on", "2023-08-15", "already given"):
        decide(command, given)


@pytest.mark.parametrize("given_on", [date(2017, 3, 31), date(2024, 4, 1)])
def test_notice_is_given_only_while_the_agreement_is_in_force(given_on: date) -> None:
    command = GiveNotice(CASE, Party.MUNICIPALITY, given_on=given_on)
    with refused(RuleBroken, "given_on", given_on, "not in force"):
        decide(command, agreement_state())


def test_the_last_day_to_give_notice_is_the_end_date_less_the_notice_period() -> None:
    state = agreement_state()
    assert state.last_notice_day() == date(2023, 9, 30)
    # as decided before the 2022 extension, the end was 2023-03-31
    assert state.last_notice_day(on=date(2022, 6, 1)) == date(2022, 9, 30)


@pytest.mark.parametrize(
    ("day", "status"),
    [
        (date(2017, 3, 31), AgreementStatus.NOT_STARTED),
        (date(2017, 4, 1), AgreementStatus.IN_FORCE),
        (date(2020, 6, 1), AgreementStatus.IN_FORCE),
        (date(2024, 3, 31), AgreementStatus.IN_FORCE),
        (date(2024, 4, 1), AgreementStatus.ENDED),
    ],
)
def test_the_agreement_is_in_force_from_its_start_to_its_end_inclusive(
    day: date, status: AgreementStatus
) -> None:
    assert agreement_state().status_on(day) is status


@pytest.mark.parametrize(
    ("day", "status"),
    [
        (date(2023, 8, 14), AgreementStatus.IN_FORCE),
        (date(2023, 8, 15), AgreementStatus.UNDER_NOTICE),
        (date(2024, 2, 15), AgreementStatus.UNDER_NOTICE),
        (date(2024, 2, 16), AgreementStatus.ENDED),
        (date(2024, 3, 31), AgreementStatus.ENDED),
    ],
)
def test_notice_puts_the_agreement_under_notice_until_the_notice_period_runs_out(
    day: date, status: AgreementStatus
) -> None:
    state = agreement_state(*linkoping(), notice_given(date(2023, 8, 15), date(2024, 2, 15)))
    assert state.status_on(day) is status


# --- Funding ----------------------------------------------------------------------------------


def test_a_funding_line_is_set_for_a_period_within_the_agreement() -> None:
    command = funding("200500")
    assert decide(command, agreement_state()) == [funding_changed(command, previous="0")]


def test_a_later_decision_on_the_same_line_records_the_previous_amount() -> None:
    first = funding("200500")
    given = agreement_state(*linkoping(), funding_changed(first, previous="0"))
    command = funding("210000.50", decided_on=date(2023, 1, 15))
    assert decide(command, given) == [funding_changed(command, previous="200500")]


@pytest.mark.parametrize(
    "command",
    [
        funding("100000", source="committee_budget"),
        funding("160000", party=Party.PARTNER),
        funding("100000", start=date(2023, 4, 1), end=date(2023, 12, 31)),
    ],
)
def test_a_line_of_another_party_source_or_period_is_a_new_line(command: SetFunding) -> None:
    given = agreement_state(*linkoping(), funding_changed(funding("200500"), previous="0"))
    assert decide(command, given) == [funding_changed(command, previous="0")]


def test_an_amount_of_zero_withdraws_a_funding_line() -> None:
    given = agreement_state(*linkoping(), funding_changed(funding("200500"), previous="0"))
    command = funding("0", decided_on=date(2023, 2, 1))
    [event] = decide(command, given)
    assert event == funding_changed(command, previous="200500")
    key = FundingKey(
        Party.MUNICIPALITY, "state_grant_parenting_support", date(2023, 4, 1), date(2024, 3, 31)
    )
    assert evolve(given, event).funding_amount(key) == Money.zero()


@pytest.mark.parametrize(
    ("start", "end", "field"),
    [
        (date(2017, 3, 1), date(2017, 12, 31), "start"),
        (date(2023, 4, 1), date(2024, 4, 30), "end"),
        (date(2017, 1, 1), date(2024, 12, 31), "start"),
        (date(2024, 4, 1), date(2024, 12, 31), "end"),
    ],
)
def test_a_funding_period_must_lie_within_the_agreement(start: date, end: date, field: str) -> None:
    command = funding("1000", start=start, end=end)
    with refused(RuleBroken, field, start, end, "2017-04-01 – 2024-03-31"):
        decide(command, agreement_state())


def test_notice_shortens_the_period_funding_can_cover() -> None:
    given = agreement_state(*linkoping(), notice_given(date(2023, 8, 15), date(2024, 2, 15)))
    with refused(RuleBroken, "end", "2024-03-31", "2024-02-15"):
        decide(funding("200500"), given)


def test_a_funding_period_cannot_end_before_it_starts() -> None:
    with refused(InvalidValue, "end", "2023-03-31", "2023-04-01"):
        funding("1000", start=date(2023, 4, 1), end=date(2023, 3, 31))


def test_a_funding_line_needs_a_source() -> None:
    with refused(InvalidValue, "source", "empty"):
        funding("1000", source=" ")


def test_a_funding_amount_cannot_be_negative() -> None:
    with refused(InvalidValue, "amount", "negative"):
        SetFunding(
            CASE,
            Party.MUNICIPALITY,
            "committee_budget",
            start=date(2023, 4, 1),
            end=date(2024, 3, 31),
            amount=Money(-100),
            decided_on=THE_2022_DECISION,
        )


# --- Targets ----------------------------------------------------------------------------------


def test_a_yearly_target_is_set_and_the_latest_decision_counts() -> None:
    command = SetTarget(CASE, TargetKind.GROUPS_PER_YEAR, 6, decided_on=THE_2022_DECISION)
    [event] = decide(command, agreement_state())
    assert event == TargetSet(
        case_number=CASE, target=TargetKind.GROUPS_PER_YEAR, value=6, decided_on=THE_2022_DECISION
    )
    state = evolve(agreement_state(), event)
    assert state.target(TargetKind.GROUPS_PER_YEAR) == 6
    assert state.target(TargetKind.GROUPS_PER_YEAR, on=date(2022, 10, 18)) is None
    assert state.target(TargetKind.CHILDREN_PER_YEAR) is None


def test_a_target_cannot_be_negative() -> None:
    with refused(InvalidValue, "value", "-1"):
        SetTarget(CASE, TargetKind.CHILDREN_PER_YEAR, -1, decided_on=THE_2022_DECISION)


# --- Payments ---------------------------------------------------------------------------------


def test_a_payment_to_the_partner_is_recorded() -> None:
    command = RecordDisbursement(
        CASE, Money.parse("150250.50"), paid_on=date(2023, 4, 20), source="committee_budget"
    )
    assert decide(command, agreement_state()) == [
        DisbursementRecorded(
            case_number=CASE,
            amount=Money(15025050),
            paid_on=date(2023, 4, 20),
            source="committee_budget",
        )
    ]


def test_a_payment_must_be_more_than_zero() -> None:
    with refused(InvalidValue, "amount", "more than 0"):
        RecordDisbursement(CASE, Money.parse("0.00"), paid_on=date(2023, 4, 20))


def test_a_payment_cannot_be_negative() -> None:
    with refused(InvalidValue, "amount", "more than 0"):
        RecordDisbursement(CASE, Money(-100), paid_on=date(2023, 4, 20))


def test_a_payment_source_cannot_be_blank_when_given() -> None:
    with refused(InvalidValue, "source", "empty"):
        RecordDisbursement(CASE, Money.kronor(100), paid_on=date(2023, 4, 20), source="  ")


@pytest.mark.parametrize(
    ("text", "ore"),
    [("200500", 20050000), ("1234.50", 123450), ("1234.5", 123450), ("0", 0)],
)
def test_amounts_are_read_as_kronor_with_at_most_two_decimals(text: str, ore: int) -> None:
    assert Money.parse(text) == Money(ore)


@pytest.mark.parametrize(
    ("text", "mention"),
    [
        ("-100", "negative"),
        ("1234.567", "at most two decimals"),
        ("12,50", "at most two decimals"),
        ("", "at most two decimals"),
        (" 7 ", "spaces"),  # a cell pasted with its padding: refused, not read as 7
        ("100 000", "at most two decimals"),
        (1234.5, "must be a string"),
        (1234, "must be a string"),
    ],
)
def test_an_amount_is_refused_unless_exact_kronor(text: object, mention: str) -> None:
    with refused(InvalidValue, "amount", mention, repr(text)):
        Money.parse(text)


# --- Unknown agreements -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "command",
    [
        ExtendAgreement(CASE, end=date(2025, 3, 31), decided_on=date(2023, 10, 1)),
        funding("1000"),
        SetTarget(CASE, TargetKind.CHILDREN_PER_YEAR, 40, decided_on=THE_2022_DECISION),
        GiveNotice(CASE, Party.PARTNER, given_on=date(2023, 8, 15)),
        RecordDisbursement(CASE, Money.kronor(1000), paid_on=date(2023, 4, 20)),
    ],
    ids=lambda command: command.name,
)
def test_a_command_naming_an_unknown_case_number_is_refused(command: AgreementCommand) -> None:
    with refused(NotFound, "case_number", CASE):
        decide(command, given_agreement())


# --- The ledger stores nothing of a refused command -------------------------------------------


def test_a_refused_extension_stores_nothing(memory_ledger: Ledger) -> None:
    memory_ledger.execute(conclude())
    before = len(partnership_facts(memory_ledger))
    with refused(RuleBroken, "end", "2019-03-31"):
        memory_ledger.execute(ExtendAgreement(CASE, date(2019, 3, 31), date(2018, 1, 1)))
    assert len(partnership_facts(memory_ledger)) == before == 1


def test_a_second_conclusion_stores_nothing(memory_ledger: Ledger) -> None:
    memory_ledger.execute(conclude())
    with refused(AlreadyExists, "case_number", CASE):
        memory_ledger.execute(conclude(title="Again"))
    [fact] = partnership_facts(memory_ledger)
    assert isinstance(fact.event, AgreementConcluded)
    assert fact.event.title == "Barn i väntan / Barn i start"
