"""The change feed and paged histories: every fact once, in chain order, from any position.

Told on the demo's Linköping history on every store; the gaps a PostgreSQL sequence
leaves after a rolled-back batch are made for real, by taking numbers from it.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from contextlib import redirect_stderr, redirect_stdout
from datetime import UTC, datetime
from pathlib import Path

import pytest

from biv_adapters.cli import main
from biv_adapters.demo import CASE_NUMBER, linkoping_lines, record_linkoping
from biv_adapters.documents import history_document
from biv_adapters.exchange import read_lines
from biv_adapters.feed import feed_page, history_page_document, public_data
from biv_adapters.http.examples import STAGES, SettableClock, record_staged
from biv_adapters.stores.registry import open_ledger
from biv_domain.converter import document
from biv_domain.ledger import Ledger
from biv_domain.ledger.feed import FEED_TOPICS
from biv_domain.ledger.personal import LISTS, SEALED
from biv_domain.model.protection import EraseParticipant
from tests.conftest import POSTGRES_URL, drop_schema, postgres_url

CHILD = "ILL-C001"


@pytest.fixture(params=["memory", "sqlite", "postgresql"])
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def url(kind: str, tmp_path: Path) -> Iterator[str]:
    if kind == "memory":
        yield "memory:"
    elif kind == "sqlite":
        yield f"sqlite://{tmp_path}/biv.sqlite3"
    else:
        schema = f"feed_{uuid.uuid4().hex[:10]}"
        yield postgres_url(schema)
        drop_schema(schema)


@pytest.fixture
def demo(url: str) -> Iterator[Ledger]:
    ledger = open_ledger(url)
    record_linkoping(ledger)
    yield ledger
    ledger.close()


def partnership(ledger: Ledger) -> list[tuple[int, str]]:
    """Every fact of the feed's kinds, read the long way: every row, decoded."""
    return [(f.position, f.hash) for f in ledger.facts() if f.type in FEED_TOPICS]


def test_pages_of_the_feed_hold_every_fact_once_in_chain_order(demo: Ledger) -> None:
    # Given the demo's history; when it is read in pages of 37 from the start
    seen: list[tuple[int, str]] = []
    after = 0
    while page := demo.facts_after(after, limit=37):
        assert len(page) <= 37
        seen += [(f.position, f.hash) for f in page]
        after = page[-1].position
    # Then each fact of the partnership came once, in chain order, and no bookkeeping
    assert seen == partnership(demo)
    assert len(seen) > 150
    # And a page from any position starts right after it
    for position in (1, 2, 150, seen[-1][0] - 1):
        first = demo.facts_after(position, limit=1)[0]
        assert first.position == min(p for p, _ in seen if p > position)
    assert demo.facts_after(demo.chain_head().position) == []


def test_a_page_carries_each_fact_as_history_shows_it_with_its_hash(demo: Ledger) -> None:
    shown = history_document(demo, CASE_NUMBER)["facts"]
    history = {f["chain_position"]: f for f in shown}
    page = feed_page(demo, 0, 50)
    assert page.next == page.facts[-1].chain_position
    for fact in document(page)["facts"]:
        if fact["chain_position"] in history:
            shown = history[fact["chain_position"]]
            assert {k: v for k, v in fact.items() if k != "hash"} == shown
        assert len(fact["hash"]) == 64
    assert feed_page(demo, page.next + 10**6, 50).facts == ()


def _make_gap(ledger: Ledger, url: str, ids: int) -> None:
    """Burns `ids` row ids without a row, as a rolled-back PostgreSQL batch does."""
    import psycopg

    assert POSTGRES_URL
    schema = url.split("schema=")[1]
    with psycopg.connect(POSTGRES_URL, autocommit=True) as connection:
        for _ in range(ids):
            connection.execute(f"SELECT nextval('{schema}.biv_events_notification_id_seq')")


# SQLite's row ids never skip (no AUTOINCREMENT: the next is the largest plus one).
@pytest.mark.parametrize("kind", ["postgresql"])
def test_row_ids_that_skip_numbers_never_shift_a_position(url: str, kind: str) -> None:
    # Given a store whose row ids skip numbers between batches
    ledger = open_ledger(url)
    try:
        lines = record_linkoping_in_parts(ledger, url)
        assert lines
        every = partnership(ledger)
        # When the feed is read after every position
        for position in range(0, every[-1][0] + 1, 7):
            page = ledger.facts_after(position, limit=3)
            # Then it starts with the first fact after that position
            assert [(f.position, f.hash) for f in page] == [e for e in every if e[0] > position][:3]
    finally:
        ledger.close()


def record_linkoping_in_parts(ledger: Ledger, url: str) -> list[str]:
    lines = linkoping_lines()
    step = len(lines) // 4 + 1
    for start in range(0, len(lines), step):
        ledger.execute_all(read_lines(lines[start : start + step]))
        _make_gap(ledger, url, 25 + start % 11)
    return lines


def test_an_erased_child_never_reaches_a_follower_and_the_erasure_does(demo: Ledger) -> None:
    # Given a child in the history; when their data is erased
    before = {f.position for f in demo.facts_after(0, limit=10_000)}
    demo.execute(EraseParticipant(CHILD, "the guardian asked", demo.clock().date()))
    # Then the feed from the start never names them, and ends with the erasure
    facts = demo.facts_after(0, limit=10_000)
    assert CHILD not in str(document([f.event for f in facts]))
    assert facts[-1].type == "ParticipantErased"
    assert {f.position for f in facts[:-1]} == before


