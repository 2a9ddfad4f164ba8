"""The funding read model across agreements: what each agreement's lines are now, by fiscal year.

The rows are what a persistent view keeps (see `biv_adapters.views`); the
functions here say what a fact does to them and how a fiscal year is read off
them, so that the view on any store, a fold of the facts from scratch and each
agreement's own budget all give the same answer.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date

from attrs import evolve, field, frozen

from biv_domain.model.agreement import FundingKey, funding_key
from biv_domain.model.events import AgreementConcluded, FundingChanged
from biv_domain.model.money import Money
from biv_domain.model.vocabulary import Party
from biv_domain.projections.budget import FundingLine, PartySums, Split, split_by_year

# The facts the view reads; the others pass it by.
TOPICS = ("AgreementConcluded", "FundingChanged")


@frozen
class AgreementRow:
    case_number: str
    title: str
    municipality: str
    partner: str


@frozen
class LineRow:
    """One funding line as last decided (decision date first, then recorded order)."""

    case_number: str
    line: FundingLine


def supersedes(change: FundingChanged, current: LineRow | None) -> bool:
    """A decision replaces the line unless the line was decided later (a late-recorded old one)."""
    return current is None or change.decided_on >= current.line.decided_on


def line_row(change: FundingChanged) -> LineRow:
    return LineRow(change.case_number, FundingLine.set_by(change))


def agreement_row(concluded: AgreementConcluded) -> AgreementRow:
    return AgreementRow(
        concluded.case_number, concluded.title, concluded.municipality, concluded.partner
    )


@frozen
class FundingRows:
    """The view's contents: agreements and their current funding lines."""

    agreements: dict[str, AgreementRow] = field(factory=dict)
    lines: dict[tuple[str, FundingKey], LineRow] = field(factory=dict)

    def apply(self, event: object) -> FundingRows:
        """The rows after one more fact's event; events the view does not read pass it by."""
        if isinstance(event, AgreementConcluded):
            row = agreement_row(event)
            return evolve(self, agreements={**self.agreements, event.case_number: row})
        if isinstance(event, FundingChanged):
            key = (event.case_number, funding_key(event))
            if supersedes(event, self.lines.get(key)):
                return evolve(self, lines={**self.lines, key: line_row(event)})
        return self


def fold(events: Iterable[object]) -> FundingRows:
    rows = FundingRows()
    for event in events:
        rows = rows.apply(event)
    return rows


@frozen
class YearLine:
    """A funding line's part in one fiscal year."""

    party: Party
    source: str
    start: date
    end: date
    line_amount: Money
    amount: Money
    decided_on: date


@frozen
class AgreementYear:
    case_number: str
    title: str
    municipality: str
    partner: str
    lines: tuple[YearLine, ...]
    sums: PartySums


@frozen
class FiscalYear:
    """Every agreement's funding in one fiscal year (räkenskapsår), by party and by source."""

    fiscal_year: int
    split: Split
    agreements: tuple[AgreementYear, ...]
    total: PartySums
    by_source: dict[str, PartySums]


def fiscal_year(
    rows: FundingRows, year: int, split: Split = Split.MONTHS, municipality: str | None = None
) -> FiscalYear:
    by_case: dict[str, list[YearLine]] = defaultdict(list)
    for row in rows.lines.values():
        line = row.line
        if not line.amount or not line.start.year <= year <= line.end.year:
            continue
        part = split_by_year(line, split)[year]
        by_case[row.case_number].append(
            YearLine(
                line.party, line.source, line.start, line.end, line.amount, part, line.decided_on
            )
        )
    agreements = []
    for case_number in sorted(by_case):
        info = rows.agreements.get(case_number, AgreementRow(case_number, "", "", ""))
        if municipality is not None and info.municipality != municipality:
            continue
        lines = sorted(by_case[case_number], key=lambda y: (y.party, y.source, y.start))
        agreements.append(
            AgreementYear(
                case_number,
                info.title,
                info.municipality,
                info.partner,
                tuple(lines),
                PartySums.of([(y.party, y.amount) for y in lines]),
            )
        )
    all_lines = [y for a in agreements for y in a.lines]
    sources: dict[str, list[tuple[Party, Money]]] = defaultdict(list)
    for y in all_lines:
        sources[y.source].append((y.party, y.amount))
    return FiscalYear(
        fiscal_year=year,
        split=split,
        agreements=tuple(agreements),
        total=PartySums.of([(y.party, y.amount) for y in all_lines]),
        by_source={source: PartySums.of(parts) for source, parts in sorted(sources.items())},
    )
