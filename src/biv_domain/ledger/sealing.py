"""How a batch's facts become the rows it stores: sealed, placed in the chain, encoded.

Every fact of a batch passes here once, in one pass: its event unstructured once
(the dict serves the keys' question and the stored form), its participants' keys
read for the whole batch in one question, then each fact written after the one
before it (`envelope.write`: sealed, hashed over its content and the hash before,
encoded), and placed in the chain with the hash it got.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from eventsourcing.persistence import StoredEvent

from biv_domain.converter import converter
from biv_domain.ledger.envelope import write
from biv_domain.ledger.personal import is_personal, references
from biv_domain.ledger.subjects import KeyChanges, SubjectKeys
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
    fields: list[dict[str, Any]] = [unstructure(event) for _stream, _version, event in pending]
    # Each participant once (a child is named by every session it attends), then their keys
    # in one question.
    named = dict.fromkeys(
        ref
        for (_stream, _version, event), data in zip(pending, fields, strict=True)
        if is_personal(type(event).__name__)
        for ref in references(type(event).__name__, data)
    )
    keys.prefetch(keys.subject_of(ref) for ref in named)
    at = unstructure(recorded_at)
    rows: list[StoredEvent] = []
    placed: list[Fact] = []
    for (stream, version, event), data in zip(pending, fields, strict=True):
        position += 1
        fact = Fact(stream, version, recorded_at, event, actor, position, previous)
        row, digest = write(fact, keys, changes, data=data, recorded_at=at)
        rows.append(row)
        placed.append(Fact(stream, version, recorded_at, event, actor, position, previous, digest))
        previous = digest
    return rows, tuple(placed)
