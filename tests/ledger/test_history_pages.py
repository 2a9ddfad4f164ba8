"""A history's pages (issue 25, item 4): any page size from any cursor, as known at any moment,
adds up to the whole history, erasures included, on every store.

Told on the Linköping history recorded in three stages, then a child erased and the
retention schedule carried out: the whole history is checked against the history read the
long way (every stream whole, its erasures found by their stand-ins), and its pages against
the whole.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from biv_adapters.demo import CASE_NUMBER
from biv_adapters.exchange import read_lines
from biv_adapters.http.examples import STAGES, SettableClock, record_staged
from biv_adapters.stores.registry import new_cipher_key, open_ledger
from biv_domain.errors import NotFound
from biv_domain.ledger import Ledger, erasure_trail
from biv_domain.ledger.bookkeeping import (
    agreement_stream,
    follow_up_stream,
    group_stream,
    members_stream,
)
from biv_domain.ledger.members import member_days
from biv_domain.model.fact import Fact
from biv_domain.model.protection import EraseParticipant
from tests.conftest import drop_schema, postgres_url

CHILD = "ILL-C001"
ERASED_AT = datetime(2024, 6, 3, 9, tzinfo=UTC)
RETAINED_AT = datetime(2024, 6, 10, 9, tzinfo=UTC)
RETENTION = (
    '{"id": "gallring/2024", "command": "apply_retention", "ended_before": "2023-08-01", '
    '"reason": "gallringsbeslut SN 2024-01", "decided_on": "2024-01-15"}'
)
# Moments to ask as known at: now, each stage, between two stages, between the two erasures.
MOMENTS = (
    None,
    *(moment for moment, _, _ in STAGES),
    datetime(2022, 10, 31, tzinfo=UTC),
    datetime(2024, 6, 5, tzinfo=UTC),
)
BEFORE = datetime(2019, 1, 1, tzinfo=UTC)  # before the agreement was recorded


@pytest.fixture(scope="module", params=("memory", "sqlite", "sqlite-encrypted", "postgresql"))
def ledger(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Ledger]:
    """The staged history, a child erased on request and the retention carried out."""
    schema = None
    with pytest.MonkeyPatch.context() as env:
        if request.param == "memory":
            url = "memory:"
        elif request.param == "postgresql":
            schema = f"pages_{uuid.uuid4().hex[:10]}"
            url = postgres_url(schema)
        else:
            url = f"sqlite://{tmp_path_factory.mktemp('pages')}/biv.sqlite3"
            if request.param == "sqlite-encrypted":
                env.setenv("BIV_CIPHER_KEY", new_cipher_key())
        clock = SettableClock(STAGES[0][0])
        ledger = open_ledger(url, clock=clock)
        record_staged(ledger, clock)
        clock.set(ERASED_AT)
        ledger.execute(EraseParticipant(CHILD, "vårdnadshavarens begäran", date(2024, 5, 30)))
        clock.set(RETAINED_AT)
        ledger.execute_all(read_lines([RETENTION]))
        yield ledger
        ledger.close()
    if schema:
        drop_schema(schema)


def the_long_way(ledger: Ledger, as_known_at: datetime | None) -> list[Fact]:
    """The history read as every store can: each stream whole, the erasures found by the
    stand-ins its facts name, all sorted by chain position."""
    reads = ledger.reads
    members = list(reads.stream(members_stream(CASE_NUMBER), as_known_at))
    streams = [
        agreement_stream(CASE_NUMBER),
        *(group_stream(ref) for ref in member_days(members, "group")),
        *(follow_up_stream(ref) for ref in member_days(members, "follow_up")),
    ]
    facts = [f for found in reads.streams(streams, as_known_at).values() for f in found]
    facts += erasure_trail.erasures_of(reads, facts, as_known_at)
    return sorted(facts, key=lambda f: f.position)


@pytest.mark.parametrize("as_known_at", MOMENTS)
def test_the_whole_history_is_the_history_read_the_long_way(
    ledger: Ledger, as_known_at: datetime | None
) -> None:
    # Given a history whose children were erased; when the whole of it is asked for
    whole = ledger.history(CASE_NUMBER, as_known_at)
    # Then it is every fact of its streams and each erasure of its children, in chain order
    assert whole == the_long_way(ledger, as_known_at)
    erasures = [f for f in whole if f.type == "ParticipantErased"]
    reasons = sorted({f.event.reason for f in erasures})
    if as_known_at is None:  # the request, then the retention's
        assert reasons == ["retention: gallringsbeslut SN 2024-01", "vårdnadshavarens begäran"]
    elif as_known_at < ERASED_AT:
        assert reasons == []
    else:  # between the two: the request only
        assert reasons == ["vårdnadshavarens begäran"]


def test_an_agreement_unknown_then_is_refused_for_a_page_as_for_the_whole(
    ledger: Ledger,
) -> None:
    with pytest.raises(NotFound) as whole:
        ledger.history(CASE_NUMBER, BEFORE)
    with pytest.raises(NotFound) as page:
        ledger.history(CASE_NUMBER, BEFORE, after=3, limit=5)
    assert str(page.value) == str(whole.value)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    size=st.integers(min_value=1, max_value=250),
    cursor=st.one_of(st.integers(min_value=0, max_value=400), st.sampled_from([0, 10**9])),
    moment=st.sampled_from(MOMENTS),
)
def test_pages_from_any_cursor_add_up_to_the_whole_after_it(
    ledger: Ledger, size: int, cursor: int, moment: datetime | None
) -> None:
    # Given the whole history as known at a moment
    whole = ledger.history(CASE_NUMBER, moment)
    # When it is read in pages of `size`, starting after `cursor`, each after the last one's
    pages: list[Fact] = []
    after = cursor
    while page := ledger.history(CASE_NUMBER, moment, after=after, limit=size):
        assert len(page) <= size
        # Then each page is the whole, cut after its cursor
        assert page == [f for f in whole if f.position > after][:size]
        pages += page
        after = page[-1].position
    # and together they are the whole after the cursor, each fact once, in chain order
    assert pages == [f for f in whole if f.position > cursor]
    assert ledger.history(CASE_NUMBER, moment, after=cursor) == pages