# A memory store is one process's: there is no other writer to follow.
@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_a_follower_sees_what_another_ledger_stores_while_it_follows(url: str) -> None:
    writer, follower = open_ledger(url), open_ledger(url)
    seen: list[int] = []
    done = threading.Event()
    try:

        def write() -> None:
            record_linkoping(writer)
            done.set()

        record = threading.Thread(target=write)
        record.start()
        for fact in follower.follow(after=0, poll=0.05, limit=50, stop=done.is_set):
            seen.append(fact.position)
        record.join()
        # after the writer finished: whatever was not read yet
        seen += [f.position for f in follower.facts_after(seen[-1] if seen else 0, 10_000)]
        expected = partnership(follower)
        assert seen == [p for p, _ in expected]
    finally:
        writer.close()
        follower.close()


def test_pages_of_a_history_add_up_to_the_whole(demo: Ledger) -> None:
    whole = [f.position for f in demo.history(CASE_NUMBER)]
    pages: list[int] = []
    after = 0
    while True:
        page = history_page_document(demo, CASE_NUMBER, None, after, 40)
        pages += [f["chain_position"] for f in page["facts"]]
        if page["next"] is None:
            break
        assert page["next"] == page["facts"][-1]["chain_position"]
        after = page["next"]
    assert pages == whole
    assert demo.history(CASE_NUMBER, after=whole[5], limit=2) == demo.history(CASE_NUMBER)[6:8]


def test_a_reader_sees_no_participant_data(demo: Ledger) -> None:
    facts = demo.facts_after(0, limit=10_000)
    public = feed_page(demo, 0, 10_000, public=True)
    shown = {f.chain_position: f for f in public.facts}
    for fact in facts:
        if fact.type in SEALED:
            assert fact.position not in shown
        else:
            assert shown[fact.position].data == public_data(fact)
            for field in LISTS.get(fact.type, ()):
                assert field not in shown[fact.position].data
    assert "ILL-C" not in str(document(public))
    assert public.next == facts[-1].position


def test_a_page_of_a_history_as_known_then_is_that_history_cut(url: str) -> None:
    # Given the history recorded in three stages
    clock = SettableClock(STAGES[0][0])
    ledger = open_ledger(url, clock=clock)
    try:
        record_staged(ledger, clock)
        for known in (None, STAGES[1][0], datetime(2022, 10, 31, tzinfo=UTC)):
            whole = ledger.history(CASE_NUMBER, known)
            for after in (0, whole[0].position, whole[len(whole) // 2].position, 10**6):
                for limit in (1, 7, 200, None):
                    # When a page of it is asked for; then it is the whole, cut
                    page = ledger.history(CASE_NUMBER, known, after=after, limit=limit)
                    cut = [f for f in whole if f.position > after]
                    assert page == (cut if limit is None else cut[:limit])
    finally:
        ledger.close()


def _biv(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


def ledger_after(store: str, position: int) -> int:
    ledger = open_ledger(store)
    try:
        return ledger.facts_after(position, limit=1)[0].position
    finally:
        ledger.close()


def test_biv_facts_prints_the_feed_as_json_lines(tmp_path: Path) -> None:
    store = f"sqlite://{tmp_path}/biv.sqlite3"
    assert _biv("demo", "--store", store)[0] == 0
    ledger = open_ledger(store)
    try:
        expected = [f.position for f in ledger.facts_after(100, limit=30)]
    finally:
        ledger.close()
    code, out, _ = _biv("facts", "--after", "100", "--limit", "30", "--json", "--store", store)
    assert code == 0
    lines = [json.loads(line) for line in out.splitlines()]
    assert [f["chain_position"] for f in lines] == expected
    assert all(len(f["hash"]) == 64 for f in lines)
    code, out, _ = _biv("facts", "--after", str(expected[-1]), "--limit", "1", "--store", store)
    assert code == 0
    assert out.split("\t")[0] == str(ledger_after(store, expected[-1]))
    assert _biv("facts", "--as-known-at", "2024-01-01", "--store", store)[0] == 2
    code, out, err = _biv("history", CASE_NUMBER, "--limit", "0", "--store", store)
    assert code == 2
    assert "--limit" in err


def test_biv_facts_follow_prints_each_new_fact_as_it_is_stored(tmp_path: Path) -> None:
    store = f"sqlite://{tmp_path}/biv.sqlite3"
    assert _biv("demo", "--store", store)[0] == 0
    head = open_ledger(store)
    last = head.facts_after(0, limit=10_000)[-1].position
    command = [sys.executable, "-m", "biv_adapters.cli", "facts", "--follow", "--json"]
    follower = subprocess.Popen(
        [*command, "--after", str(last), "--poll", "0.05", "--store", store],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).parents[2],
    )
    try:
        head.execute(EraseParticipant(CHILD, "the guardian asked", head.clock().date()))
        assert follower.stdout is not None
        erasure = json.loads(follower.stdout.readline())
        assert erasure["type"] == "ParticipantErased"
        assert erasure["chain_position"] > last
    finally:
        follower.terminate()
        follower.wait(10)
        head.close()
