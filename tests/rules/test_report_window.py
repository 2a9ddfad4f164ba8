"""A report reads only the groups that can have met in its window, and says the same.

The agreement's index of members records each group's first day and, once it
is completed or cancelled, its last; a report skips the groups outside its
window. For any window, the figures equal those computed over every group.
"""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from biv_adapters.demo import CASE_NUMBER, record_linkoping
from biv_domain.ledger import Ledger
from biv_domain.model.dates import Period
from biv_domain.projections.report import report

LEDGER = Ledger()
record_linkoping(LEDGER)
AGREEMENT = LEDGER.agreement(CASE_NUMBER)
EVERY_GROUP = LEDGER.groups(CASE_NUMBER)

windows = st.tuples(st.dates(date(2023, 1, 1), date(2024, 6, 30)), st.integers(0, 400)).map(
    lambda w: Period(w[0], w[0] + timedelta(days=w[1]))
)


@settings(max_examples=200, deadline=None)
@given(windows)
def test_the_groups_of_a_window_give_the_figures_of_every_group(window: Period) -> None:
    some = LEDGER.groups(CASE_NUMBER, overlapping=window)
    assert report(AGREEMENT, some, window) == report(AGREEMENT, EVERY_GROUP, window)
    assert len(some) <= len(EVERY_GROUP)


def test_a_window_between_groups_reads_none() -> None:
    # The spring groups ended in July; the autumn groups start on 2023-08-21.
    assert LEDGER.groups(CASE_NUMBER, overlapping=Period(date(2023, 8, 1), date(2023, 8, 14))) == []
