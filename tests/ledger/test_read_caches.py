"""What a reader keeps between its questions is exact, whoever else writes to the store.

A ledger keeps each agreement's index of members that it has read (`members.KeptIndexes`)
and reads only the index's rows stored after those it keeps. A writer and a reader on
one store (as two processes would be) take turns; after every turn the reader's answers
(the groups, the follow-ups, the history and a page of it, now and as known at an
earlier moment) are those of a ledger opened afresh, which has kept nothing.
"""

from __future__ import annotations

import random
import threading
from datetime import date, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from biv_adapters.stores.registry import open_ledger
from biv_domain.errors import NotFound
from biv_domain.ledger import Ledger, Line
from biv_domain.ledger.members import INDEXES_KEPT, KeptIndexes
from biv_domain.model.commands import (
    CancelGroup,
    ConcludeAgreement,
    PlanGroup,
    ScheduleFollowUp,
    SetFunding,
)
from biv_domain.model.fact import Fact
from biv_domain.model.money import Money
from biv_domain.model.vocabulary import GroupKind, Party
from tests.builders import Clock
from tests.conftest import DURABLE, durable_store

CASE = "Dnr 2016-292"
OTHER = "Dnr 2019-001"


def conclude(case_number: str) -> ConcludeAgreement:
    return ConcludeAgreement(
        case_number, "Barn i väntan", "Linköpings kommun", "Partner", date(2021, 1, 1),
        date(2024, 12, 31), 6, date(2020, 6, 1),
    )  # fmt: skip


