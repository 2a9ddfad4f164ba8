"""Stored formats: the version of each event type, and the upcasters that read old facts.

A stored fact's shape is a promise for decades. Each fact's envelope says which
version of its type it was written in (`schema`; absent in format-1 stores,
which means 1). Reading a fact runs it through the upcasters from its version
to the current one, here, before the converter structures it; the stored
bytes never change, so the chain's hashes hold (see `chain`).

To change an event's shape, follow docs/architecture.md ("An event version"):
add a pure upcaster `(data) -> data` from the old version to its type's
declaration (`model.events.EVENTS`), which makes its version one more, bump
`FORMAT`, and freeze a store of the new format under tests/stores/ (never
regenerate an old one).
"""

from __future__ import annotations

from typing import Any

from biv_domain.errors import Refused
from biv_domain.ledger.bookkeeping import STORED
from biv_domain.model.stored import Upcaster

Data = dict[str, Any]

# The store format this code writes: 1 (no versions in the envelope), 2 (SessionHeld and
# ReportSubmitted of version 2, every envelope naming its type's version), 3 (participants'
# fields sealed under a key of their own, `personal` in the envelope: see `personal`).
FORMAT = 3

# Derived from each type's declaration (`bookkeeping.STORED`, the events' in `model.events`).
VERSIONS: dict[str, int] = STORED.versions
UPCASTERS: dict[tuple[str, int], Upcaster] = STORED.upcasters


def version_of(type_name: str) -> int:
    """The version this code writes facts of this type in (1 unless it has changed)."""
    return VERSIONS.get(type_name, 1)


class NewerFormat(Refused):
    """The store holds facts written by a newer version of biv-domain than this one."""


def upcast(type_name: str, version: int, data: Data) -> Data:
    """The fact's fields in the current shape of its type, from the shape it was stored in."""
    current = version_of(type_name)
    if version > current:
        raise NewerFormat(
            "format",
            f"the store holds {type_name} facts of version {version}; this biv-domain reads "
            f"up to version {current}: upgrade biv-domain before reading this store",
        )
    while version < current:
        data = UPCASTERS[(type_name, version)](data)
        version += 1
    return data


def refuse_newer_store(format_: int) -> None:
    """Refuses a store whose recorded format is newer than this code's."""
    if format_ > FORMAT:
        raise NewerFormat(
            "format",
            f"the store is of format {format_}; this biv-domain reads formats up to {FORMAT}: "
            "upgrade biv-domain before opening this store",
        )
