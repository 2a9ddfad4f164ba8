"""An agreement's index of members: its groups and follow-ups, with the days they span.

The index (`bookkeeping.MemberJoined`, `MemberClosed`) lets a question find an
agreement's groups without reading other agreements' facts, and a report read
only the groups that can have met in its window.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from biv_domain.ledger.bookkeeping import MemberClosed, MemberJoined
from biv_domain.model.dates import Period
from biv_domain.model.fact import Fact

MemberDays = dict[str, tuple[date | None, date | None]]
"""An agreement's members of one kind, in the order they joined: ref -> (first day, closing day)."""


def member_days(facts: Iterable[Fact], kind: str, days: MemberDays | None = None) -> MemberDays:
    """The index of members folded (on `days`, when given, which is left as it was)."""
    days = dict(days or {})
    for fact in facts:
        event = fact.event
        if isinstance(event, MemberJoined) and event.kind == kind:
            days[event.ref] = (event.starts_on, None)
        elif isinstance(event, MemberClosed) and event.kind == kind:
            days[event.ref] = (days[event.ref][0], event.on)
    return days


def overlapping(days: MemberDays, period: Period | None) -> list[str]:
    """The members whose days (first day to closing day) meet the period; all without one."""
    if period is None:
        return list(days)
    return [
        ref
        for ref, (first, last) in days.items()
        if (first is None or first <= period.end) and (last is None or last >= period.start)
    ]
