"""What an operator asks of a store before an upgrade: its formats, its facts, its chain."""

from __future__ import annotations

from collections import Counter

from attrs import frozen

from biv_domain.ledger.mapper import read_envelope
from biv_domain.ledger.reading import LedgerReads
from biv_domain.ledger.upcasting import FORMAT, version_of


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


def store_info(ledger: LedgerReads) -> StoreInfo:
    """Walks every stored row once, reading only its envelope."""
    counts: Counter[tuple[str, int]] = Counter()
    for row in ledger.rows():
        counts[(row.topic, read_envelope(row).type_version)] += 1
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
