"""Stored formats: the version of each event type, and the upcasters that read old facts.

A stored fact's shape is a promise for decades. Each fact's envelope says which
version of its type it was written in (`schema`; absent in format-1 stores,
which means 1). Reading a fact runs it through the upcasters from its version
to the current one, here, before the converter structures it; the stored
bytes never change, so the chain's hashes hold (see `chain`).

To change an event's shape: bump its version in `VERSIONS`, add a pure
upcaster `(data) -> data` for the old version to `UPCASTERS` with a docstring
saying what changed and why, bump `FORMAT`, and freeze a store of the new
format under tests/stores/ (never regenerate an old one).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from biv_domain.errors import Refused
from biv_domain.model.events import SESSION_NORM_MINUTES

Data = dict[str, Any]

# The store format this code writes: 1 (no versions in the envelope), 2 (SessionHeld and
# ReportSubmitted of version 2, every envelope naming its type's version), 3 (participants'
# fields sealed under a key of their own, `personal` in the envelope: see `personal`).
FORMAT = 3

VERSIONS: dict[str, int] = {"SessionHeld": 2, "ReportSubmitted": 2}


def version_of(type_name: str) -> int:
    """The version this code writes facts of this type in (1 unless it has changed)."""
    return VERSIONS.get(type_name, 1)


def session_minutes_v1_v2(data: Data) -> Data:
    """SessionHeld 1 → 2: a session gains its length in minutes.

    Format-1 sessions were recorded without a length; they count as the
    method's norm (120 minutes), marked as assumed, so a follow-up can report
    hours of support without passing a guess off as a measurement.
    """
    return {"minutes": SESSION_NORM_MINUTES, "minutes_assumed": True, **data}


def report_minutes_v1_v2(data: Data) -> Data:
    """ReportSubmitted 1 → 2: the frozen figures gain the minutes of support.

    Figures frozen by format-1 code did not count minutes: they are null
    (not counted when submitted), never a number made up afterwards.
    """
    figures = data.get("figures")
    if figures is None:
        return data
    counted = {"support_minutes": None, "support_minutes_assumed": None, **figures}
    return {**data, "figures": counted}


UPCASTERS: dict[tuple[str, int], Callable[[Data], Data]] = {
    ("SessionHeld", 1): session_minutes_v1_v2,
    ("ReportSubmitted", 1): report_minutes_v1_v2,
}


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
