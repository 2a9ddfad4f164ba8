"""Given/when/then for the deciders: past events folded into a state, and the standard facts.

The standard history is Linköping's: the agreement Dnr 2016-292 concluded for
2017-04-01 – 2019-03-31, extended to 2023-03-31 and, on 2022-10-19, to 2024-03-31.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import date
from typing import TypeVar

import pytest

from biv_domain.errors import Refused
from biv_domain.ledger import Ledger
from biv_domain.model import agreement, follow_up, group
from biv_domain.model.agreement import AgreementState
from biv_domain.model.events import (
    AgreementConcluded,
    AgreementEvent,
    AgreementExtended,
    FollowUpEvent,
    FollowUpScheduled,
    GroupEvent,
    GroupPlanned,
    NoticeGiven,
    ParticipantEnrolled,
    ReportSubmitted,
)
from biv_domain.model.fact import Fact
from biv_domain.model.follow_up import FollowUpState
from biv_domain.model.group import GroupState
from biv_domain.model.vocabulary import Gender, GroupKind, Party, ResidenceStatus, Track

CASE = "Dnr 2016-292"
GROUP = "RYD-2023-1"
FOLLOW_UP = "2023-H1"

S = TypeVar("S")
E = TypeVar("E")


def _fold(evolve: Callable[[S | None, E], S], events: Iterable[E]) -> S | None:
    state: S | None = None
    for event in events:
        state = evolve(state, event)
    return state


def given_agreement(*events: AgreementEvent) -> AgreementState | None:
    return _fold(agreement.evolve, events)


def given_group(*events: GroupEvent) -> GroupState | None:
    return _fold(group.evolve, events)


def given_follow_up(*events: FollowUpEvent) -> FollowUpState | None:
    return _fold(follow_up.evolve, events)


def agreement_state(*events: AgreementEvent) -> AgreementState:
    """The agreement after these events; Linköping's history to 2024-03-31 when none."""
    state = given_agreement(*(events or linkoping()))
    assert state is not None
    return state


def partnership_facts(ledger: Ledger) -> list[Fact]:
    """The stored facts of the partnership, leaving out the ledger's own bookkeeping."""
    return [fact for fact in ledger.facts() if not fact.is_bookkeeping]


@contextmanager
def refused(kind: type[Refused], field: str, *mentions: object) -> Iterator[None]:
    """Then: refused with exactly this kind, on this field, the reason naming these values."""
    with pytest.raises(kind) as caught:
        yield
    assert type(caught.value) is kind
    assert caught.value.field == field
    for value in mentions:
        assert str(value) in caught.value.reason, caught.value.reason


# --- The standard facts -----------------------------------------------------------------------


def concluded(
    start: date = date(2017, 4, 1),
    end: date = date(2019, 3, 31),
    *,
    min_age: int = 7,
    max_age: int = 20,
) -> AgreementConcluded:
    return AgreementConcluded(
        case_number=CASE,
        title="Barn i väntan / Barn i start",
        municipality="Linköpings kommun, Omsorgsnämnden",
        partner="Linköpings domkyrkopastorat",
        start=start,
        end=end,
        notice_months=6,
        decided_on=start,
        min_age=min_age,
        max_age=max_age,
        follow_up_months=6,
    )


def extended(previous_end: date, end: date, decided_on: date) -> AgreementExtended:
    return AgreementExtended(
        case_number=CASE, previous_end=previous_end, end=end, decided_on=decided_on
    )


def linkoping() -> tuple[AgreementEvent, ...]:
    """Concluded to 2019-03-31, extended to 2023-03-31, then to 2024-03-31 on 2022-10-19."""
    return (
        concluded(),
        extended(date(2019, 3, 31), date(2023, 3, 31), date(2019, 3, 31)),
        extended(date(2023, 3, 31), date(2024, 3, 31), date(2022, 10, 19)),
    )


def notice_given(given_on: date, ends_on: date) -> NoticeGiven:
    return NoticeGiven(case_number=CASE, party=Party.PARTNER, given_on=given_on, ends_on=ends_on)


def planned(
    kind: GroupKind = GroupKind.CHILDREN, starts_on: date = date(2023, 9, 6)
) -> GroupPlanned:
    return GroupPlanned(
        group_ref=GROUP,
        case_number=CASE,
        kind=kind,
        area="Ryd",
        starts_on=starts_on,
        track=Track.WAITING,
        planned_sessions=14,
        language="arabic",
    )


def enrolled(
    ref: str,
    on: date = date(2023, 8, 30),
    gender: Gender = Gender.GIRL,
    age: int | None = 9,
) -> ParticipantEnrolled:
    return ParticipantEnrolled(
        group_ref=GROUP,
        participant_ref=ref,
        enrolled_on=on,
        gender=gender,
        age=age,
        status=ResidenceStatus.ASYLUM_SEEKER,
    )


def scheduled(
    start: date = date(2023, 4, 1), end: date = date(2023, 9, 30), due_on: date = date(2023, 10, 31)
) -> FollowUpScheduled:
    return FollowUpScheduled(
        follow_up_ref=FOLLOW_UP, case_number=CASE, start=start, end=end, due_on=due_on
    )


def submitted(on: date = date(2023, 10, 25)) -> ReportSubmitted:
    return ReportSubmitted(
        follow_up_ref=FOLLOW_UP, submitted_on=on, experience="Trygg i gruppen", information=None
    )
