"""Properties of money, calendar months and the split of funding across fiscal years."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from biv_domain.errors import InvalidValue
from biv_domain.ledger import Ledger
from biv_domain.model.agreement import FundingKey, funding_key
from biv_domain.model.commands import Command
from biv_domain.model.dates import Period, add_months, is_month_end
from biv_domain.model.events import FundingChanged
from biv_domain.model.money import Money
from biv_domain.model.vocabulary import Party
from biv_domain.projections.budget import FundingLine, Split, budget, split_by_year
from tests.strategies import (
    StepClock,
    agreement_histories,
    case_number_of,
    dates,
    money,
    month_ends,
    periods,
    signed_money,
    sources,
    whole_month_periods,
)

SETTINGS = settings(max_examples=150, deadline=None)

weights = st.lists(st.integers(0, 10_000), min_size=1, max_size=12).filter(lambda w: sum(w) > 0)
# Months by which dates move; the dates drawn stay far enough from year 1 and 9999.
month_steps = st.integers(-600, 600)


# --- Money.split ------------------------------------------------------------------------------


@SETTINGS
@given(signed_money(), weights)
@example(Money.kronor(300_500), [9, 3])
@example(Money(1), [1, 1, 1])
@example(Money(2), [1, 0, 1])
def test_split_parts_add_up_to_the_whole(amount: Money, shares: list[int]) -> None:
    parts = amount.split(shares)
    assert len(parts) == len(shares)
    assert sum(p.ore for p in parts) == amount.ore


@SETTINGS
@given(signed_money(), weights)
def test_split_parts_are_within_one_ore_of_the_exact_share(
    amount: Money, shares: list[int]
) -> None:
    total = sum(shares)
    for part, weight in zip(amount.split(shares), shares, strict=True):
        # |part - amount * weight / total| < 1 öre, kept in whole numbers.
        assert abs(part.ore * total - amount.ore * weight) < total
        if weight == 0:
            assert part == Money.zero()


@SETTINGS
@given(signed_money(), weights)
def test_split_is_deterministic(amount: Money, shares: list[int]) -> None:
    assert amount.split(shares) == amount.split(list(shares)) == Money(amount.ore).split(shares)


@SETTINGS
@given(money(), st.integers(1, 12), st.integers(1, 1000))
def test_split_into_equal_weights_differs_by_at_most_one_ore_earliest_first(
    amount: Money, count: int, weight: int
) -> None:
    parts = [p.ore for p in amount.split([weight] * count)]
    assert max(parts) - min(parts) <= 1
    assert parts == sorted(parts, reverse=True)  # a tie goes to the earliest part


def test_split_refuses_weights_that_share_nothing() -> None:
    for bad in ([], [0, 0], [1, -1]):
        with pytest.raises(ValueError, match="weights"):
            Money.kronor(1).split(bad)


# --- Money.parse and str ----------------------------------------------------------------------


@SETTINGS
@given(money(10**15))
@example(Money(0))
@example(Money(5))
@example(Money(50))
@example(Money(20_050_000))
def test_str_then_parse_gives_the_amount_back(amount: Money) -> None:
    text = str(amount)
    kronor, ore = text.split(".")
    assert kronor == str(int(kronor))  # digits, no leading zeros
    assert len(ore) == 2
    assert ore.isdigit()
    assert Money.parse(text) == amount


@SETTINGS
@given(st.integers(0, 10**12), st.sampled_from(["", ".{}", ".{:02d}"]), st.integers(0, 99))
def test_parse_then_str_writes_kronor_with_two_decimals(kronor: int, form: str, ore: int) -> None:
    if form == ".{}":
        ore %= 10  # one decimal: tenths of a krona
    text = f"{kronor}{form.format(ore)}"
    amount = Money.parse(text)
    expected_ore = ore * 10 if form == ".{}" else (ore if form else 0)
    assert amount == Money(kronor * 100 + expected_ore)
    assert Money.parse(str(amount)) == amount


@SETTINGS
@given(signed_money().filter(lambda m: m.ore < 0))
def test_a_negative_amount_is_written_with_a_sign_and_never_parsed(amount: Money) -> None:
    assert str(amount).startswith("-")
    assert str(Money(-amount.ore)) == str(amount)[1:]
    with pytest.raises(InvalidValue, match="negative"):
        Money.parse(str(amount))


@pytest.mark.parametrize(
    "text", ["1.234", "1,50", "1e3", "0x10", ".5", "1.", "12 000", "", "kr", "١٢", "１２"]
)
def test_parse_refuses_what_is_not_kronor_with_at_most_two_decimals(text: str) -> None:
    with pytest.raises(InvalidValue):
        Money.parse(text)


@pytest.mark.parametrize("value", [1.5, 100, None, b"100"])
def test_parse_refuses_anything_but_a_string(value: object) -> None:
    with pytest.raises(InvalidValue):
        Money.parse(value)


# --- add_months -------------------------------------------------------------------------------

safe_dates = dates(date(1100, 1, 1), date(8800, 12, 31))


@SETTINGS
@given(safe_dates, month_steps)
def test_add_months_moves_by_whole_months_to_a_valid_day(day: date, months: int) -> None:
    moved = add_months(day, months)
    assert isinstance(moved, date)
    assert (moved.year * 12 + moved.month) - (day.year * 12 + day.month) == months
    if not is_month_end(day):
        # The same day of the month, or the last day when the month is shorter.
        assert moved.day == day.day or (moved.day < day.day and is_month_end(moved))


@SETTINGS
@given(month_ends(date(1100, 1, 1), date(8800, 12, 31)), month_steps)
@example(date(2023, 9, 30), 6)
@example(date(2023, 8, 31), 6)
@example(date(2024, 2, 29), -12)
@example(date(2023, 2, 28), 1)
def test_a_month_end_maps_to_a_month_end(day: date, months: int) -> None:
    assert is_month_end(add_months(day, months))


@SETTINGS
@given(safe_dates.map(lambda d: d.replace(day=min(d.day, 27))), month_steps)
def test_adding_then_subtracting_months_gives_the_day_back(day: date, months: int) -> None:
    assert add_months(add_months(day, months), -months) == day


@SETTINGS
@given(safe_dates.map(lambda d: d.replace(day=28)), month_steps)
@example(date(2023, 1, 28), 1)
@example(date(2024, 2, 28), 12)
def test_the_28th_comes_back_unless_it_lands_on_a_28_february_month_end(
    day: date, months: int
) -> None:
    # The 28th lands on a month-end only in a February of 28 days, and a month-end
    # goes back to a month-end: 2023-01-28 + 1 month = 2023-02-28, - 1 month = 2023-01-31.
    there = add_months(day, months)
    back = add_months(there, -months)
    if is_month_end(there):
        assert is_month_end(back)
        assert (back.year, back.month) == (day.year, day.month)
    else:
        assert back == day


@SETTINGS
@given(safe_dates, safe_dates, month_steps)
def test_add_months_keeps_the_order_of_days(first: date, second: date, months: int) -> None:
    low, high = sorted((first, second))
    assert add_months(low, months) <= add_months(high, months)


@SETTINGS
@given(dates(date(1900, 1, 1), date(2200, 12, 31)), st.integers(0, 36))
@example(date(2024, 3, 31), 6)
@example(date(2023, 3, 30), 1)
@example(date(2024, 2, 29), 12)
def test_the_last_notice_day_is_the_last_day_notice_ends_on_time(end: date, months: int) -> None:
    # The last day to give notice for an end E is E minus N months (2024-03-31, 6: 2023-09-30):
    # notice on that day runs at least to E (so ends on E), and a day later runs past E.
    last = add_months(end, -months)
    assert last <= end
    assert add_months(last, months) >= end
    assert add_months(last + timedelta(days=1), months) > end


# --- Periods ----------------------------------------------------------------------------------


@SETTINGS
@given(whole_month_periods())
@example(Period(date(2023, 4, 1), date(2024, 3, 31)))
@example(Period(date(2017, 4, 1), date(2019, 3, 31)))
def test_months_by_year_add_up_to_the_months(period: Period) -> None:
    by_year = period.months_by_year()
    assert sum(by_year.values()) == period.months()
    first, last = period.start, period.end
    assert period.months() == (last.year - first.year) * 12 + last.month - first.month + 1
    assert list(by_year) == list(range(period.start.year, period.end.year + 1))
    assert all(1 <= months <= 12 for months in by_year.values())


@SETTINGS
@given(periods())
@example(Period(date(2023, 4, 1), date(2024, 3, 31)))
def test_days_by_year_add_up_to_the_days(period: Period) -> None:
    by_year = period.days_by_year()
    assert sum(by_year.values()) == period.days == (period.end - period.start).days + 1
    assert list(by_year) == list(range(period.start.year, period.end.year + 1))
    for year, days in by_year.items():
        assert 1 <= days <= (date(year, 12, 31) - date(year, 1, 1)).days + 1


@SETTINGS
@given(periods().filter(lambda p: p.start.day != 1 or not is_month_end(p.end)))
def test_months_by_year_refuses_a_period_of_part_months(period: Period) -> None:
    with pytest.raises(ValueError, match="whole months"):
        period.months_by_year()


# --- budget.split_by_year ---------------------------------------------------------------------


def _line(period: Period, amount: Money, party: Party, source: str) -> FundingLine:
    return FundingLine(party, source, period.start, period.end, amount, period.start)


@SETTINGS
@given(
    st.one_of(whole_month_periods(), periods()),
    money(10**12),
    st.sampled_from(Party),
    sources(),
    st.sampled_from(Split),
)
def test_split_by_year_adds_up_to_the_line(
    period: Period, amount: Money, party: Party, source: str, split: Split
) -> None:
    parts = split_by_year(_line(period, amount, party, source), split)
    assert sum(part.ore for part in parts.values()) == amount.ore
    assert list(parts) == list(range(period.start.year, period.end.year + 1))
    whole = period.start.day == 1 and is_month_end(period.end)
    weights = period.months_by_year() if split is Split.MONTHS and whole else period.days_by_year()
    total = sum(weights.values())
    for year, part in parts.items():
        assert abs(part.ore * total - amount.ore * weights[year]) < total


@SETTINGS
@given(periods().filter(lambda p: p.start.day != 1 or not is_month_end(p.end)), money())
def test_a_line_of_part_months_is_split_by_days_either_way(period: Period, amount: Money) -> None:
    line = _line(period, amount, Party.MUNICIPALITY, "committee_budget")
    assert split_by_year(line, Split.MONTHS) == split_by_year(line, Split.DAYS)


@pytest.mark.parametrize(
    ("kronor", "by_months", "by_days"),
    [
        (300_500, ("225375.00", "75125.00"), ("225785.52", "74714.48")),
        (200_500, ("150375.00", "50125.00"), ("150648.91", "49851.09")),
        (100_000, ("75000.00", "25000.00"), ("75136.61", "24863.39")),
        (160_000, ("120000.00", "40000.00"), None),
    ],
)
def test_the_2023_24_funding_splits_as_the_documents_say(
    kronor: int, by_months: tuple[str, str], by_days: tuple[str, str] | None
) -> None:
    line = _line(
        Period(date(2023, 4, 1), date(2024, 3, 31)),
        Money.kronor(kronor),
        Party.MUNICIPALITY,
        "committee_budget",
    )
    months = split_by_year(line, Split.MONTHS)
    assert (str(months[2023]), str(months[2024])) == by_months
    if by_days is not None:
        days = split_by_year(line, Split.DAYS)
        assert (str(days[2023]), str(days[2024])) == by_days


@settings(max_examples=40, deadline=None)
@given(agreement_histories(), st.data())
def test_a_budget_lists_the_last_decisions_and_its_fiscal_years_add_up_to_them(
    commands: list[Command], data: st.DataObject
) -> None:
    ledger = Ledger(clock=StepClock())
    for command in commands:
        ledger.execute(command)
    state = ledger.agreement(case_number_of(commands))
    year = timedelta(days=366)
    on = data.draw(dates(state.terms.start - year, state.ends_on() + year), label="on")
    # A later decision on the same line replaces the amount; the same day: the later recorded.
    latest: dict[FundingKey, FundingChanged] = {}
    for change in state.funding:
        known = latest.get(funding_key(change))
        if change.decided_on <= on and (known is None or change.decided_on >= known.decided_on):
            latest[funding_key(change)] = change
    expected = {key: change.amount for key, change in latest.items() if change.amount}
    for split in Split:
        figures = budget(state, on, split)
        lines = {
            FundingKey(line.party, line.source, line.start, line.end): line.amount
            for line in figures.funding
        }
        assert lines == expected
        for party in Party:
            of_party = [line for line in figures.funding if line.party is party]
            by_year = [getattr(sums, party.value) for sums in figures.by_fiscal_year.values()]
            assert sum(m.ore for m in by_year) == sum(line.amount.ore for line in of_party)
            in_force = sum(line.amount.ore for line in of_party if on in line.period)
            assert getattr(figures.in_force, party.value) == Money(in_force)
        for sums in [figures.in_force, *figures.by_fiscal_year.values()]:
            assert sums.total == sums.municipality + sums.partner
        paid = sum(d.amount.ore for d in state.disbursements if d.paid_on <= on)
        assert figures.disbursed == Money(paid)


@given(st.integers(min_value=0, max_value=10**15))
def test_a_stored_amount_reads_back_as_it_was_written(ore: int) -> None:
    """`Money.read`, the store's fast reading, is the inverse of `str`, as `parse` is."""
    amount = Money(ore)
    assert Money.read(str(amount)) == amount == Money.parse(str(amount))


@pytest.mark.parametrize("text", ["12", "1_000.00", " 12.00", "12.5", "-3.00", "١٢.٠٠"])
def test_an_amount_not_in_the_stored_shape_is_read_as_parse_reads_it(text: str) -> None:
    try:
        expected: Money | str = Money.parse(text)
    except InvalidValue as refusal:
        expected = refusal.reason
    try:
        got: Money | str = Money.read(text)
    except InvalidValue as refusal:
        got = refusal.reason
    assert got == expected
