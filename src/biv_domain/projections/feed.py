"""The change feed and a history's pages as documents: facts with their place in the chain.

`biv facts --json` prints each `FeedFact` as a line, `GET /facts` answers a
`FeedPage`, and `GET /facts/stream` sends each `FeedFact` as an event whose id is
its chain position. A `FeedFact` is a `FactRecord` (as `biv history` prints a fact)
with the fact's hash, so that a follower can check it against a kept digest.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import attrs
from attrs import frozen

from biv_domain.model.fact import Fact
from biv_domain.projections.history import FactRecord


@frozen
class FeedFact(FactRecord):
    """A fact as a follower receives it: the history's record of it (its chain position, when,
    what, who) and its chain hash, to check against a checkpoint's proofs."""

    hash: str

    @classmethod
    def of(cls, fact: Fact, data: dict[str, Any] | None = None) -> FeedFact:
        """The fact as the feed shows it; `data` replaces its fields (a reader's view).

        >>> FeedFact.of(fact).chain_position == fact.position  # doctest: +SKIP
        True
        """
        record = attrs.asdict(FactRecord.of(fact), recurse=False)
        if data is not None:
            record["data"] = data
        return cls(**record, hash=fact.hash)


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
