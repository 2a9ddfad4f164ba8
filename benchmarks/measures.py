"""What the benchmark measures on a stored ledger: the raw read, queries, a cold CLI, memory."""

from __future__ import annotations

import cProfile
import io
import json
import pstats
import random
import resource
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from benchmarks.scale import Generated
from biv_adapters.stores.postgresql import postgres_connection
from biv_adapters.stores.registry import sqlite_path, store_settings
from biv_domain.ledger import Ledger
from biv_domain.ledger.bookkeeping import CHAIN_STREAM
from biv_domain.model.dates import Period, add_months
from biv_domain.projections.budget import budget


def raw_read_rate(ledger: Ledger, url: str, topics: Sequence[str] = ()) -> tuple[int, float] | None:
    """Rows read and seconds to read every stored row (or those of `topics`) and orjson it.

    orjson is the store's own JSON library (`converter.parse_json`): the raw floor of
    reading a row, without structuring it into a fact.
    """
    table = str(getattr(ledger.app.recorder, "events_table_name", ""))
    if url.startswith("sqlite:"):
        connection = sqlite3.connect(str(sqlite_path(url)))
        try:
            started = time.perf_counter()
            rows = 0
            where = f" WHERE topic IN ({', '.join('?' * len(topics))})" if topics else ""
            cursor = connection.execute(
                f"SELECT rowid, originator_id, originator_version, topic, state FROM {table}"
                + where,
                tuple(topics),
            )
            while chunk := cursor.fetchmany(2000):
                for row in chunk:
                    orjson.loads(row[4])
                    rows += 1
            return rows, time.perf_counter() - started
        finally:
            connection.close()
    if url.startswith("postgresql:"):
        from psycopg import sql

        settings = store_settings(url)
        schema = settings.get("POSTGRES_SCHEMA") or "public"
        name = table.split(".")[-1]
        # A named (server-side) cursor needs a transaction, so not in autocommit.
        with postgres_connection(settings, autocommit=False) as pg:
            started = time.perf_counter()
            rows = 0
            query = sql.SQL(
                "SELECT originator_id, originator_version, topic, state, notification_id "
                "FROM {}"
                + (" WHERE topic = ANY(%s)" if topics else "")
                + " ORDER BY notification_id"
            ).format(sql.Identifier(schema, name))
            with pg.cursor(name="raw_read") as pg_cursor:
                pg_cursor.itersize = 2000
                pg_cursor.execute(query, (list(topics),) if topics else None)
                for row in pg_cursor:
                    orjson.loads(row[3])
                    rows += 1
            return rows, time.perf_counter() - started
    return None


def raw_insert_rate(
    ledger: Ledger, url: str, *, per_batch: bool = False
) -> tuple[int, float] | None:
    """Seconds to insert every stored row again with executemany: in one transaction, or
    (`per_batch`) in the import's own transactions, each batch's rows and its COMMIT.

    The rows are read first (not timed) and inserted into a fresh table of the
    library's shape (SQLite: a new file beside the store; PostgreSQL: a temporary
    table), so it is the store's raw write speed for exactly the rows the import wrote.
    A batch ends at its seal, the one row of the `chain` stream each batch writes last.
    """
    table = str(getattr(ledger.app.recorder, "events_table_name", ""))
    if url.startswith("sqlite:"):
        path = sqlite_path(url)
        source = sqlite3.connect(str(path))
        target_path = path.with_name(path.name + ".raw-insert")
        target = sqlite3.connect(str(target_path), isolation_level=None)
        try:
            target.execute("PRAGMA journal_mode=WAL")
            target.execute(
                "CREATE TABLE stored_events (originator_id TEXT, originator_version INTEGER, "
                "topic TEXT, state BLOB, PRIMARY KEY (originator_id, originator_version))"
            )
            cursor = source.execute(
                f"SELECT originator_id, originator_version, topic, state FROM {table} "
                "ORDER BY rowid"
            )
            return _timed_inserts(
                cursor,
                lambda rows: target.executemany(
                    "INSERT INTO stored_events VALUES (?, ?, ?, ?)", rows
                ),
                lambda: target.execute("BEGIN"),
                lambda: target.execute("COMMIT"),
                per_batch,
            )
        finally:
            source.close()
            target.close()
            for leftover in path.parent.glob(target_path.name + "*"):
                leftover.unlink()
    if url.startswith("postgresql:"):
        from psycopg import sql

        settings = store_settings(url)
        schema = settings.get("POSTGRES_SCHEMA") or "public"
        name = table.split(".")[-1]
        with postgres_connection(settings, autocommit=False) as pg:
            pg.execute(
                "CREATE TEMPORARY TABLE raw_insert (originator_id TEXT, "
                "originator_version BIGINT, topic TEXT, state BYTEA, "
                "notification_id BIGSERIAL, PRIMARY KEY (originator_id, originator_version))"
            )
            pg.commit()
            query = sql.SQL(
                "SELECT originator_id, originator_version, topic, state FROM {} "
                "ORDER BY notification_id"
            )
            with (
                postgres_connection(settings, autocommit=False) as reader,
                reader.cursor(name="raw_insert_source") as source_cursor,
                pg.cursor() as cursor,
            ):
                source_cursor.itersize = 20_000
                source_cursor.execute(query.format(sql.Identifier(schema, name)))
                return _timed_inserts(
                    source_cursor,
                    lambda rows: cursor.executemany(
                        "INSERT INTO raw_insert (originator_id, originator_version, topic, state) "
                        "VALUES (%s, %s, %s, %s)",
                        rows,
                    ),
                    lambda: None,  # psycopg begins a transaction itself
                    pg.commit,
                    per_batch,
                )
    return None


