"""What an operator asks of a store before an upgrade: its formats, its facts, its chain.

The facts by type and version are counted as they are written: a store that
keeps `FactCounts` (SQLite and PostgreSQL: `biv_adapters.stores.counts`) adds each
batch's counts in the batch's own transaction, and says through which chain
position (and stored row) they are complete. `store_info` reads them and walks
only the rows stored after that row (by code that kept no counts, or since a
store was opened by this code for the first time: the backfill, once), then
keeps the new counts. A store without counts (memory) is walked whole.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from attrs import frozen
from eventsourcing.persistence import StoredEvent

from biv_domain.ledger.envelope import read_envelope
from biv_domain.ledger.upcasting import FORMAT, version_of

if TYPE_CHECKING:  # the ledger keeps its counts with this module's help
    from biv_domain.ledger.application import Ledger

Tally = Mapping[tuple[str, int], int]  # (type, version) → facts


@frozen
class CountsAt:
    """The facts by type and version, complete through a chain position and a stored row."""

    position: int
    row: int  # the notification id of the last row counted
    counts: Tally


class FactCounts(Protocol):
    """The counts a store keeps as batches are written (see the module's docstring)."""

    def in_batch(self, head: int, position: int, tally: Tally) -> Callable[[Any, int], None]:
        """What the recorder calls in the batch's transaction (with its cursor and last row
        id): adds `tally` if the counts were complete through `head`, and moves them to
        `position`; else leaves them (the rows between are walked by `store_info`)."""
        ...

    def read(self) -> CountsAt | None:
        """The counts as kept, or None before the first `store_info` (the backfill)."""
        ...

    def keep(self, counts: CountsAt, was: CountsAt | None) -> None:
        """Keeps `counts` if they are still as `was` (a batch may have moved them meanwhile)."""
        ...


@frozen
class FactCount:
    """How many facts of one type, stored in one version of its shape."""

    type: str
    version: int
    facts: int
    current_version: int


@frozen
class StoreInfo:
    """`biv store info`: the store's format, this code's, its facts by type and version, its head.

    `readable` says whether this code reads every fact; `encrypted` whether the
    payloads are encrypted at rest under a store key (BIV_CIPHER_KEY).
    """

    store_format: int
    code_format: int
    facts: int
    by_type: tuple[FactCount, ...]
    chain_head: str | None
    readable: bool
    encrypted: bool


def counted_in_batch(
    kept: FactCounts | None, head: int, position: int, rows: Sequence[StoredEvent]
) -> Callable[[Any, int], None] | None:
    """What the recorder calls in a batch's transaction to add its rows to the kept counts
    (each row is written in this code's version of its type); None where none are kept."""
    if kept is None:
        return None
    tally: Counter[str] = Counter(row.topic for row in rows)
    return kept.in_batch(head, position, {(t, version_of(t)): n for t, n in tally.items()})


def store_info(ledger: Ledger) -> StoreInfo:
    """From the counts the store keeps, and only the rows stored after them."""
    kept = ledger.fact_counts
    was = kept.read() if kept is not None else None
    counts: Counter[tuple[str, int]] = Counter(was.counts if was else {})
    position, row = (was.position, was.row) if was else (0, 0)
    walked = 0
    while rows := ledger.app.recorder.select_notifications(row, 1000, inclusive_of_start=False):
        for stored in rows:
            envelope = read_envelope(stored)
            counts[(stored.topic, envelope.type_version)] += 1
            position, row = envelope.chain.position or position, stored.id
        walked += len(rows)
    if kept is not None and (walked or was is None):
        kept.keep(CountsAt(position, row, dict(counts)), was)
    by_type = tuple(
        FactCount(topic, version, n, version_of(topic))
        for (topic, version), n in sorted(counts.items())
    )
    head = ledger.digest()
    store_format = ledger.recorded_format()[0]
    return StoreInfo(
        store_format=store_format,
        code_format=FORMAT,
        facts=sum(counts.values()),
        by_type=by_type,
        chain_head=str(head) if head else None,
        readable=store_format <= FORMAT and all(c.version <= c.current_version for c in by_type),
        encrypted=ledger.keys.encrypted,
    )
