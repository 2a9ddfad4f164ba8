"""Erasures in the audit trail: which erasure and retention facts belong to an agreement's history.

An erasure (`biv erase`) or a retention (gallring, `apply_retention`) is stored
as a `ParticipantErased` fact in a stream of its own, naming the participant by
pseudonym only. Once a participant's key is gone, every fact of the agreement
names them by their stand-in (`erased-` and the pseudonym's first 12 digits):
the erasures whose stand-in the agreement's facts name are the agreement's, and
`biv history`, the replay's diff, the auditor's pack and the page list them with
who recorded them, when, the decision's day and the reason.

Two ways to the same erasures: a store that reads a page of many streams (SQLite,
PostgreSQL) reads the erasure streams of the participants the agreement's groups
enrolled among the history's own streams (`erasure_streams`), so that pages add up to
the whole; the memory store, which reads whole streams, finds them by the stand-ins
its decoded facts name (`erasures_of`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from biv_domain.ledger.bookkeeping import ParticipantErased, erasure_stream
from biv_domain.ledger.envelope import subjects_named
from biv_domain.ledger.subjects import ERASED_PREFIX, erased_reference, stream_id
from biv_domain.model.fact import Fact

if TYPE_CHECKING:
    from biv_domain.ledger.reading import LedgerReads

ERASURE_TOPICS = ("ParticipantErased",)
ENROLMENTS = ("ParticipantEnrolled",)
"""Where a participant a history names is enrolled: every other fact names only them."""


def participants_named(fact: Fact) -> Iterable[str]:
    """The participants' references (or stand-ins) a fact names."""
    event = fact.event
    reference = getattr(event, "participant_ref", None)
    if isinstance(reference, str):
        yield reference
    for name in ("attendees", "previous_attendees"):
        yield from getattr(event, name, None) or ()


def erasures_of(
    ledger: LedgerReads, facts: Sequence[Fact], as_known_at: datetime | None
) -> list[Fact]:
    """The erasure and retention facts (recorded by `as_known_at`) of the participants
    these facts name by stand-in; none read when no participant of theirs is erased."""
    named = (name for fact in facts for name in participants_named(fact))
    stand_ins = {name for name in named if name.startswith(ERASED_PREFIX)}
    if not stand_ins:
        return []
    return [
        fact
        for fact in ledger.facts(as_known_at, ERASURE_TOPICS)
        if isinstance(fact.event, ParticipantErased)
        and erased_reference(fact.event.participant) in stand_ins
    ]


def erasure_streams(ledger: LedgerReads, groups: Sequence[str]) -> list[str]:
    """The names of the erasure streams of the participants these groups enrolled (every
    child an agreement's history names: the rules refuse anyone not enrolled).

    Their enrolments are read (not decoded) only where an erasure may exist: a store
    that can say so (SQLite: `holds_streams_starting`) and whose stream ids are names
    (not encrypted) is asked once; in any other, always.
    """
    recorder, keys = ledger.recorder, ledger.keys
    holds = getattr(recorder, "holds_streams_starting", None)
    if holds is not None and keys.data_key() is None and not holds(erasure_stream("")):
        return []  # no participant of the store is erased
    ids = [stream_id(keys.data_key(), name) for name in groups]
    rows = recorder.select_streams_after(ids, 0, None, ENROLMENTS)
    named = sorted({s for row in rows for s in subjects_named(row, keys)})
    return sorted(ledger.existing_streams([erasure_stream(subject) for subject in named]))
