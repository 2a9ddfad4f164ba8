"""The Linköping history goes into every store and comes back the same."""

from __future__ import annotations

from biv_adapters.demo import CASE_NUMBER, record_linkoping
from biv_domain.ledger import Ledger


def test_the_linkoping_history_is_recorded_once_and_read_back(ledger: Ledger) -> None:
    applied, skipped = record_linkoping(ledger)
    assert (applied, skipped) == (178, 0)

    again = record_linkoping(ledger)
    assert again == (0, 178)

    state = ledger.agreement(CASE_NUMBER)
    assert str(state.end_as_decided()) == "2024-03-31"
    assert len(ledger.groups(CASE_NUMBER)) == 8
    assert len(ledger.follow_ups(CASE_NUMBER)) == 2


def test_history_merged_from_the_agreements_streams_is_the_store_in_recorded_order(
    ledger: Ledger,
) -> None:
    record_linkoping(ledger)
    streams = {"agreement:" + CASE_NUMBER} | {
        f.stream for f in ledger.facts() if f.stream.startswith(("group:", "follow-up:"))
    }
    scanned = [f for f in ledger.facts() if f.stream in streams]
    assert ledger.history(CASE_NUMBER) == scanned
    known_then = scanned[40].recorded_at
    assert ledger.history(CASE_NUMBER, known_then) == [
        f for f in scanned if f.recorded_at <= known_then
    ]
