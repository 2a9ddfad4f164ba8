"""`store info` answers from the counts the ledger keeps as it writes, not from a walk of every
fact (issue 22), on SQLite and PostgreSQL; an old store gets its counts once, no fact changed.

Given a store, when batches are written, then the counts move with them in each batch's
transaction (kept through the new head); when `store info` asks, it walks only the rows after
the counts (none, when every batch kept them), and its figures are those a walk of every row
gives. A frozen store of an old format gets its counts on its first `store info` (the
backfill), and its facts, chain and digest stay as they were.
"""

from __future__ import annotations

import shutil
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from biv_adapters.exchange import read_lines
from biv_adapters.stores.registry import open_ledger
from biv_domain.ledger import Ledger
from biv_domain.ledger.envelope import read_envelope
from biv_domain.ledger.store_info import store_info
from tests.conftest import DURABLE, durable_store

STORES = Path(__file__).parents[1] / "stores"
TARGET = (
    '{"id": "%s", "command": "set_target", "case_number": "Dnr 2016-292", '
    '"target": "children_per_year", "value": %d, "decided_on": "2017-04-01"}'
)


def walked(ledger: Ledger) -> Counter[tuple[str, int]]:
    """The facts by type and version, by reading every stored row (as store info did)."""
    return Counter((row.topic, read_envelope(row).type_version) for row in ledger.rows())


def counted(ledger: Ledger) -> Counter[tuple[str, int]]:
    info = store_info(ledger)
    return Counter({(c.type, c.version): c.facts for c in info.by_type})


@pytest.fixture(params=DURABLE)
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with durable_store(request.param, tmp_path, "counts") as (store, _schema):
        yield store


def test_the_counts_move_with_each_batch_and_store_info_walks_nothing(url: str) -> None:
    from biv_adapters.demo import record_linkoping

    ledger = open_ledger(url, actor="t")
    try:
        record_linkoping(ledger)
        assert ledger.fact_counts is not None
        assert ledger.fact_counts.read() is None  # no store info asked yet: not kept
        first = counted(ledger)  # the backfill: every row walked once
        assert first == walked(ledger)
        kept = ledger.fact_counts.read()
        assert kept is not None
        assert kept.position == ledger.chain_head().position
        # When batches are written, the counts follow in their transactions
        for n in range(3):
            ledger.execute_all(read_lines([TARGET % (f"c-{n}", 10 + n)]))
        after = ledger.fact_counts.read()
        assert after is not None
        assert after.position == ledger.chain_head().position
        assert Counter(after.counts) == walked(ledger)
        assert counted(ledger) == walked(ledger)
    finally:
        ledger.close()


def test_a_writer_without_counts_leaves_a_gap_that_store_info_walks(url: str) -> None:
    from biv_adapters.demo import record_linkoping

    ledger = open_ledger(url, actor="t")
    try:
        record_linkoping(ledger)
        counted(ledger)
        kept = ledger.fact_counts
        ledger.fact_counts = None  # as older code writes: no counts in its batches
        ledger.execute_all(read_lines([TARGET % ("gap-1", 21)]))
        ledger.fact_counts = kept
        ledger.execute_all(read_lines([TARGET % ("gap-2", 22)]))  # not complete: left as is
        assert kept is not None
        stale = kept.read()
        assert stale is not None
        assert stale.position < ledger.chain_head().position
        assert counted(ledger) == walked(ledger)  # the gap walked, and kept
        now = kept.read()
        assert now is not None
        assert now.position == ledger.chain_head().position
    finally:
        ledger.close()


@pytest.mark.parametrize("name", ["format-1", "format-2", "format-3"])
def test_an_old_store_gets_its_counts_once_and_no_fact_changes(name: str, tmp_path: Path) -> None:
    copy = tmp_path / "store.sqlite3"
    shutil.copyfile(STORES / name / "store.sqlite3", copy)
    ledger = open_ledger(f"sqlite://{copy}")
    try:
        rows = [
            (r.id, r.originator_id, r.originator_version, r.topic, r.state) for r in ledger.rows()
        ]
        digest = ledger.digest()
        assert counted(ledger) == walked(ledger)
        assert ledger.fact_counts is not None
        assert ledger.fact_counts.read() is not None
        assert counted(ledger) == walked(ledger)  # now from the counts
        assert [
            (r.id, r.originator_id, r.originator_version, r.topic, r.state) for r in ledger.rows()
        ] == rows
        assert ledger.digest() == digest
        assert ledger.verify_chain(digest).intact
    finally:
        ledger.close()