def _timed_inserts(
    source: Any,
    insert: Callable[[list[Any]], object],
    begin: Callable[[], object],
    commit: Callable[[], object],
    per_batch: bool,
) -> tuple[int, float]:
    """Reads the rows in pages (not timed) and inserts them (timed): memory stays flat."""
    seconds, count, pending = 0.0, 0, []
    started = time.perf_counter()
    begin()
    seconds += time.perf_counter() - started
    while chunk := source.fetchmany(20_000):
        pending += chunk
        batches = [pending]
        if per_batch:
            ends = [i + 1 for i, row in enumerate(pending) if row[0] == CHAIN_STREAM]
            batches = [pending[a:b] for a, b in zip([0, *ends], ends, strict=False)]
            pending = pending[ends[-1] :] if ends else pending
        else:
            pending = []
        started = time.perf_counter()
        for batch in batches:
            insert(batch)
            count += len(batch)
            if per_batch:
                commit()
                begin()
        seconds += time.perf_counter() - started
    started = time.perf_counter()
    if pending:
        insert(pending)
        count += len(pending)
    commit()
    return count, seconds + time.perf_counter() - started


@dataclass(frozen=True)
class Query:
    case_number: str
    on: date
    window: Period
    as_known_at: datetime  # a random time between the agreement's first record and the last
    latest: datetime  # after the last record: as known at, seeing everything

    def moment(self, mode: str) -> datetime | None:
        return {"plain": None, "past": self.as_known_at, "latest": self.latest}[mode]


