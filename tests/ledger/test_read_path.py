"""How a question reads the store: few queries, whatever the size of the answer.

A history names every child of every group; reading their keys one query each cost a
history 80 ms on PostgreSQL. These tests count the store's key reads while a fresh
ledger (nothing cached) answers, on every store, and while one that holds the keys
answers again: it reads none, or those of the children new since in one query.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest

from biv_adapters.demo import record_linkoping
from biv_adapters.stores.registry import open_ledger
from biv_domain.ledger import Ledger
from biv_domain.ledger.subjects import KeyChanges, KeyUnknown, MemorySubjectKeys, key_for
from biv_domain.model.commands import EnrollParticipant, PlanGroup
from biv_domain.model.dates import Period
from biv_domain.model.vocabulary import Gender, GroupKind
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


def test_a_reader_that_holds_its_keys_reads_none_again(
    fresh: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a ledger that has read the agreement's history once
    first = fresh.history(CASE)
    reads = KeyReads(fresh, monkeypatch)
    # When it is asked again (a service answers question after question)
    again = fresh.history(CASE)
    # Then it reads no key, and answers the same
    assert (reads.many, reads.one) == (0, 0)
    assert again == first


def test_a_child_enrolled_since_is_read_in_one_query(
    store_url: str, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    if store_url.startswith("memory:"):
        pytest.skip("a memory store lives in one ledger: nothing is read from a store")
    writer = open_ledger(store_url, clock=clock)
    record_linkoping(writer)
    reader = open_ledger(store_url, clock=clock)
    try:
        # Given a reader that holds the keys of every child of the agreement
        reader.history(CASE)
        # When another process plans a group of the agreement and enrols two new children
        writer.execute(
            PlanGroup("ILL-2024-RYD-1", CASE, GroupKind.CHILDREN, "Ryd", date(2024, 1, 8))
        )
        for ref, gender in (("ILL-C901", Gender.GIRL), ("ILL-C902", Gender.BOY)):
            writer.execute(EnrollParticipant("ILL-2024-RYD-1", ref, date(2024, 1, 8), gender, 9))
        reads = KeyReads(reader, monkeypatch)
        history = reader.history(CASE)
        # Then their keys are read in one query, and the history names them as enrolled
        assert (reads.many, reads.one) == (1, 0)
        enrolled = [f.event.participant_ref for f in history if f.type == "ParticipantEnrolled"]
        assert enrolled[-2:] == ["ILL-C901", "ILL-C902"]
        assert history == writer.history(CASE)
    finally:
        reader.close()
        writer.close()


def test_only_the_thread_that_reads_many_rows_asks_for_known_keys_only() -> None:
    """`known_only` is the reading thread's: the HTTP service's other threads, reading
    side by side on the same keys, still read a key they have not read."""
    keys = MemorySubjectKeys()
    keys.committed(KeyChanges(added={"p-1": key_for("C-1", "p-1")}))
    keys.forget()
    found: list[object] = []
    with keys.known_only():
        with pytest.raises(KeyUnknown):
            keys.lookup("p-1")
        other = threading.Thread(target=lambda: found.append(keys.lookup("p-1")))
        other.start()
        other.join()
    assert len(found) == 1
    assert found[0] is not None
