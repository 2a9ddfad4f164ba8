"""The Linköping partnership through the Python API, step by step.

Run it from the repository's root after `pip install -e .`:

    python examples/linkoping_biv.py

It does what `biv demo` does, in memory, and then shows the two kinds of time:
a session entered a week late changes the figures for its date, and the
figures "as known" before it arrived stay what they were.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from biv_adapters.demo import CASE_NUMBER, record_linkoping
from biv_domain import Ledger, Split, budget, report
from biv_domain.model.commands import EnrollParticipant, HoldSession, PlanGroup
from biv_domain.model.dates import Period
from biv_domain.model.vocabulary import Gender, GroupKind, ResidenceStatus


class Clock:
    """A clock we move by hand, so the example's recorded times are readable."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def main() -> None:
    clock = Clock(datetime(2024, 5, 1, 9, 0, tzinfo=UTC))
    ledger = Ledger(clock=clock)  # in memory; open_ledger("sqlite:...") for a file

    # 1. Record what the documents state and the illustrative year.
    applied, _ = record_linkoping(ledger)
    print(f"recorded {applied} lines")

    # 2. The budget on a day of the 2023-24 period, by months and by days.
    agreement = ledger.agreement(CASE_NUMBER)
    for split in Split:
        figures = budget(agreement, date(2023, 10, 1), split)
        years = {year: str(sums.municipality) for year, sums in figures.by_fiscal_year.items()}
        print(f"municipal money by fiscal year, split by {split}: {years}")
    print(f"municipal share in force: {figures.municipal_share} %")
    print(f"last day to give notice: {agreement.last_notice_day()}")

    # 3. The year's report: the group target is met, the 40-children target is not.
    year = Period(date(2023, 4, 1), date(2024, 3, 31))
    figures_year = report(agreement, ledger.groups(CASE_NUMBER), year)
    for target in figures_year.targets:
        verdict = "met" if target.met else "missed"
        print(f"{target.target}: {target.actual} of {target.expected} expected, {verdict}")

    # 4. A late entry: a seventh group's first session, held 2024-03-20, recorded 2024-05-08.
    known_before = clock.now
    clock.now += timedelta(days=7)
    ledger.execute(
        PlanGroup(
            group_ref="ILL-2024-RYD-3",
            case_number=CASE_NUMBER,
            kind=GroupKind.CHILDREN,
            area="Ryd",
            starts_on=date(2024, 3, 20),
        )
    )
    for number in range(4):
        ledger.execute(
            EnrollParticipant(
                group_ref="ILL-2024-RYD-3",
                participant_ref=f"ILL-C1{number:02d}",
                enrolled_on=date(2024, 3, 13),
                gender=Gender.GIRL if number % 2 else Gender.BOY,
                age=8 + number,
                status=ResidenceStatus.RESIDENCE_PERMIT,
            )
        )
    ledger.execute(
        HoldSession(
            group_ref="ILL-2024-RYD-3",
            held_on=date(2024, 3, 20),
            attendees=tuple(f"ILL-C1{n:02d}" for n in range(4)),
        )
    )
    now = report(agreement, ledger.groups(CASE_NUMBER), year)
    then = report(
        ledger.agreement(CASE_NUMBER, known_before),
        ledger.groups(CASE_NUMBER, known_before),
        year,
    )
    print(f"children in the year, as known on {known_before:%Y-%m-%d}: {then.participants}")
    print(f"children in the year, as known now: {now.participants}")


if __name__ == "__main__":
    main()
