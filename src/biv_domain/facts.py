"""Facts: an event as the ledger stored it, with its stream, position and recorded time.

Every fact has two times: the event's effective date (when it happened in the
world) and the fact's recorded time (when the ledger stored it, in UTC).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import orjson
from attrs import evolve, frozen
from eventsourcing.persistence import Mapper, StoredEvent

from biv_domain.converter import converter
from biv_domain.events import EVENT_TYPES, Event


@frozen
class LineApplied:
    """An exchange line with an `id` was applied; a second line with that id is skipped."""

    line_id: str
    command: str


@frozen
class MemberJoined:
    """A group or follow-up was added to an agreement: the agreement's index of its members.

    Recorded in the same transaction as the GroupPlanned or FollowUpScheduled
    fact, so that an agreement's groups are found without reading every fact.
    """

    kind: str  # "group" or "follow_up"
    ref: str
    starts_on: date | None = None  # a group's first day: no session of it comes before


@frozen
class MemberClosed:
    """A group was completed or cancelled: no session of it comes after `on`.

    With `MemberJoined.starts_on` it lets a report read only the groups that
    can have met in its window.
    """

    kind: str
    ref: str
    on: date


@frozen
class BatchSealed:
    """The last fact of every batch, in the one stream `chain`.

    Two writers that read the same chain head both try to add the same version
    of this stream; the store lets one through, and the other decides again on
    the new head, so no two facts ever claim one place in the chain.
    """

    facts: int


@frozen
class SettingsChanged:
    """The store's settings: whether every fact must name who recorded it."""

    require_actor: bool


Bookkeeping = LineApplied | MemberJoined | MemberClosed | BatchSealed | SettingsChanged
Recordable = Event | Bookkeeping
RECORDABLE_TYPES: dict[str, type[Recordable]] = {
    **EVENT_TYPES,
    "LineApplied": LineApplied,
    "MemberJoined": MemberJoined,
    "MemberClosed": MemberClosed,
    "BatchSealed": BatchSealed,
    "SettingsChanged": SettingsChanged,
}
CHAIN_STREAM = "chain"
SETTINGS_STREAM = "settings"
GENESIS = "0" * 64


def agreement_stream(case_number: str) -> str:
    return f"agreement:{case_number}"


def group_stream(group_ref: str) -> str:
    return f"group:{group_ref}"


def follow_up_stream(follow_up_ref: str) -> str:
    return f"follow-up:{follow_up_ref}"


def line_stream(line_id: str) -> str:
    return f"line:{line_id}"


def members_stream(case_number: str) -> str:
    return f"members:{case_number}"


@frozen
class Fact:
    """One stored event: which stream, which version of it, when and by whom it was recorded.

    `position`, `previous` and `hash` chain every fact of a store in recorded
    order: `hash` is a SHA-256 over the fact's content and `previous`, the hash
    of the fact before it, so that no stored fact can be changed, removed,
    reordered or slipped in without the chain showing where.
    """

    originator_id: str
    originator_version: int
    recorded_at: datetime
    event: Recordable
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
    def effective_on(self) -> date | None:
        if isinstance(self.event, Bookkeeping):
            return None
        return self.event.effective_on

    @property
    def is_bookkeeping(self) -> bool:
        """The ledger's own facts (indexes, seals, settings), not facts of the partnership."""
        return isinstance(self.event, Bookkeeping)

    def data(self) -> dict[str, Any]:
        """The event's fields as they are written in JSON."""
        result: dict[str, Any] = converter.unstructure(self.event)
        return result


def _canonical(body: dict[str, Any]) -> bytes:
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def content(fact: Fact) -> bytes:
    """The canonical bytes the chain hashes: everything about the fact but its own hash.

    The row's stream, version and type are in it, so that a payload moved to
    another row no longer matches its hash.
    """
    return _canonical(
        {
            "stream": fact.originator_id,
            "version": fact.originator_version,
            "type": fact.type,
            "recorded_at": converter.unstructure(fact.recorded_at),
            "actor": fact.actor,
            "event": fact.data(),
            "position": fact.position,
            "previous": fact.previous,
        }
    )


def link(fact: Fact) -> str:
    """The fact's hash in the chain: SHA-256 over its content, which holds the previous hash."""
    return hashlib.sha256(content(fact)).hexdigest()


def chained(facts: Sequence[Fact], position: int, previous: str) -> list[Fact]:
    """The facts placed in the chain after the fact at `position`, whose hash is `previous`."""
    result = []
    for fact in facts:
        position += 1
        placed = evolve(fact, position=position, previous=previous)
        previous = link(placed)
        result.append(evolve(placed, hash=previous))
    return result


def encode(fact: Fact) -> bytes:
    """How a fact is stored: its canonical JSON, with its place in the chain."""
    return _canonical(
        {
            "recorded_at": converter.unstructure(fact.recorded_at),
            "actor": fact.actor,
            "event": fact.data(),
            "chain": {"position": fact.position, "previous": fact.previous, "hash": fact.hash},
        }
    )


def decode(stored: StoredEvent) -> Fact:
    body = orjson.loads(stored.state)  # reading is the hot path of every query
    event_type = RECORDABLE_TYPES[stored.topic]
    chain = body["chain"]
    return Fact(
        originator_id=str(stored.originator_id),
        originator_version=stored.originator_version,
        recorded_at=converter.structure(body["recorded_at"], datetime),
        event=converter.structure(body["event"], event_type),
        actor=body["actor"],
        position=chain["position"],
        previous=chain["previous"],
        hash=chain["hash"],
    )


class FactMapper(Mapper[str]):
    """Stores facts as JSON written by the project's one converter.

    The topic is the event's class name, not a module path, so that moving code
    never orphans stored facts.
    """

    def to_stored_event(self, domain_event: Any) -> StoredEvent:
        fact: Fact = domain_event
        return StoredEvent(
            originator_id=fact.originator_id,
            originator_version=fact.originator_version,
            topic=fact.type,
            state=encode(fact),
        )

    def to_domain_event(self, stored_event: StoredEvent) -> Any:
        return decode(stored_event)
