"""How a question reads the store: few queries, whatever the size of the answer.

A history names every child of every group; reading their keys one query each cost a
history 80 ms on PostgreSQL. These tests count the store's key reads while a fresh
ledger (nothing cached) answers, on every store.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest

from biv_adapters.demo import record_linkoping
from biv_adapters.stores.registry import open_ledger
from biv_domain.ledger import Ledger
from biv_domain.model.dates import Period
from tests.builders import Clock

CASE = "Dnr 2016-292"


class KeyReads:
    """Counts the queries a ledger's key storage makes: one subject each, or many at once."""

    def __init__(self, ledger: Ledger, monkeypatch: pytest.MonkeyPatch) -> None:
        self.one, self.many = 0, 0
        keys = ledger.keys
        read, read_many = keys._read, keys._read_many

        def count_one(subject: str) -> Any:
            self.one += 1
            return read(subject)

        def count_many(subjects: list[str]) -> Any:
            self.many += 1
            return read_many(subjects)

        monkeypatch.setattr(keys, "_read", count_one)
        monkeypatch.setattr(keys, "_read_many", count_many)


@pytest.fixture
def fresh(store_url: str, clock: Clock) -> Iterator[Ledger]:
    """A store with the Linköping year, and a second ledger on it that has read nothing."""
    if store_url.startswith("memory:"):
        pytest.skip("a memory store lives in one ledger: nothing is read from a store")
    writer = open_ledger(store_url, clock=clock)
    record_linkoping(writer)
    reader = open_ledger(store_url, clock=clock)
    reader.keys.pepper()  # the store's own key, read once a process
    yield reader
    reader.close()
    writer.close()


def test_a_history_reads_its_childrens_keys_in_one_query(
    fresh: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a ledger that has read no child's key
    reads = KeyReads(fresh, monkeypatch)
    # When it answers the agreement's history, which names every enrolled child
    history = fresh.history(CASE)
    children = {f.event.participant_ref for f in history if f.type == "ParticipantEnrolled"}
    assert len(children) > 20
    # Then every child's key came in one query, none one at a time
    assert (reads.many, reads.one) == (1, 0)


def test_a_report_reads_its_groups_keys_in_one_query(
    fresh: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads = KeyReads(fresh, monkeypatch)
    figures = fresh.report(CASE, Period(date(2023, 4, 1), date(2024, 3, 31)))
    assert figures.participants > 20
    assert (reads.many, reads.one) == (1, 0)
