"""The funding read model across agreements: what each agreement's lines are now, by fiscal year.

The rows are what a persistent view keeps (see `biv_adapters.stores.views`); the
functions here say what a fact does to them and how a fiscal year is read off
them, so that the view on any store, a fold of the facts from scratch and each
agreement's own budget all give the same answer.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date

from attrs import field, frozen

from biv_domain.model.agreement import FundingKey, funding_key
from biv_domain.model.events import EVENTS, AgreementConcluded, FundingChanged
from biv_domain.model.money import Money
from biv_domain.model.vocabulary import Party
from biv_domain.projections.budget import FundingLine, PartySums, Split, split_by_year

# The facts the view reads, by their declared topics; the others pass it by.
TOPICS = tuple(EVENTS.of(read).topic for read in (AgreementConcluded, FundingChanged))


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
        fold = FundingFold(self)
        fold.apply(event)
        return fold.rows()


class FundingFold:
    """What each fact does to the funding rows, applied one event at a time in place.

    The one home of the rule: an agreement concluded sets its row; a funding change
    sets its line unless the line was decided later (`supersedes`). Applying it to
    dicts in place costs one row an event, where copying the rows for each event
    (an immutable `FundingRows` a step) made a fold quadratic in its lines. With
    `changed`, the rows an event sets are also set there (what a view must write).
    """

    def __init__(self, rows: FundingRows | None = None) -> None:
        self.agreements: dict[str, AgreementRow] = dict(rows.agreements) if rows else {}
        self.lines: dict[tuple[str, FundingKey], LineRow] = dict(rows.lines) if rows else {}

    def apply(self, event: object, changed: FundingFold | None = None) -> None:
        if isinstance(event, FundingChanged):
            key = (event.case_number, funding_key(event))
            if supersedes(event, self.lines.get(key)):
                line = self.lines[key] = line_row(event)
                if changed is not None:
                    changed.lines[key] = line
        elif isinstance(event, AgreementConcluded):
            row = self.agreements[event.case_number] = agreement_row(event)
            if changed is not None:
                changed.agreements[event.case_number] = row

    def rows(self) -> FundingRows:
        return FundingRows(agreements=dict(self.agreements), lines=dict(self.lines))


def fold(events: Iterable[object]) -> FundingRows:
    """The funding rows after these events, from none."""
    rows = FundingFold()
    for event in events:
        rows.apply(event)
    return rows.rows()


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
