"""Report figures for a window: groups, sessions, participants, and targets against outcomes.

This is what the half-yearly written report (skriftlig redovisning) shows:
the number of groups, the number of participants by age and gender, and
whether the yearly commitments are on track for the window's share of a year.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import date, timedelta

from attrs import frozen

from biv_domain.errors import InvalidValue
from biv_domain.model.agreement import AgreementState
from biv_domain.model.dates import Period, add_months
from biv_domain.model.events import SessionHeld
from biv_domain.model.figures import PublishedFigures, PublishedTarget, ReportFigures, TargetOutcome
from biv_domain.model.follow_up import FollowUpState
from biv_domain.model.group import GroupState
from biv_domain.model.vocabulary import Gender, GroupKind, TargetKind

AGE_BANDS: tuple[tuple[str, int, int], ...] = (
    ("7-9", 7, 9),
    ("10-12", 10, 12),
    ("13-15", 13, 15),
    ("16-17", 16, 17),
    ("18-20", 18, 20),
)


UNKNOWN_AGE = "unknown"  # the age band of a child whose data was erased


def window_months(window: Period) -> int:
    """The window's length in months, a started month counting as a whole one."""
    months = 0
    while add_months(window.start, months) <= window.end:
        months += 1
    return months


def window_month_ends(window: Period) -> list[date]:
    """The last day of each of the window's months (counted from its start), the last cut at
    the window's end."""
    months = window_months(window)
    return [
        min(add_months(window.start, i + 1) - timedelta(days=1), window.end) for i in range(months)
    ]


