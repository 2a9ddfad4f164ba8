"""A fact: an event as the ledger recorded it, with its two times.

Every fact has an effective date (when it happened in the world, the event's
own business) and a recorded time (when the ledger stored it, in UTC). A fact
also has its place in the store's chain; how that place is computed is the
ledger's business (`biv_domain.ledger.chain`), not the partnership's.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from attrs import frozen

from biv_domain.converter import converter
from biv_domain.model.events import EVENTS, Event


@frozen
class Fact:
    """One stored event: which stream, which version of it, when and by whom it was recorded.

    `position`, `previous` and `hash` place the fact in the store's chain:
    `hash` covers its content and `previous`, the hash of the fact before it.
    `event` is an event of the partnership, or one of the ledger's own
    bookkeeping records (indexes, seals, settings).
    """

    originator_id: str
    originator_version: int
    recorded_at: datetime
    event: Any
    actor: str | None = None
    position: int = 0
    previous: str = ""
    hash: str = ""

    @property
    def stream(self) -> str:
        return self.originator_id

    @property
    def type(self) -> str:
        return type(self.event).__name__

    @property
    def is_bookkeeping(self) -> bool:
        """The ledger's own facts (indexes, seals, settings), not facts of the partnership."""
        return not isinstance(self.event, Event)

    @property
    def effective_on(self) -> date | None:
        """When the event happened in the world (its declared field); None for bookkeeping."""
        name = EVENTS.effective.get(type(self.event))
        return None if name is None else getattr(self.event, name)

    def data(self) -> dict[str, Any]:
        """The event's fields as they are written in JSON."""
        result: dict[str, Any] = converter.unstructure(self.event)
        return result


def known_at(facts: Iterable[Fact], as_known_at: datetime | None) -> list[Fact]:
    """The facts recorded by `as_known_at` (all of them when None), in their order.

    Two writers' clocks may differ a little, so a fact is judged by its own recorded
    time, never by its place: a later row is not taken for a later time.
    """
    if as_known_at is None:
        return list(facts)
    return [fact for fact in facts if fact.recorded_at <= as_known_at]
