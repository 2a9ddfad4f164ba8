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
