"""How a batch's facts become the rows it stores: sealed, placed in the chain, encoded.

Every fact of a batch passes here once, so each step is done once a fact: the
event unstructured, its participants' keys read for the whole batch in one
question, its stream id hashed (in an encrypted store), its envelope made with
its place in the chain, its bytes written.
"""

from __future__ import annotations

from collections.abc import Sequence

from eventsourcing.persistence import StoredEvent

from biv_domain.ledger.chain import link
from biv_domain.ledger.mapper import envelope_of, stored_bytes
from biv_domain.ledger.personal import is_personal, references
from biv_domain.ledger.subjects import KeyChanges, SubjectKeys, stream_id
from biv_domain.model.fact import Fact


def sealed_rows(
    facts: Sequence[Fact], keys: SubjectKeys, changes: KeyChanges, position: int, previous: str
) -> tuple[list[StoredEvent], tuple[Fact, ...]]:
    """The rows to store for these facts after the chain's `position` (hash `previous`),
    and the facts as placed there.

    Participants seen for the first time get keys in `changes`, stored with the rows.
    """
    fields = [f.data() for f in facts]  # each event unstructured once, here
    named = (
        ref
        for f, data in zip(facts, fields, strict=True)
        if is_personal(f.type)
        for ref in references(f.type, data)
    )
    keys.prefetch(keys.subject_of(ref) for ref in named)
    data_key = keys.data_key()
    ids = [stream_id(data_key, f.stream) for f in facts]  # hashed in an encrypted store
    envelopes = link(
        [
            (sid, f.originator_version, f.type, envelope_of(f, keys, changes, data))
            for sid, f, data in zip(ids, facts, fields, strict=True)
        ],
        position,
        previous,
    )
    rows = [
        StoredEvent(sid, f.originator_version, f.type, stored_bytes(e))
        for sid, f, e in zip(ids, facts, envelopes, strict=True)
    ]
    placed = tuple(
        Fact(
            f.originator_id,
            f.originator_version,
            f.recorded_at,
            f.event,
            f.actor,
            e.chain.position,
            e.chain.previous,
            e.chain.hash,
        )
        for f, e in zip(facts, envelopes, strict=True)
    )
    return rows, placed
