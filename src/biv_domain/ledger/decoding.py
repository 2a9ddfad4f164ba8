"""Stored rows read as facts, in one place: the read side's one call of the codec, and the
one filter by `as_known_at` (a question asked as known at a moment counts only the facts
recorded by then).

Every question of the ledger reads its rows through `facts_of`: one stream or many, a page
of the store, a history's page. The keys of every child the rows name are read first in
one query (`envelope.read_all`), never one a child.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from eventsourcing.persistence import StoredEvent

from biv_domain.ledger.envelope import read_all
from biv_domain.ledger.subjects import SubjectKeys
from biv_domain.model.fact import Fact


def facts_of(
    rows: Sequence[StoredEvent], keys: SubjectKeys | None, as_known_at: datetime | None = None
) -> list[Fact]:
    """The rows as facts, in their order, only those recorded by `as_known_at` (all: None)."""
    return known_at(read_all(rows, keys), as_known_at)


def known_at(facts: Iterable[Fact], as_known_at: datetime | None) -> list[Fact]:
    """The facts recorded by `as_known_at` (all of them when None), in their order.

    Two writers' clocks may differ a little, so a fact is judged by its own recorded
    time, never by its place: a later row is not taken for a later time.
    """
    if as_known_at is None:
        return list(facts)
    return [fact for fact in facts if fact.recorded_at <= as_known_at]
