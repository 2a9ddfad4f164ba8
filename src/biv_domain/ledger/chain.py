"""The hash chain over every stored fact: what is hashed, and how a stored fact's hash is taken.

Every fact stores its place in the store's chain (`position`), the hash of the
fact before it (`previous`) and its own hash: a SHA-256 over its content and
`previous`. The content is the fact's stream, version, type, recorded time,
actor, event and (from format 2 on) the version of its type's shape, *as
stored*, so reading an old fact in a newer shape (upcasting) never changes what
the chain checks.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from biv_domain.converter import canonical_json
from biv_domain.ledger.mapper import Envelope

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
    personal: int | None = None,
    encrypted: int | None = None,
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
    if personal is not None:  # nor have facts before format 3
        body["personal"] = personal
    if encrypted is not None:  # nor facts of a plain store
        body["encrypted"] = encrypted
    return canonical_json(body)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def stored_content(stream: str, version: int, type: str, envelope: Envelope) -> bytes:
    """The bytes a stored fact's hash covers: its content exactly as stored, with its place in
    the chain (what the e-archive keeps beside each archived fact)."""
    return content(
        stream=stream,
        version=version,
        type=type,
        recorded_at=envelope.recorded_at,
        actor=envelope.actor,
        event=envelope.event,
        position=envelope.chain.position,
        previous=envelope.chain.previous,
        schema=envelope.schema,
        personal=envelope.personal,
        encrypted=envelope.encrypted,
    )


def stored_hash(stream: str, version: int, type: str, envelope: Envelope) -> str:
    """The hash of a fact's content exactly as stored: what is written and what verify checks."""
    return sha256(stored_content(stream, version, type, envelope))
