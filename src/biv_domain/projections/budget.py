"""The budget for any date: funding lines, what is in force, the split across fiscal years.

Pure functions of an agreement's state. "As known at" a recorded time is the
ledger's part: it folds only the facts recorded by then and hands the state here.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from attrs import frozen

from biv_domain.model.agreement import AgreementState, AgreementStatus, FundingKey, funding_key
from biv_domain.model.dates import Period, is_month_end
from biv_domain.model.events import DisbursementRecorded, DisbursementRetracted, FundingChanged
from biv_domain.model.money import Money
from biv_domain.model.vocabulary import Party


class Split(StrEnum):
    """How a funding line is divided across fiscal years (calendar years)."""

    MONTHS = "months"
    DAYS = "days"


@frozen
class FundingLine:
    """One party's money from one source for one period, as last decided."""

    party: Party
    source: str
    start: date
    end: date
    amount: Money
    decided_on: date
    note: str = ""
    decided_by: str | None = None
    decision_ref: str | None = None

    @classmethod
    def set_by(cls, change: FundingChanged) -> FundingLine:
        """The line as this decision set it."""
        return cls(
            change.party,
            change.source,
            change.start,
            change.end,
            change.amount,
            change.decided_on,
            change.note,
            change.decided_by,
            change.decision_ref,
        )

    @property
    def period(self) -> Period:
        return Period(self.start, self.end)


@frozen
class PartySums:
    """Amounts by party, and their total."""

    municipality: Money
    partner: Money
    total: Money

    @classmethod
    def of(cls, lines: list[tuple[Party, Money]]) -> PartySums:
        municipality = Money(sum(m.ore for p, m in lines if p is Party.MUNICIPALITY))
        partner = Money(sum(m.ore for p, m in lines if p is Party.PARTNER))
        return cls(municipality, partner, municipality + partner)


@frozen
class Budget:
    """The agreement's money and standing on one date."""

    case_number: str
    on: date
    status: AgreementStatus
    end: date
    last_notice_day: date
    funding: tuple[FundingLine, ...]
    in_force: PartySums
    municipal_share: Decimal | None
    by_fiscal_year: dict[int, PartySums]
    disbursed: Money
    split: Split


def funding_lines(state: AgreementState, on: date) -> list[FundingLine]:
    """The lines decided on or before `on`; a later decision on the same line replaces it.

    Decisions are taken in order of their decision date, and in recorded order
    on the same date; a line last set to 0 is withdrawn and not listed.
    """
    latest: dict[FundingKey, FundingChanged] = {}
    for change in sorted(state.funding, key=lambda c: c.decided_on):  # stable: recorded order
        if change.decided_on <= on:
            latest[funding_key(change)] = change
    lines = [FundingLine.set_by(c) for c in latest.values() if c.amount]
    return sorted(lines, key=lambda line: (line.start, line.end, line.party, line.source))


def split_by_year(line: FundingLine, split: Split = Split.MONTHS) -> dict[int, Money]:
    """A line's amount across calendar years, adding up to the line to the öre.

    By months, a line whose period is not whole months is split by days, since
    a month it covers only in part has no fair share of its own.
    """
    period = line.period
    whole_months = period.start.day == 1 and is_month_end(period.end)
    weights = (
        period.months_by_year() if split is Split.MONTHS and whole_months else period.days_by_year()
    )
    years = sorted(weights)
    parts = line.amount.split([weights[y] for y in years])
    return dict(zip(years, parts, strict=True))


def municipal_share(sums: PartySums) -> Decimal | None:
    """The municipality's share in percent, two decimals (65.26 for 300 500 of 460 500)."""
    if not sums.total:
        return None
    share = Decimal(sums.municipality.ore * 100) / Decimal(sums.total.ore)
    return share.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def budget(state: AgreementState, on: date, split: Split = Split.MONTHS) -> Budget:
    """The agreement's money on `on` (`biv budget CASE --on DATE`): its status, end, the funding
    lines decided by then, what is in force, the municipal share, the split across fiscal
    (calendar) years by whole months or by days, and what was paid out.

    >>> figures = budget(ledger.agreement("Dnr 2016-292"), date(2023, 10, 1))
    >>> figures.status.value, str(figures.by_fiscal_year[2023].municipality)
    ('in_force', '225375.00')
    """
    lines = funding_lines(state, on)
    in_force = PartySums.of([(line.party, line.amount) for line in lines if on in line.period])
    by_year: dict[int, list[tuple[Party, Money]]] = defaultdict(list)
    for line in lines:
        for year, part in split_by_year(line, split).items():
            by_year[year].append((line.party, part))
    disbursed = Money(sum(d.amount.ore for d in state.disbursements if d.paid_on <= on))
    return Budget(
        case_number=state.case_number,
        on=on,
        status=state.status_on(on),
        end=state.ends_on(on),
        last_notice_day=state.last_notice_day(on),
        funding=tuple(lines),
        in_force=in_force,
        municipal_share=municipal_share(in_force),
        by_fiscal_year={year: PartySums.of(parts) for year, parts in sorted(by_year.items())},
        disbursed=disbursed,
        split=split,
    )


class PaymentFlag(StrEnum):
    """What an auditor should look at in a payment (utbetalning)."""

    NONE = ""
    NO_DECISION = "no funding decision covers this payment"
    BEFORE_DECISION = "paid before the decision that covers it"


@frozen
class PaymentCheck:
    """A payment beside the funding decisions that cover it: every payment needs one."""

    payment: DisbursementRecorded
    retraction: DisbursementRetracted | None
    covering: tuple[FundingLine, ...]

    @property
    def flag(self) -> PaymentFlag:
        if not self.covering:
            return PaymentFlag.NO_DECISION
        if all(line.decided_on > self.payment.paid_on for line in self.covering):
            return PaymentFlag.BEFORE_DECISION
        return PaymentFlag.NONE


def covering(
    payment: DisbursementRecorded, lines: Iterable[FundingLine]
) -> tuple[FundingLine, ...]:
    """The municipality's lines whose period covers the payment's date (and source, if named)."""
    return tuple(
        line
        for line in lines
        if line.party is Party.MUNICIPALITY
        and payment.paid_on in line.period
        and (payment.source is None or payment.source == line.source)
    )


def payments_against_decisions(state: AgreementState, on: date) -> list[PaymentCheck]:
    """Every payment recorded, retracted ones too, beside the decisions known on `on`."""
    lines = funding_lines(state, on)
    checks = [PaymentCheck(p, None, covering(p, lines)) for p in state.disbursements]
    checks += [
        PaymentCheck(p, r, covering(p, lines))
        for p, r in zip(state.retracted, state.retractions, strict=True)
    ]
    return sorted(checks, key=lambda check: check.payment.paid_on)
