"""The change feed and a history's pages, for the command line and the HTTP service.

`biv facts --after N [--limit K] [--follow] --json` prints the partnership's facts
in chain order, one JSON object a line; `biv history CASE --after N --limit K` a page
of an agreement's history with the next cursor. `GET /facts` and
`GET /facts/stream` (`biv_adapters.http.feed`) answer with the same documents.

What a reader may see (`public_data`): every fact of the partnership, but no
participant's data: enrolments, withdrawals and corrections of a participant are
left out, a session's attendee lists and an erasure's pseudonym are removed, and a
submitted report's figures are those for publication (counts of people under 5
withheld). An auditor, and the local user at the command line, see every field.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from biv_adapters.arguments import UsageError
from biv_domain.converter import document
from biv_domain.ledger import Ledger
from biv_domain.ledger.feed import DEFAULT_LIMIT, MAX_LIMIT
from biv_domain.ledger.personal import LISTS, SEALED
from biv_domain.model.events import ReportSubmitted
from biv_domain.model.fact import Fact
from biv_domain.projections.feed import FeedFact, FeedPage, HistoryPage
from biv_domain.projections.history import FactRecord
from biv_domain.projections.report import PUBLIC_THRESHOLD, for_publication

Document = dict[str, Any]


def public_data(fact: Fact) -> dict[str, Any] | None:
    """The fact's fields as a reader may see them; None for a fact about one participant."""
    if fact.type in SEALED:
        return None
    data = fact.data()
    for name in LISTS.get(fact.type, ()):
        data.pop(name, None)
    if fact.type == "ParticipantErased":
        data.pop("participant", None)
        data.pop("reason", None)  # free text about a child, written by a person
    event = fact.event
    if isinstance(event, ReportSubmitted) and event.figures is not None:
        data["figures"] = document(for_publication(event.figures, PUBLIC_THRESHOLD))
    return data


def feed_facts(facts: list[Fact], *, public: bool = False) -> list[FeedFact]:
    """The facts as the feed shows them: whole, or as a reader may see them."""
    if not public:
        return [FeedFact.of(fact) for fact in facts]
    shown = ((fact, public_data(fact)) for fact in facts)
    return [FeedFact.of(fact, data) for fact, data in shown if data is not None]


def page_size(limit: int) -> int:
    """A page's size, 1 to `MAX_LIMIT` (the one check: `--limit` and `?limit=` both)."""
    if not 1 <= limit <= MAX_LIMIT:
        raise ValueError(f"must be from 1 to {MAX_LIMIT}, got {limit}")
    return limit


def check_limit(limit: int) -> int:
    """`page_size`, refused as the command line's `--limit`."""
    try:
        return page_size(limit)
    except ValueError as error:
        raise UsageError(f"--limit: {error}") from None


def feed_page(
    ledger: Ledger, after: int = 0, limit: int = DEFAULT_LIMIT, *, public: bool = False
) -> FeedPage:
    """`GET /facts?after=&limit=`: the facts after `after` and the cursor of the next page.

    The cursor moves past facts a reader may not see too, so that a reader's page is
    never empty while more follows.
    """
    facts = ledger.facts_after(after, check_limit(limit))
    cursor = facts[-1].position if facts else after
    return FeedPage(after, limit, tuple(feed_facts(facts, public=public)), cursor)


def feed_page_document(
    ledger: Ledger, after: int = 0, limit: int = DEFAULT_LIMIT, *, public: bool = False
) -> Document:
    body: Document = document(feed_page(ledger, after, limit, public=public))
    return body


def history_page_document(
    ledger: Ledger,
    case_number: str,
    as_known_at: datetime | None = None,
    after: int = 0,
    limit: int = DEFAULT_LIMIT,
) -> Document:
    """`biv history CASE --after N --limit K --json`: a page, and `next` (null on the last)."""
    facts = ledger.history(case_number, as_known_at, after=after, limit=check_limit(limit) + 1)
    more = len(facts) > limit
    facts = facts[:limit]
    page = HistoryPage(
        case_number,
        as_known_at,
        after,
        limit,
        tuple(FactRecord.of(f) for f in facts),
        facts[-1].position if more else None,
    )
    body: Document = document(page)
    return body
