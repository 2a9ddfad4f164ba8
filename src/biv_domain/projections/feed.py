"""The change feed and a history's pages as documents: facts with their place in the chain.

`biv facts --json` prints each `FeedFact` as a line, `GET /facts` answers a
`FeedPage`, and `GET /facts/stream` sends each `FeedFact` as an event whose id is
its chain position. A `FeedFact` is a `FactRecord` (as `biv history` prints a fact)
with the fact's hash, so that a follower can check it against a kept digest.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from attrs import frozen

from biv_domain.model.fact import Fact
from biv_domain.projections.history import Decision, FactRecord


@frozen
class FeedFact:
    """A fact as a follower receives it: its chain position and hash, when, what, who."""

    chain_position: int
    hash: str
    recorded_at: datetime
    effective_on: date | None
    type: str
    aggregate: str
    version: int
    actor: str | None
    decision: Decision | None
    data: dict[str, Any]

    @classmethod
    def of(cls, fact: Fact, data: dict[str, Any] | None = None) -> FeedFact:
        """The fact as the feed shows it; `data` replaces its fields (a reader's view).

        >>> FeedFact.of(fact).chain_position == fact.position  # doctest: +SKIP
        True
        """
        record = FactRecord.of(fact)
        return cls(
            chain_position=record.chain_position,
            hash=fact.hash,
            recorded_at=record.recorded_at,
            effective_on=record.effective_on,
            type=record.type,
            aggregate=record.aggregate,
            version=record.version,
            actor=record.actor,
            decision=record.decision,
            data=record.data if data is None else data,
        )


@frozen
class FeedPage:
    """A page of the feed: the facts after `after`, and where the next page starts.

    `next` is the chain position to ask after next time: the last fact's, or
    `after` when there was nothing new.
    """

    after: int
    limit: int
    facts: tuple[FeedFact, ...]
    next: int


@frozen
class HistoryPage:
    """A page of an agreement's history (`biv history CASE --after N --limit K`)."""

    case_number: str
    as_known_at: datetime | None
    after: int
    limit: int
    facts: tuple[FactRecord, ...]
    next: int | None  # None: this was the last page
