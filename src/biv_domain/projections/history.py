"""An agreement's history as people and programs read it: each fact, when, what, who decided.

`biv history`, the replay's diff, the auditor's pack and the HTTP service all
print facts through `FactRecord`, so that a fact reads the same everywhere.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from attrs import frozen

from biv_domain.model.fact import Fact


@frozen
class Decision:
    """The decision behind a fact: the case, the body that decided, the date and the reference."""

    case_number: str | None
    body: str | None
    decided_on: date
    reference: str | None

    @classmethod
    def of(cls, fact: Fact) -> Decision | None:
        """The fact's decision, where the domain has one (decided_on); None for other facts."""
        event = fact.event
        decided_on = getattr(event, "decided_on", None)
        if decided_on is None:
            return None
        return cls(
            case_number=getattr(event, "case_number", None),
            body=getattr(event, "decided_by", None),
            decided_on=decided_on,
            reference=getattr(event, "decision_ref", None),
        )


@frozen
class FactRecord:
    """A fact as an auditor cites it: its place in the chain, when, what and by whom."""

    chain_position: int
    recorded_at: datetime
    effective_on: date | None
    type: str
    aggregate: str
    version: int
    actor: str | None
    decision: Decision | None
    data: dict[str, Any]

    @classmethod
    def of(cls, fact: Fact) -> FactRecord:
        return cls(
            chain_position=fact.position,
            recorded_at=fact.recorded_at,
            effective_on=fact.effective_on,
            type=fact.type,
            aggregate=fact.stream,
            version=fact.originator_version,
            actor=fact.actor,
            decision=Decision.of(fact),
            data=fact.data(),
        )


@frozen
class History:
    """Every recorded fact about an agreement, its groups and follow-ups, in recorded order."""

    case_number: str
    as_known_at: datetime | None
    facts: tuple[FactRecord, ...]

    @classmethod
    def of(cls, case_number: str, facts: list[Fact], as_known_at: datetime | None) -> History:
        return cls(case_number, as_known_at, tuple(FactRecord.of(f) for f in facts))
