"""Stored rows read as facts, in one place: the read side's one call of the codec, and the
filter by `as_known_at` applied to them (`model.fact.known_at`, which the replay uses too: a
question asked as known at a moment counts only the facts recorded by then).

Every question of the ledger reads its rows through `facts_of`: one stream or many, a page
of the store, a history's page. The keys of every child the rows name are read first in
one query (`envelope.read_all`), never one a child.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from eventsourcing.persistence import StoredEvent

from biv_domain.ledger.envelope import read_all
from biv_domain.ledger.subjects import SubjectKeys
from biv_domain.model.fact import Fact, known_at


def facts_of(
    rows: Sequence[StoredEvent], keys: SubjectKeys | None, as_known_at: datetime | None = None
) -> list[Fact]:
    """The rows as facts, in their order, only those recorded by `as_known_at` (all: None)."""
    return known_at(read_all(rows, keys), as_known_at)
