"""How a batch's facts become the rows it stores: sealed, placed in the chain, encoded.

Every fact of a batch passes here once, in one pass: its event unstructured once
(the dict serves the sealing, the hash and the stored bytes), its participants'
keys read for the whole batch in one question, its stream id hashed (in an
encrypted store), its hash taken over its content and the one before, its
envelope's bytes written. No Envelope or intermediate Fact is made on the way:
at ~90 facts a batch, every object a fact was a measurable share of a batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from eventsourcing.persistence import StoredEvent

from biv_domain.converter import converter
from biv_domain.ledger.chain import content, sha256
from biv_domain.ledger.mapper import envelope_bytes, stored_event
from biv_domain.ledger.personal import is_personal, references
from biv_domain.ledger.subjects import KeyChanges, SubjectKeys, stream_id
from biv_domain.ledger.upcasting import version_of
from biv_domain.model.fact import Fact

Pending = tuple[str, int, Any]
"""A fact to store: its stream, its version in the stream, its event."""


def sealed_rows(
    pending: Sequence[Pending],
    recorded_at: datetime,
    actor: str | None,
    keys: SubjectKeys,
    changes: KeyChanges,
    position: int,
    previous: str,
) -> tuple[list[StoredEvent], tuple[Fact, ...]]:
    """The rows to store for a batch's facts (all recorded at `recorded_at` by `actor`)
    after the chain's `position` (hash `previous`), and the facts as placed there.

    Participants seen for the first time get keys in `changes`, stored with the rows.
    """
    unstructure = converter.unstructure
    types = [type(event).__name__ for _stream, _version, event in pending]
    fields: list[dict[str, Any]] = [unstructure(event) for _stream, _version, event in pending]
    # Each participant once (a child is named by every session it attends), then their keys
    # in one question.
    named = dict.fromkeys(
        ref
        for type_name, data in zip(types, fields, strict=True)
        if is_personal(type_name)
        for ref in references(type_name, data)
    )
    keys.prefetch(keys.subject_of(ref) for ref in named)
    data_key = keys.data_key()
    at = unstructure(recorded_at)
    rows: list[StoredEvent] = []
    placed: list[Fact] = []
    for (stream, version, event), type_name, data in zip(pending, types, fields, strict=True):
        sid = stream_id(data_key, stream)  # a keyed hash of the name in an encrypted store
        stored, stored_actor, personal, encrypted = stored_event(
            stream, sid, version, type_name, data, actor, keys, changes, data_key
        )
        schema = version_of(type_name)
        position += 1
        digest = sha256(
            content(
                stream=sid,
                version=version,
                type=type_name,
                recorded_at=at,
                actor=stored_actor,
                event=stored,
                position=position,
                previous=previous,
                schema=schema,
                personal=personal,
                encrypted=encrypted,
            )
        )
        state = envelope_bytes(
            at, stored_actor, stored, (position, previous, digest), schema, personal, encrypted
        )
        rows.append(StoredEvent(sid, version, type_name, state))
        placed.append(Fact(stream, version, recorded_at, event, actor, position, previous, digest))
        previous = digest
    return rows, tuple(placed)