def make_queries(generated: Generated, count: int, rng: random.Random) -> list[Query]:
    assert generated.last_recorded is not None
    last = generated.last_recorded
    queries = []
    for _ in range(count):
        plan = rng.choice(generated.plans)
        assert plan.first_recorded is not None
        span = (plan.end - plan.start).days
        on = plan.start + timedelta(days=rng.randint(0, span))
        window_start = add_months(plan.start, rng.randint(0, max(0, (span // 30) - 6)))
        window = Period(window_start, add_months(window_start, 6) - timedelta(days=1))
        known = (last - plan.first_recorded).total_seconds()
        as_known_at = plan.first_recorded + timedelta(seconds=rng.uniform(0, known))
        latest = last + timedelta(seconds=1)
        queries.append(Query(plan.case_number, on, window, as_known_at, latest))
    return queries


def run_budget(ledger: Ledger, q: Query, mode: str) -> int:
    state = ledger.agreement(q.case_number, q.moment(mode))
    return len(budget(state, q.on).funding)


def run_follow_ups(ledger: Ledger, q: Query, mode: str) -> int:
    return len(ledger.follow_ups(q.case_number, q.moment(mode)))


def run_history(ledger: Ledger, q: Query, mode: str) -> int:
    return len(ledger.history(q.case_number, q.moment(mode)))


_HISTORY_STREAMS: dict[str, list[str]] = {}


def find_history_streams(ledger: Ledger, queries: Sequence[Query]) -> None:
    """The stored stream ids of each query's history, found before `run_history_raw` is timed."""
    for q in queries:
        if q.case_number not in _HISTORY_STREAMS:
            facts = ledger.history(q.case_number)
            _HISTORY_STREAMS[q.case_number] = sorted({ledger.reads._sid(f.stream) for f in facts})


def run_history_raw(ledger: Ledger, q: Query, mode: str) -> int:
    """The floor under a history: its rows read in the same one query, and orjson'd.

    What is timed is what no code of ours can avoid: the store's rows of the history's
    streams (found untimed by `find_history_streams`) and parsing their JSON, without
    structuring them into facts or opening a child's fields.
    """
    rows = ledger.app.recorder.select_streams(_HISTORY_STREAMS[q.case_number])  # type: ignore[attr-defined]
    moment = q.moment(mode)
    known = 0
    for row in rows:
        body = orjson.loads(row.state)
        known += moment is None or body["recorded_at"] <= moment.isoformat()
    return known


def run_history_page_raw(ledger: Ledger, q: Query, after_row: int, limit: int) -> int:
    """The floor under a history's page: the page's rows read in the same one query as the
    page (`select_streams_after`, after row id `after_row`), and orjson'd: no index of members
    read, no fact made, no child's fields opened."""
    recorder: Any = ledger.app.recorder
    rows = recorder.select_streams_after(_HISTORY_STREAMS[q.case_number], after_row, limit)
    return sum(1 for row in rows if orjson.loads(row.state))


def run_report(ledger: Ledger, q: Query, mode: str) -> int:
    figures = ledger.report(q.case_number, q.window, q.moment(mode))  # as `biv report` asks
    return figures.groups + figures.parent_groups


QueryFn = Callable[[Ledger, Query, str], int]


@dataclass
class Series:
    name: str
    fn: QueryFn
    mode: str
    times_ms: list[float]
    sizes: list[int]

    @property
    def p50(self) -> float:
        return statistics.median(self.times_ms)

    @property
    def p95(self) -> float:
        return statistics.quantiles(self.times_ms, n=100, method="inclusive")[94]

    @property
    def p99(self) -> float:
        return statistics.quantiles(self.times_ms, n=100, method="inclusive")[98]


def time_series(
    name: str, ledger: Ledger, fn: QueryFn, queries: Sequence[Query], mode: str
) -> Series:
    for q in queries[:5]:  # warm up
        fn(ledger, q, mode)
    times, sizes = [], []
    for q in queries:
        started = time.perf_counter()
        size = fn(ledger, q, mode)
        times.append((time.perf_counter() - started) * 1000)
        sizes.append(size)
    return Series(name, fn, mode, times, sizes)


def profile(ledger: Ledger, fn: QueryFn, queries: Sequence[Query], mode: str) -> str:
    profiler = cProfile.Profile()
    profiler.enable()
    for q in queries:
        fn(ledger, q, mode)
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(18)
    stats.sort_stats("cumulative").print_stats(30)
    return out.getvalue()


def cold_cli(url: str, q: Query, what: str = "budget", runs: int = 5) -> float | None:
    """The median wall time of a fresh `biv budget`/`biv report` process (start-up included)."""
    biv = Path(sys.executable).parent / "biv"
    if url.startswith("memory:") or not biv.exists():
        return None
    if what == "budget":
        command = [str(biv), "budget", q.case_number, "--on", q.on.isoformat(), "--json"]
    else:
        command = [str(biv), "report", q.case_number, "--from", q.window.start.isoformat()]
        command += ["--to", q.window.end.isoformat(), "--json"]
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        done = subprocess.run(
            [*command, "--store", url], capture_output=True, text=True, check=False
        )
        times.append(time.perf_counter() - started)
        if done.returncode != 0:
            print(f"  cold CLI failed: {done.stderr.strip()}", file=sys.stderr)
            return None
        json.loads(done.stdout)
    return statistics.median(times)


def cold_rebuild(url: str) -> tuple[float, float] | None:
    """Wall seconds and peak RSS (MB) of `biv rebuild` in a fresh process.

    The process reports its own peak as the kernel keeps it for its memory since exec
    (VmHWM): ru_maxrss, of the child or of the children, carries the benchmark's own
    peak across the fork and exec.
    """
    if url.startswith("memory:"):
        return None
    script = (
        "import sys\n"
        "from biv_adapters.cli import main\n"
        "code = main(['rebuild', '--store', sys.argv[1]])\n"
        "hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM:')]\n"
        "print(hwm[0].split()[1], file=sys.stderr)\n"
        "sys.exit(code)\n"
    )
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", script, url], capture_output=True, text=True, check=False
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        print(f"  cold rebuild failed: {done.stderr.strip()}", file=sys.stderr)
        return None
    return seconds, int(done.stderr.strip().splitlines()[-1]) / 1024


def cold_python(runs: int = 5) -> float:
    """The median wall time of `python -c pass`: what any fresh process costs here."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