def answers(ledger: Ledger, moment: datetime | None) -> tuple[object, ...]:
    """What a reader asks about the agreement, as known at `moment` (now: None)."""
    history = ledger.history(CASE, moment)
    return (
        ledger.groups(CASE, moment),
        ledger.follow_ups(CASE, moment),
        history,
        ledger.history(CASE, moment, after=history[len(history) // 2].position, limit=3),
    )


# A turn of the writer: plan a group, cancel the last planned, schedule a follow-up, set funding.
TURNS = st.lists(
    st.sampled_from(["plan", "cancel", "follow_up", "funding"]), min_size=1, max_size=8
)


@pytest.mark.parametrize("kind", DURABLE)
@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(turns=TURNS)
def test_a_reader_answers_as_a_fresh_ledger_while_another_writes(
    kind: str, tmp_path_factory: pytest.TempPathFactory, turns: list[str]
) -> None:
    with durable_store(kind, tmp_path_factory.mktemp("reads")) as (url, _schema):
        take_turns(url, turns)


def take_turns(url: str, turns: list[str]) -> None:
    """The writer takes each turn; after each, the reader answers as a fresh ledger does."""
    clock = Clock()
    writer, reader = open_ledger(url, clock=clock), open_ledger(url, clock=clock)
    try:
        writer.execute_all([Line(1, conclude(CASE)), Line(2, conclude(OTHER))])
        moments: list[datetime] = []
        planned: list[str] = []  # groups planned and not cancelled
        for number, turn in enumerate(turns, 1):
            moments.append(clock.now)  # just after the writer's last batch
            clock.advance()
            if turn == "plan" or (turn == "cancel" and not planned):
                planned.append(f"grupp-{number}")
                writer.execute(
                    PlanGroup(planned[-1], CASE, GroupKind.CHILDREN, "Ryd", date(2022, 2, number))
                )
            elif turn == "cancel":
                writer.execute(CancelGroup(planned.pop(), date(2022, 3, 1), "för få anmälda"))
            elif turn == "follow_up":
                start = date(2021 + number % 3, 1, 1)
                writer.execute(
                    ScheduleFollowUp(f"uppf-{number}", CASE, start, start.replace(month=6, day=30),
                                     start.replace(month=8, day=31))
                )  # fmt: skip
            else:
                writer.execute(
                    SetFunding(CASE, Party.MUNICIPALITY, "committee_budget", date(2022, 1, 1),
                               date(2022, 12, 31), Money(100_000 * number), date(2020, 6, 1))
                )  # fmt: skip
            reader.history(OTHER)  # another agreement's index is kept beside this one's
            fresh = open_ledger(url)
            try:
                for moment in (None, *moments):
                    assert answers(reader, moment) == answers(fresh, moment)
            finally:
                fresh.close()
    finally:
        writer.close()
        reader.close()


def fact(stream: str, version: int) -> Fact:
    return Fact(stream, version, datetime(2026, 1, 1), event=None)


def test_an_index_is_read_only_after_the_version_kept() -> None:
    kept = KeptIndexes()
    asked: list[tuple[str, int]] = []
    stored = {"members:a": [fact("members:a", v) for v in (1, 2, 3)]}

    def after(stream: str, version: int) -> list[Fact]:
        asked.append((stream, version))
        return [f for f in stored[stream] if f.originator_version > version]

    assert [f.originator_version for f in kept.facts("members:a", after)] == [1, 2, 3]
    stored["members:a"].append(fact("members:a", 4))
    assert [f.originator_version for f in kept.facts("members:a", after)] == [1, 2, 3, 4]
    assert [f.originator_version for f in kept.facts("members:a", after)] == [1, 2, 3, 4]
    assert asked == [("members:a", 0), ("members:a", 3), ("members:a", 4)]


def test_the_indexes_kept_are_bounded_and_the_least_recently_asked_goes_first() -> None:
    kept = KeptIndexes()
    asked: list[str] = []

    def after(stream: str, version: int) -> list[Fact]:
        if version == 0:
            asked.append(stream)
        return [fact(stream, 1)] if version == 0 else []

    for number in range(INDEXES_KEPT):
        kept.facts(f"members:{number}", after)
    kept.facts("members:0", after)  # asked again: now the most recent
    kept.facts("members:new", after)  # full: the least recently asked (members:1) goes
    asked.clear()
    kept.facts("members:0", after)
    kept.facts("members:1", after)
    assert asked == ["members:1"]  # read again from the start; members:0 was still kept


def test_a_kept_index_is_no_larger_than_its_bound() -> None:
    kept = KeptIndexes()
    for number in range(INDEXES_KEPT + 10):
        kept.facts(f"members:{number}", lambda stream, version: [fact(stream, 1)])
    assert len(kept._kept) == INDEXES_KEPT


def test_threads_asking_at_once_each_get_the_index_as_stored() -> None:
    """The HTTP service's threads share one reader: their questions, for more indexes than
    are kept, each get every fact stored (here, one more with every question), in order."""
    kept = KeptIndexes()
    stored: dict[str, int] = {}
    lock = threading.Lock()
    wrong: list[str] = []

    def after(stream: str, version: int) -> list[Fact]:
        with lock:
            stored[stream] = stored.get(stream, 0) + 1  # another writer stores one more
            last = stored[stream]
        return [fact(stream, v) for v in range(version + 1, last + 1)]

    def ask(seed: int) -> None:
        rng = random.Random(seed)
        for _ in range(3000):
            stream = f"members:{rng.randrange(INDEXES_KEPT * 2)}"
            versions = [f.originator_version for f in kept.facts(stream, after)]
            if versions != list(range(1, len(versions) + 1)) or not versions:
                wrong.append(stream)

    threads = [threading.Thread(target=ask, args=(seed,)) for seed in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert wrong == []
    assert len(kept._kept) <= INDEXES_KEPT


def test_an_agreement_is_unknown_before_it_was_recorded_however_often_asked(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """A reader keeps when each agreement was first recorded: every question after the
    first compares that time with its own moment, as the first did."""
    clock = Clock()
    ledger = open_ledger(f"sqlite://{tmp_path_factory.mktemp('known')}/b.sqlite3", clock=clock)
    try:
        before = clock.now
        ledger.execute_all([Line(1, conclude(CASE))])
        for _ in range(3):
            with pytest.raises(NotFound, match="was not yet recorded"):
                ledger.groups(CASE, before)
            with pytest.raises(NotFound, match="no agreement"):
                ledger.groups(OTHER)
            assert [f.type for f in ledger.history(CASE)] == ["AgreementConcluded"]
            assert ledger.groups(CASE, clock.now) == []
        ledger.execute_all([Line(2, conclude(OTHER))])
        assert ledger.groups(OTHER) == []  # concluded since it was asked for and not found
    finally:
        ledger.close()
