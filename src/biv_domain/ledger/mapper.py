"""The `eventsourcing` library's mapper: its reads of stored rows, through the ledger's codec.

The library reads a stream (`Application.events.get`) through its mapper; this one
reads each row as `ledger.envelope.read` does, opening a participant's fields with
the store's `keys`. Nothing is stored through the library (its `save`): the ledger
seals, chains and stores a whole batch at once (`ledger.sealing`, `envelope.write`).
"""

from __future__ import annotations

from typing import Any

from eventsourcing.persistence import Mapper, StoredEvent

from biv_domain.ledger.envelope import read
from biv_domain.ledger.subjects import SubjectKeys


class FactMapper(Mapper[str]):
    """Reads a stored row as a fact through the ledger's codec (`ledger.envelope.read`)."""

    keys: SubjectKeys | None = None

    def to_domain_event(self, stored_event: StoredEvent) -> Any:
        return read(stored_event, self.keys)
