"""What a ledger keeps between its batches is exact, whoever else writes to the store.

A ledger keeps the states its batches folded (by stream and version) and the stored
index of each agreement's members, and a later batch folds on them only the facts
stored since. Two ledgers on one SQLite file write to the same agreement in turn (as
two processes would); after every batch what each kept equals a fold of the store from
scratch, and the store's facts are the same as those of a ledger that keeps nothing.
"""

from __future__ import annotations

import random
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from biv_adapters.stores.registry import open_ledger
from biv_domain.errors import RuleBroken
from biv_domain.ledger import Ledger, Line
from biv_domain.ledger.bookkeeping import agreement_stream, members_stream
from biv_domain.ledger.members import member_days
from biv_domain.model import agreement
from biv_domain.model.commands import ConcludeAgreement, EnrollParticipant, PlanGroup, SetFunding
from biv_domain.model.dates import Period
from biv_domain.model.money import Money
from biv_domain.model.protection import EraseParticipant
from biv_domain.model.vocabulary import Gender, GroupKind, Party
from tests.builders import Clock

CASE = "Dnr 2016-292"


def conclude() -> ConcludeAgreement:
    return ConcludeAgreement(
        CASE, "Barn i väntan", "Linköpings kommun", "Partner", date(2021, 1, 1),
        date(2024, 12, 31), 6, date(2020, 6, 1),
    )  # fmt: skip


def funding(amount: int, year: int) -> SetFunding:
    return SetFunding(
        CASE, Party.MUNICIPALITY, "committee_budget", date(year, 1, 1), date(year, 12, 31),
        Money(amount), date(2020, 6, 1),
    )  # fmt: skip


def plan(ref: str, month: int) -> PlanGroup:
    return PlanGroup(ref, CASE, GroupKind.CHILDREN, "Ryd", date(2022, month, 1))


def kept_is_exact(ledger: Ledger) -> None:
    stream = agreement_stream(CASE)
    known = ledger._kept.states.get(stream)
    if known is not None:
        _fold, state, version = known
        # Kept at a version another writer may since have passed: exact up to it.
        facts = [f for f in ledger.stream(stream) if f.originator_version <= version]
        assert version == facts[-1].originator_version
        folded = None
        for fact in facts:
            folded = agreement.evolve(folded, fact.event)
        assert state == folded
    members = ledger._kept.members.get(members_stream(CASE))
    if members is not None:
        days, version = members
        facts = [f for f in ledger.stream(members_stream(CASE)) if f.originator_version <= version]
        assert version == facts[-1].originator_version
        assert days == member_days(facts, "group")


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.tuples(st.booleans(), st.integers(0, 3)), min_size=2, max_size=10))
def test_two_writers_keep_exact_states(
    tmp_path_factory: object, turns: list[tuple[bool, int]]
) -> None:
    folder = Path(tmp_path_factory.mktemp("caches"))  # type: ignore[attr-defined]
    url = f"sqlite://{folder}/two.sqlite3"
    clock = Clock()
    first, second = open_ledger(url, clock=clock), open_ledger(url, clock=clock)
    first.execute(conclude())
    rng = random.Random(len(turns))
    planned = 0
    for by_first, kind in turns:
        ledger = first if by_first else second
        if kind == 0:
            ledger.execute(funding(rng.randrange(1, 10**6) * 100, 2021 + rng.randrange(3)))
        elif kind == 1 and planned < 10:
            planned += 1
            ledger.execute(plan(f"grupp-{planned}", 1 + planned))
        else:
            # A report's figures are decided from the stored member index (groups_of).
            window = Period(date(2022, 1, 1), date(2022, 6, 30))
            ledger._kept.groups_stored(ledger, CASE, window, False)
        kept_is_exact(first)
        kept_is_exact(second)
    # Both ledgers' facts agree with a fresh ledger that has kept nothing.
    fresh = open_ledger(url)
    assert fresh.agreement(CASE) == first.agreement(CASE) == second.agreement(CASE)
    assert fresh.verify_chain().intact
    for ledger in (first, second, fresh):
        ledger.close()


def test_existing_streams_answers_in_one_question(tmp_path: Path) -> None:
    for url in ("memory:", f"sqlite://{tmp_path}/exists.sqlite3"):
        ledger = open_ledger(url)
        ledger.execute_all([Line(1, conclude(), "line-1")])
        asked = [agreement_stream(CASE), agreement_stream("nobody"), "line:line-1", "line:none"]
        found = ledger.existing_streams(asked)
        assert agreement_stream(CASE) in found
        assert agreement_stream("nobody") not in found
        assert found <= set(asked)
        assert ledger.last_fact(agreement_stream(CASE)) is not None
        assert ledger.last_fact(agreement_stream("nobody")) is None
        ledger.close()


def test_a_child_erased_by_another_writer_is_not_enrolled_again(tmp_path: Path) -> None:
    """A writer keeps children's keys and pseudonyms between its batches; another writer's
    batch (here an erasure) makes it read them again, so the erasure is honoured at once."""
    url = f"sqlite://{tmp_path}/erased.sqlite3"
    clock = Clock()
    first, second = open_ledger(url, clock=clock), open_ledger(url, clock=clock)
    first.execute_all(
        [Line(1, conclude()), Line(2, plan("grupp-1", 2)), Line(3, plan("grupp-2", 3))]
    )
    first.execute(EnrollParticipant("grupp-1", "C-1", date(2022, 2, 1), Gender.GIRL, 9))
    second.execute(EraseParticipant("C-1", "asked", date(2022, 2, 10)))
    stored = first.chain_head().position
    with pytest.raises(RuleBroken, match="new reference"):
        first.execute(EnrollParticipant("grupp-2", "C-1", date(2022, 3, 1), Gender.GIRL, 9))
    assert first.chain_head().position == stored
    # With no other writer in between, what the first writer keeps is taken as it is.
    first.execute(EnrollParticipant("grupp-2", "C-2", date(2022, 3, 1), Gender.BOY, 8))
    assert first._kept.through == first.chain_head().position
    for ledger in (first, second):
        ledger.close()
