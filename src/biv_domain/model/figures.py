"""Report figures: the numbers a half-year's written report (skriftlig redovisning) gives,
and whether the parties spread information about the programme.

Plain values, computed by `biv_domain.projections.report` (or told by the partner) and
frozen into a submitted report's fact, so they import nothing of the domain's behaviour.
"""

from __future__ import annotations

from datetime import date

from attrs import frozen

from biv_domain.model.vocabulary import TargetKind


@frozen
class Information:
    """Whether each party spread information about the programme (informationsspridning)."""

    municipality: bool
    partner: bool


@frozen
class TargetOutcome:
    """A yearly commitment against what the window shows."""

    target: TargetKind
    yearly: int
    expected: int
    actual: int
    met: bool


@frozen
class ReportFigures:
    """The figures of one window (from and to inclusive)."""

    case_number: str
    start: date
    end: date
    groups: int
    parent_groups: int
    sessions: int
    parent_sessions: int
    participants: int
    parents: int
    by_gender: dict[str, int]
    by_age_band: dict[str, int]
    targets: tuple[TargetOutcome, ...]
    # Minutes of support in the window's sessions (children's and parents'), and how many
    # of them are the method's norm assumed for sessions recorded without a length.
    # None in figures frozen before they were counted (a ReportSubmitted of version 1).
    support_minutes: int | None = None
    support_minutes_assumed: int | None = None


@frozen
class PublishedTarget:
    target: TargetKind
    yearly: int
    expected: int
    actual: int | None
    met: bool


@frozen
class PublishedFigures:
    """A window's figures fit to publish outside the two parties: small counts of people withheld.

    Counts of people below the threshold are null and named in `suppressed`;
    where withholding one cell of a breakdown would still let it be worked
    out from the total, the next smallest cell is withheld too. Counts of
    groups and sessions say nothing about a person and stay.
    """

    case_number: str
    start: date
    end: date
    groups: int
    parent_groups: int
    sessions: int
    parent_sessions: int
    participants: int | None
    parents: int | None
    by_gender: dict[str, int | None]
    by_age_band: dict[str, int | None]
    targets: tuple[PublishedTarget, ...]
    threshold: int
    suppressed: tuple[str, ...]
