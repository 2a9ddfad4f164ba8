"""Facts: an event as the ledger stored it, with its stream, position and recorded time.

Every fact has two times: the event's effective date (when it happened in the
world) and the fact's recorded time (when the ledger stored it, in UTC).
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from attrs import frozen
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


Bookkeeping = LineApplied | MemberJoined
Recordable = Event | Bookkeeping
RECORDABLE_TYPES: dict[str, type[Recordable]] = {
    **EVENT_TYPES,
    "LineApplied": LineApplied,
    "MemberJoined": MemberJoined,
}


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
    """One stored event: which stream, which version of it, when it was recorded."""

    originator_id: str
    originator_version: int
    recorded_at: datetime
    event: Recordable

    @property
    def stream(self) -> str:
        return self.originator_id

    @property
    def type(self) -> str:
        return type(self.event).__name__

    @property
    def effective_on(self) -> date | None:
        if isinstance(self.event, LineApplied | MemberJoined):
            return None
        return self.event.effective_on

    def data(self) -> dict[str, Any]:
        """The event's fields as they are written in JSON."""
        result: dict[str, Any] = converter.unstructure(self.event)
        return result


def encode(fact: Fact) -> bytes:
    """A fact's canonical bytes: sorted keys, no spaces, UTF-8."""
    body = {"recorded_at": converter.unstructure(fact.recorded_at), "event": fact.data()}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def decode(stored: StoredEvent) -> Fact:
    body = json.loads(stored.state)
    event_type = RECORDABLE_TYPES[stored.topic]
    return Fact(
        originator_id=str(stored.originator_id),
        originator_version=stored.originator_version,
        recorded_at=converter.structure(body["recorded_at"], datetime),
        event=converter.structure(body["event"], event_type),
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
