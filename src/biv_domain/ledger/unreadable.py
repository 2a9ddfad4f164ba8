"""A stored fact this code cannot read: refused in one line naming its row, never a traceback.

A fact can be chained as stored (its hash holds) and still not be readable by
this biv-domain: a field of a kind its type never had (`"note": null` where a
text is due), a field missing. Every query that meets it refuses in one line
naming the row and the field; `biv audit verify` names every such row.
"""

from __future__ import annotations

from contextlib import suppress

from eventsourcing.persistence import StoredEvent

from biv_domain.converter import parse_json, refusal_from
from biv_domain.errors import Refused


class UnreadableFact(Refused):
    """A stored fact this biv-domain cannot read, though it may be chained as stored.

    Refused in one line that names the row (its chain position, type, stream and
    version) and the field, never a traceback: `biv audit verify` names it too.
    """

    @classmethod
    def of(cls, stored: StoredEvent, error: BaseException) -> UnreadableFact:
        inner = refusal_from(error, "")
        field = inner.field if inner.field not in ("", "command") else "fact"
        refused = cls(field, f"{inner.reason} (in {row_name(stored)}, {_READ_AGAIN})")
        refused.cause = f"{field}: {inner.reason}"
        return refused

    cause: str = ""  # the field and why, without the row


_READ_AGAIN = "a stored fact this biv-domain cannot read; `biv audit verify` names every such row"


def row_name(stored: StoredEvent) -> str:
    """A stored row as messages name it: its chain position, type, stream and version."""
    position: object = "unknown"
    with suppress(Exception):  # the position is named when the envelope still says it
        position = parse_json(stored.state)["chain"]["position"]
    row = getattr(stored, "id", None)
    at = f"row {row}, " if row is not None else ""
    return (
        f"{at}chain position {position}: {stored.topic} of {stored.originator_id} "
        f"v{stored.originator_version}"
    )