def expected_in(agreement: AgreementState, kind: TargetKind, window: Period) -> int:
    """A yearly target's share of the window: for each of its months (a started month
    counting) the yearly value in force by that month's end, over 12, summed and rounded
    up. A target counts only from its decision: a month before it was decided adds nothing."""
    twelfths = sum(agreement.target(kind, end) or 0 for end in window_month_ends(window))
    return -(-twelfths // 12)


def counts_from(agreement: AgreementState, kind: TargetKind, window: Period) -> date | None:
    """The first day of the window a target counts from: its start, or the decision's day."""
    for end in window_month_ends(window):
        decided = agreement.target_decision(kind, end)
        if decided is not None:
            return max(window.start, decided.decided_on)
    return None


def age_band(age: int) -> str:
    for name, low, high in AGE_BANDS:
        if low <= age <= high:
            return name
    return "other"


def _attended(
    groups: Iterable[GroupState], window: Period
) -> tuple[set[str], list[SessionHeld], dict[str, GroupState]]:
    """The groups that met in the window, their sessions, and each attendee's first group."""
    met: set[str] = set()
    sessions: list[SessionHeld] = []
    attendees: dict[str, GroupState] = {}
    for group in groups:
        held = [s for s in group.sessions if s.held_on in window]
        if held:
            met.add(group.group_ref)
            sessions += held
        for session in sorted(held, key=lambda s: s.held_on):
            for ref in session.attendees:
                attendees.setdefault(ref, group)
    return met, sessions, attendees


def report(
    agreement: AgreementState, groups: Iterable[GroupState], window: Period
) -> ReportFigures:
    """The report's figures for a window (`biv report CASE --from --to`): groups and sessions
    with a session in it, the distinct children and parents who attended, by gender and age
    band, and each yearly target against the window's share of a year.

    >>> year = Period(date(2023, 4, 1), date(2024, 3, 31))
    >>> state = ledger.agreement("Dnr 2016-292")
    >>> figures = report(state, ledger.groups("Dnr 2016-292", overlapping=year), year)
    >>> figures.groups, figures.sessions
    (6, 84)
    """
    groups = list(groups)
    children = [g for g in groups if g.plan.kind is GroupKind.CHILDREN]
    parents = [g for g in groups if g.plan.kind is GroupKind.PARENTS]
    child_groups, child_sessions, child_attendees = _attended(children, window)
    parent_groups, parent_sessions, parent_attendees = _attended(parents, window)

    by_gender: Counter[str] = Counter({g.value: 0 for g in (Gender.GIRL, Gender.BOY)})
    by_age: Counter[str] = Counter({name: 0 for name, _, _ in AGE_BANDS})
    for ref, group in child_attendees.items():
        participant = group.participant(ref)
        assert participant is not None  # a session lists only enrolled participants
        by_gender[participant.enrolment.gender.value] += 1
        if participant.enrolment.age is not None:
            by_age[age_band(participant.enrolment.age)] += 1
        else:  # a child whose data was erased: still counted, in a cell of its own
            by_age[UNKNOWN_AGE] += 1

    actual = {
        TargetKind.CHILDREN_PER_YEAR: len(child_attendees),
        TargetKind.GROUPS_PER_YEAR: len(child_groups),
    }
    targets = []
    for kind in TargetKind:
        yearly = agreement.target(kind, window.end)
        if yearly is not None:
            expected = expected_in(agreement, kind, window)
            targets.append(
                TargetOutcome(kind, yearly, expected, actual[kind], actual[kind] >= expected)
            )

    held = child_sessions + parent_sessions
    return ReportFigures(
        case_number=agreement.case_number,
        start=window.start,
        end=window.end,
        groups=len(child_groups),
        parent_groups=len(parent_groups),
        sessions=len(child_sessions),
        parent_sessions=len(parent_sessions),
        participants=len(child_attendees),
        parents=len(parent_attendees),
        by_gender=dict(by_gender),
        by_age_band=dict(by_age),
        targets=tuple(targets),
        support_minutes=sum(s.minutes for s in held),
        support_minutes_assumed=sum(s.minutes for s in held if s.minutes_assumed),
    )


@frozen
class Change:
    """A figure that differs between a submitted report and the ledger today."""

    figure: str
    submitted: object
    now: object


def changes(submitted: ReportFigures, now: ReportFigures) -> list[Change]:
    """What changed in the window's figures since the report was submitted."""
    result = []
    for name in (
        "groups",
        "parent_groups",
        "sessions",
        "parent_sessions",
        "participants",
        "parents",
    ):
        before, after = getattr(submitted, name), getattr(now, name)
        if before != after:
            result.append(Change(name, before, after))
    for name in ("support_minutes", "support_minutes_assumed"):
        before, after = getattr(submitted, name), getattr(now, name)
        if before is not None and before != after:  # None: not counted when submitted
            result.append(Change(name, before, after))
    for name in ("by_gender", "by_age_band"):
        before_d, after_d = getattr(submitted, name), getattr(now, name)
        for key in sorted(set(before_d) | set(after_d)):
            if before_d.get(key, 0) != after_d.get(key, 0):
                result.append(Change(f"{name}.{key}", before_d.get(key, 0), after_d.get(key, 0)))
    targets_before = {t.target.value: t for t in submitted.targets}
    for target in now.targets:
        before_t = targets_before.get(target.target.value)
        if before_t is None or (before_t.actual, before_t.met) != (target.actual, target.met):
            result.append(
                Change(
                    f"targets.{target.target.value}",
                    None if before_t is None else {"actual": before_t.actual, "met": before_t.met},
                    {"actual": target.actual, "met": target.met},
                )
            )
    return result


@frozen
class SubmittedComparison:
    """A follow-up's figures as submitted (frozen in its report) and what changed since."""

    follow_up_ref: str
    submitted_on: date | None
    submitted: ReportFigures | None
    changes: tuple[Change, ...]


def compare_with_submitted(follow_up: FollowUpState, now: ReportFigures) -> SubmittedComparison:
    """The follow-up's submitted figures beside `now`, the window's figures as known today."""
    submitted = follow_up.report.figures if follow_up.report else None
    return SubmittedComparison(
        follow_up_ref=follow_up.follow_up_ref,
        submitted_on=follow_up.report.submitted_on if follow_up.report else None,
        submitted=submitted,
        changes=tuple(changes(submitted, now)) if submitted else (),
    )


PUBLIC_THRESHOLD = 5
"""The smallest count of people published outside the two parties (the default of
`--public`, and the least an HTTP reader who is not an auditor is shown)."""


def for_publication(figures: ReportFigures, threshold: int = PUBLIC_THRESHOLD) -> PublishedFigures:
    """The figures with counts of people from 1 to `threshold` - 1 withheld (primary
    suppression) and, where a breakdown would give a withheld cell away by
    subtraction from its published total, one more cell withheld (secondary)."""
    if threshold < 1:
        raise InvalidValue("threshold", f"must be 1 or more, got {threshold}")
    suppressed: list[str] = []

    def small(count: int) -> bool:
        return 0 < count < threshold

    participants = None if small(figures.participants) else figures.participants
    parents = None if small(figures.parents) else figures.parents
    if participants is None:
        suppressed.append("participants")
    if parents is None:
        suppressed.append("parents")

    def breakdown(name: str, cells: dict[str, int]) -> dict[str, int | None]:
        hidden = {key for key, count in cells.items() if small(count)}
        if len(hidden) == 1 and participants is not None:
            # The smallest other cell (the first, on a tie) goes too.
            others = [
                (count, index, key)
                for index, (key, count) in enumerate(cells.items())
                if count and key not in hidden
            ]
            if others:
                hidden.add(min(others)[2])
        suppressed.extend(f"{name}.{key}" for key in cells if key in hidden)
        return {key: None if key in hidden else count for key, count in cells.items()}

    by_gender = breakdown("by_gender", figures.by_gender)
    by_age_band = breakdown("by_age_band", figures.by_age_band)
    targets = tuple(
        PublishedTarget(
            t.target,
            t.yearly,
            t.expected,
            participants if t.target is TargetKind.CHILDREN_PER_YEAR else t.actual,
            t.met,
        )
        for t in figures.targets
    )
    return PublishedFigures(
        case_number=figures.case_number,
        start=figures.start,
        end=figures.end,
        groups=figures.groups,
        parent_groups=figures.parent_groups,
        sessions=figures.sessions,
        parent_sessions=figures.parent_sessions,
        participants=participants,
        parents=parents,
        by_gender=by_gender,
        by_age_band=by_age_band,
        targets=targets,
        threshold=threshold,
        suppressed=tuple(suppressed),
    )


NOTHING_RECORDED = "nothing recorded in the window (no group, no session): not assessed"


@frozen
class TargetAssessment:
    """A yearly target judged for a window: `met` is None, with the reason, when the window
    holds nothing to judge it by (inga uppgifter registrerade), never false for want of
    documents. `counts_from` is the first day the target counts (its decision's day, when
    that falls in the window)."""

    target: TargetKind
    yearly: int
    expected: int
    actual: int
    met: bool | None
    counts_from: date | None
    reason: str | None


@frozen
class ReportView:
    """A window's report figures with its targets assessed; what `biv report` shows.

    `nothing_recorded` is true when no group overlapping the window was recorded and no
    session was held in it: the ledger then knows nothing of the window (missing, not missed).
    """

    figures: ReportFigures
    nothing_recorded: bool
    targets: tuple[TargetAssessment, ...]


def report_view(
    agreement: AgreementState, groups: Iterable[GroupState], window: Period
) -> ReportView:
    groups = list(groups)
    figures = report(agreement, groups, window)
    planned = any(_open_in(g, window) for g in groups)
    nothing = not planned and not (figures.sessions or figures.parent_sessions)
    return assessed(agreement, figures, window, nothing_recorded=nothing)


def _open_in(group: GroupState, window: Period) -> bool:
    """Whether the group ran at some time in the window: planned to start by its end, not
    closed (completed or cancelled) before its start."""
    closed = group.closed_on
    return group.plan.starts_on <= window.end and (closed is None or closed >= window.start)


def assessed(
    agreement: AgreementState, figures: ReportFigures, window: Period, *, nothing_recorded: bool
) -> ReportView:
    targets = tuple(
        TargetAssessment(
            target=t.target,
            yearly=t.yearly,
            expected=t.expected,
            actual=t.actual,
            met=None if nothing_recorded else t.met,
            counts_from=counts_from(agreement, t.target, window),
            reason=NOTHING_RECORDED if nothing_recorded else None,
        )
        for t in figures.targets
    )
    return ReportView(figures, nothing_recorded, targets)
