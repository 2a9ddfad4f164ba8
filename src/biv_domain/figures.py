"""Report figures: the numbers a half-year's written report (skriftlig redovisning) gives.

Plain values, computed by `biv_domain.report` and frozen into a submitted
report's fact, so they import nothing of the domain's behaviour.
"""

from __future__ import annotations

from datetime import date

from attrs import frozen

from biv_domain.vocabulary import TargetKind


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
