"""Every payment has a decision behind it: payments beside the funding decisions that cover them."""

from __future__ import annotations

from datetime import date

from biv_domain.model import agreement
from biv_domain.model.events import DisbursementRecorded, DisbursementRetracted, FundingChanged
from biv_domain.model.money import Money
from biv_domain.model.vocabulary import Party
from biv_domain.projections.budget import PaymentFlag, payments_against_decisions
from tests.scenario import CASE, agreement_state, linkoping


def line(source: str, start: date, end: date, amount: int, decided_on: date) -> FundingChanged:
    return FundingChanged(
        CASE, Party.MUNICIPALITY, source, start, end, Money.kronor(amount), Money.zero(), decided_on
    )


STATE_GRANT = line("state_grant", date(2023, 4, 1), date(2024, 3, 31), 200_500, date(2022, 10, 19))
LATE_DECISION = line(
    "committee_budget", date(2023, 4, 1), date(2024, 3, 31), 100_000, date(2023, 6, 1)
)


def paid(on: date, amount: int, source: str | None = None) -> DisbursementRecorded:
    return DisbursementRecorded(CASE, Money.kronor(amount), on, source)


def test_each_payment_is_set_beside_the_decisions_that_cover_it() -> None:
    state = agreement_state(
        *linkoping(),
        STATE_GRANT,
        LATE_DECISION,
        paid(date(2023, 4, 20), 150_250),
        paid(date(2020, 5, 4), 10_000),
        paid(date(2023, 5, 2), 50_000, source="committee_budget"),
        paid(date(2023, 9, 1), 1_000),
        DisbursementRetracted(CASE, date(2023, 9, 1), Money.kronor(1_000), "entered twice"),
    )
    checks = payments_against_decisions(state, date(2024, 3, 31))

    assert [(c.payment.paid_on, c.flag) for c in checks] == [
        (date(2020, 5, 4), PaymentFlag.NO_DECISION),  # the years the documents are silent on
        (date(2023, 4, 20), PaymentFlag.NONE),
        (date(2023, 5, 2), PaymentFlag.BEFORE_DECISION),  # its source was decided on 2023-06-01
        (date(2023, 9, 1), PaymentFlag.NONE),
    ]
    covering = {c.payment.paid_on: {line.source for line in c.covering} for c in checks}
    assert covering[date(2023, 4, 20)] == {"state_grant", "committee_budget"}
    assert covering[date(2023, 5, 2)] == {"committee_budget"}
    retracted = [c for c in checks if c.retraction is not None]
    assert [(c.payment.amount, c.retraction.reason) for c in retracted if c.retraction] == [
        (Money.kronor(1_000), "entered twice")
    ]


def test_a_decision_not_yet_taken_covers_nothing() -> None:
    state = agreement.evolve(
        agreement_state(*linkoping(), LATE_DECISION), paid(date(2023, 5, 2), 1)
    )
    [check] = payments_against_decisions(state, date(2023, 5, 31))
    assert check.flag is PaymentFlag.NO_DECISION
