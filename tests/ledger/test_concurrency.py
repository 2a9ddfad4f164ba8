"""Concurrent writers lose nothing.

Four processes record a few hundred commands each into the same agreement and
the same groups at once, on SQLite and on PostgreSQL. Some of their commands
collide for real (two processes record a session for the same group on the
same day): exactly one wins and the other is refused. Others only collide on
the stream's version (two sessions on different days): they are retried and
both stored. Afterwards every accepted command is stored exactly once, and the
funding view, caught up by all four processes as they went, equals a fold of
the stored facts.
"""

from __future__ import annotations

import multiprocessing
import random
from collections import Counter
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from biv_adapters.stores.registry import open_ledger, open_store
from biv_domain.errors import AlreadyExists, RuleBroken
from biv_domain.ledger import Ledger, Store, WriteConflict
from biv_domain.model.commands import (
    Command,
    ConcludeAgreement,
    EnrollParticipant,
    GiveNotice,
    HoldSession,
    PlanGroup,
    SetFunding,
)
from biv_domain.model.events import FundingChanged, SessionHeld
from biv_domain.model.money import Money
from biv_domain.model.vocabulary import Gender, GroupKind, Party
from biv_domain.projections.fiscal_year import fold
from tests.conftest import DURABLE, durable_store

CASE = "Dnr 2016-292"
GROUPS = ("G1", "G2", "G3", "G4")
CHILDREN = tuple(f"C{n}" for n in range(1, 7))
FIRST_DAY = date(2023, 4, 3)
DAYS = 150
PROCESSES = 4
COMMANDS_EACH = 200

Outcome = tuple[str, str, str]  # (what, key, "accepted" | "already" | "conflict")


@pytest.fixture(params=DURABLE)
def shared_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with durable_store(request.param, tmp_path, file="shared.sqlite3") as (url, _schema):
        yield url


def setup(url: str) -> None:
    ledger = open_ledger(url)
    commands: list[Command] = [
        ConcludeAgreement(
            CASE,
            "Barn i väntan",
            "Linköpings kommun",
            "Linköpings domkyrkopastorat",
            date(2023, 4, 1),
            date(2024, 3, 31),
            6,
            date(2023, 3, 1),
        )
    ]
    for group in GROUPS:
        commands.append(PlanGroup(group, CASE, GroupKind.CHILDREN, "Ryd", FIRST_DAY))
        commands += [
            EnrollParticipant(group, child, FIRST_DAY, Gender.GIRL, age=9) for child in CHILDREN
        ]
    for command in commands:
        ledger.execute(command)
    ledger.close()


def writer(url: str, seed: int) -> list[Outcome]:
    """One process's share: sessions on random days of the shared groups, and funding decisions."""
    rng = random.Random(seed)
    ledger = open_ledger(url)
    view = ledger.funding_view
    outcomes: list[Outcome] = []
    for number in range(COMMANDS_EACH):
        command: Command
        if number % 10 == 0:
            source = f"source_{seed}_{number}"
            command = SetFunding(
                CASE,
                Party.MUNICIPALITY,
                source,
                date(2023, 4, 1),
                date(2024, 3, 31),
                Money.kronor(rng.randint(1, 9) * 1000),
                date(2023, 3, 1),
            )
            key = source
        else:
            group, day = rng.choice(GROUPS), FIRST_DAY + timedelta(days=rng.randrange(DAYS))
            command = HoldSession(group, day, CHILDREN)
            key = f"{group}/{day}"
        what = type(command).__name__
        try:
            ledger.execute(command)
            outcomes.append((what, key, "accepted"))
        except AlreadyExists:
            outcomes.append((what, key, "already"))
        except WriteConflict:
            outcomes.append((what, key, "conflict"))
        if number % 25 == 0:
            view.catch_up()
    view.catch_up()
    ledger.close()
    return outcomes


def test_four_writers_at_once_lose_nothing_and_store_nothing_twice(shared_store: str) -> None:
    setup(shared_store)

    context = multiprocessing.get_context("spawn")
    with context.Pool(PROCESSES) as pool:
        results = pool.starmap(writer, [(shared_store, seed) for seed in range(PROCESSES)])
    outcomes = [o for result in results for o in result]
    assert len(outcomes) == PROCESSES * COMMANDS_EACH

    ledger = open_ledger(shared_store)
    facts = list(ledger.facts())

    # Each stream's versions run 1, 2, 3, ... with no gap and no repeat.
    versions: dict[str, list[int]] = {}
    for fact in facts:
        versions.setdefault(fact.stream, []).append(fact.originator_version)
    for stream, numbers in versions.items():
        assert sorted(numbers) == list(range(1, len(numbers) + 1)), stream

    # Every accepted session is stored exactly once; no two processes won the same day.
    stored_sessions = Counter(
        f"{f.event.group_ref}/{f.event.held_on}" for f in facts if isinstance(f.event, SessionHeld)
    )
    accepted = Counter(
        k for what, k, result in outcomes if what == "HoldSession" and result == "accepted"
    )
    assert stored_sessions == accepted
    assert max(stored_sessions.values()) == 1

    # A session refused as already held was held, by another process.
    refused = {k for what, k, result in outcomes if what == "HoldSession" and result == "already"}
    assert refused <= set(stored_sessions)
    assert refused, "the writers should have collided on some days"

    # Funding decisions never collide for real: each was stored, or refused as a conflict.
    stored_funding = Counter(f.event.source for f in facts if isinstance(f.event, FundingChanged))
    funding = {k: r for what, k, r in outcomes if what == "SetFunding"}
    assert all(r in ("accepted", "conflict") for r in funding.values())
    assert stored_funding == Counter(k for k, r in funding.items() if r == "accepted")

    # The view the writers kept up as they went equals a fold of every stored fact.
    view = ledger.funding_view
    assert view.position() == ledger.app.recorder.max_notification_id()
    assert view.rows() == fold(f.event for f in facts)
    ledger.close()


class InterleavedLedger(Ledger):
    """A ledger that lets another writer store first, once, between deciding and storing."""

    def __init__(self, store: Store, meanwhile: Command, other: Ledger) -> None:
        super().__init__(store)
        self.meanwhile: Command | None = meanwhile
        self.other = other

    def _seal(self, batch: Any, head: Any, actor: str | None) -> Any:
        if self.meanwhile is not None:
            command, self.meanwhile = self.meanwhile, None
            self.other.execute(command)
        return super()._seal(batch, head, actor)


def test_a_rule_across_aggregates_holds_when_another_writer_changes_the_agreement_meanwhile(
    tmp_path: Path,
) -> None:
    # The group's plan is decided while the agreement runs to 2024-03-31; before it is
    # stored, another writer records notice that ends the agreement on 2023-11-30.
    url = f"sqlite://{tmp_path}/biv.sqlite3"
    setup(url)
    other = open_ledger(url)
    ledger = InterleavedLedger(
        open_store(url), GiveNotice(CASE, Party.PARTNER, date(2023, 5, 31)), other
    )
    with pytest.raises(RuleBroken) as refused:
        ledger.execute(PlanGroup("G-late", CASE, GroupKind.CHILDREN, "Berga", date(2024, 1, 10)))
    assert refused.value.field == "starts_on"
    assert "2023-11-30" in refused.value.reason
    assert ledger.agreement(CASE).ends_on() == date(2023, 11, 30)
    ledger.close()
    other.close()
