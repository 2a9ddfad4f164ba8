"""The funding view: kept up to date, rebuilt, or folded from the facts, gives one answer.

Random funding decisions over several agreements (some recorded late, some
withdrawn with "0", some repeating a line) are recorded in random batches; the
view catches up after some of them. At the end the view as kept, a view
rebuilt from scratch, a fold of every fact, and each agreement's own budget
agree on every line and on every fiscal year's totals.
"""

from __future__ import annotations

import tempfile
from datetime import date

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from biv_adapters.stores.registry import open_ledger
from biv_domain.ledger import Ledger, Line
from biv_domain.model.commands import ConcludeAgreement, SetFunding
from biv_domain.model.money import Money
from biv_domain.model.vocabulary import Party
from biv_domain.projections.budget import Split, funding_lines
from biv_domain.projections.fiscal_year import fiscal_year, fold
from tests.builders import Clock

CASES = ("Dnr 2016-292", "KS 2021-77", "SON 2022-5")
PERIODS = (
    (date(2021, 1, 1), date(2021, 12, 31)),
    (date(2022, 4, 1), date(2023, 3, 31)),
    (date(2023, 4, 1), date(2024, 3, 31)),
    (date(2022, 7, 15), date(2023, 2, 10)),  # not whole months: split by days
)

decisions = st.builds(
    SetFunding,
    case_number=st.sampled_from(CASES),
    party=st.sampled_from(Party),
    source=st.sampled_from(("committee_budget", "state_grant_parenting_support", "own_funds")),
    start=st.just(date(2021, 1, 1)),
    end=st.just(date(2021, 12, 31)),
    amount=st.integers(0, 50_000_000).map(Money),
    decided_on=st.dates(date(2020, 6, 1), date(2024, 3, 1)),
    decided_by=st.sampled_from([None, "Omsorgsnämnden", "Social- och omsorgsnämnden"]),
    decision_ref=st.sampled_from([None, "SON § 12"]),
).flatmap(
    lambda d: st.sampled_from(PERIODS).map(
        lambda period: SetFunding(
            d.case_number,
            d.party,
            d.source,
            period[0],
            period[1],
            d.amount,
            d.decided_on,
            decided_by=d.decided_by,
            decision_ref=d.decision_ref,
        )
    )
)
batches = st.lists(
    st.tuples(st.lists(decisions, min_size=1, max_size=6), st.booleans()), min_size=1, max_size=8
)


def conclude_all(ledger: Ledger) -> None:
    for number, case in enumerate(CASES):
        ledger.execute(
            ConcludeAgreement(
                case,
                "Barn i väntan",
                f"Kommun {number}",
                "Partner",
                date(2021, 1, 1),
                date(2024, 12, 31),
                6,
                date(2020, 6, 1),
            )
        )


def check(url: str, recorded: list[tuple[list[SetFunding], bool]]) -> None:
    ledger = open_ledger(url)
    conclude_all(ledger)
    kept = ledger.funding_view
    for batch, catch_up in recorded:
        ledger.execute_all([Line(n, command) for n, command in enumerate(batch, start=1)])
        if catch_up:
            kept.catch_up()
    kept.catch_up()

    folded = fold(fact.event for fact in ledger.facts())
    assert kept.rows() == folded

    rebuilt = ledger.store.funding_view(ledger.app)  # a second view on the same store
    rebuilt.rebuild()
    assert rebuilt.rows() == folded

    for case in CASES:
        by_budget = funding_lines(ledger.agreement(case), date.max)
        by_view = sorted(
            (row.line for (c, _key), row in folded.lines.items() if c == case and row.line.amount),
            key=lambda line: (line.start, line.end, line.party, line.source),
        )
        assert by_view == by_budget
    for year in (2021, 2022, 2023, 2024):
        for split in Split:
            assert ledger.fiscal_year(year, split) == fiscal_year(folded, year, split)
    ledger.close()


@settings(max_examples=40, deadline=None)
@given(batches)
def test_on_memory_kept_rebuilt_and_folded_agree(
    recorded: list[tuple[list[SetFunding], bool]],
) -> None:
    check("memory:", recorded)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batches)
def test_on_sqlite_kept_rebuilt_and_folded_agree(
    recorded: list[tuple[list[SetFunding], bool]],
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        check(f"sqlite://{folder}/biv.sqlite3", recorded)


def test_the_funding_as_known_at_a_moment_is_the_view_as_it_stood_then(
    ledger: Ledger, clock: Clock
) -> None:
    # Given an agreement with a funding line, and the view as it stood then
    case = CASES[0]
    conclude = ConcludeAgreement(
        case, "Barn i väntan", "Linköpings kommun", "Partner",
        date(2021, 1, 1), date(2024, 12, 31), 6, date(2020, 6, 1),
    )  # fmt: skip
    first = SetFunding(
        case, Party.MUNICIPALITY, "committee_budget", *PERIODS[0], Money(10_000_000),
        date(2020, 6, 1),
    )  # fmt: skip
    ledger.execute_all([Line(1, conclude), Line(2, first)])
    then = clock.advance(days=1)
    view_then = ledger.funding_rows()
    # When the line is changed later, and another agreement is concluded
    clock.advance(days=30)
    changed = SetFunding(
        case, Party.MUNICIPALITY, "committee_budget", *PERIODS[0], Money(5_000_000),
        date(2020, 7, 1),
    )  # fmt: skip
    other = ConcludeAgreement(
        CASES[1], "Annan", "Linköpings kommun", "Partner",
        date(2021, 1, 1), date(2022, 12, 31), 6, date(2020, 6, 1),
    )  # fmt: skip
    ledger.execute_all([Line(1, changed), Line(2, other)])
    # Then the rows as known then are the view as it stood then, and now the view as it is
    assert ledger.funding_rows(then) == view_then
    assert ledger.funding_rows(then) != ledger.funding_rows()
    assert ledger.funding_rows(clock.advance(days=1)) == ledger.funding_rows()
