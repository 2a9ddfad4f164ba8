"""The hash chain over every stored fact: what is hashed, and how facts are placed in it.

Every fact stores its place in the store's chain (`position`), the hash of the
fact before it (`previous`) and its own hash: a SHA-256 over its content and
`previous`. The content is the fact's stream, version, type, recorded time,
actor, event and (from format 2 on) the version of its type's shape, *as
stored*, so reading an old fact in a newer shape (upcasting) never changes what
the chain checks.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

from attrs import evolve

from biv_domain.converter import canonical_json, converter
from biv_domain.ledger.upcasting import version_of
from biv_domain.model.fact import Fact

GENESIS = "0" * 64


def content(
    *,
    stream: str,
    version: int,
    type: str,
    recorded_at: str,
    actor: str | None,
    event: Mapping[str, Any],
    position: int,
    previous: str,
    schema: int | None = None,
) -> bytes:
    """The canonical bytes the chain hashes: everything about a fact but its own hash.

    The row's stream, version and type are in it, so that a payload moved to
    another row no longer matches its hash.
    """
    body: dict[str, Any] = {
        "stream": stream,
        "version": version,
        "type": type,
        "recorded_at": recorded_at,
        "actor": actor,
        "event": event,
        "position": position,
        "previous": previous,
    }
    if schema is not None:  # format-1 facts have none: their content is as it was hashed
        body["schema"] = schema
    return canonical_json(body)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def link(fact: Fact) -> str:
    """The hash of a fact about to be stored: SHA-256 over its content and the previous hash."""
    return sha256(
        content(
            stream=fact.originator_id,
            version=fact.originator_version,
            type=fact.type,
            recorded_at=converter.unstructure(fact.recorded_at),
            actor=fact.actor,
            event=fact.data(),
            position=fact.position,
            previous=fact.previous,
            schema=version_of(fact.type),
        )
    )


def chained(facts: Sequence[Fact], position: int, previous: str) -> list[Fact]:
    """The facts placed in the chain after the fact at `position`, whose hash is `previous`."""
    result = []
    for fact in facts:
        position += 1
        placed = evolve(fact, position=position, previous=previous)
        previous = link(placed)
        result.append(evolve(placed, hash=previous))
    return result
