"""Benchmark: the write path, `biv import` of N exchange lines against plain `eventsourcing`.

A script, not a test. In one run, on fresh stores of the same kind (an SQLite file
in a temp dir, or a new schema on the PostgreSQL server named), it measures:

- `biv import`: N generated exchange lines (`tests.builders.exchange_lines`:
  agreements, funding, groups, children, sessions) read and applied as the CLI
  does (`read_lines`, then `Ledger.execute_all` of every line in one batch),
  in facts stored a second;
- plain `eventsourcing`: an `Application` of simple `Aggregate`s, N events made
  and stored with one `app.save` (one transaction) on the same kind of store,
  in events a second;
- the ratio of the two (the aim, from issue 12, is at least 1).

Each figure is the median of `--runs` runs (a fresh store each).

    python benchmarks/write_path.py                      # SQLite
    python benchmarks/write_path.py --store 'postgresql://postgres@127.0.0.1:5432/postgres'
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event
from tests.builders import exchange_lines

from biv_adapters.exchange import read_lines
from biv_adapters.stores.registry import open_ledger

EVENTS_PER_AGGREGATE = 10


class Counter(Aggregate):
    """The plain baseline's aggregate: one small event a step."""

    @event("Created")
    def __init__(self, name: str) -> None:
        self.name = name
        self.steps = 0

    @event("Stepped")
    def step(self, amount: int) -> None:
        self.steps += amount


class Counters(Application[Any]):
    """The plain baseline's application, snapshots off, on the store's settings."""


def _postgres(url: str) -> bool:
    return url.startswith("postgresql")


@contextmanager
def fresh_store(url: str) -> Iterator[tuple[str, dict[str, str]]]:
    """A new empty store of the kind `url` names: its biv URL and plain eventsourcing's env.

    SQLite: two files in a temp dir. PostgreSQL: two new schemas, dropped afterwards.
    """
    if not _postgres(url):
        with tempfile.TemporaryDirectory(prefix="biv-write-") as folder:
            env = {
                "PERSISTENCE_MODULE": "eventsourcing.sqlite",
                "SQLITE_DBNAME": str(Path(folder) / "plain.sqlite3"),
            }
            yield f"sqlite://{Path(folder) / 'biv.sqlite3'}", env
        return
    import psycopg
    from psycopg import sql

    base = urlsplit(url)._replace(query="").geturl()
    tag = uuid.uuid4().hex[:10]
    biv_schema, plain_schema = f"bench_write_{tag}", f"bench_plain_{tag}"
    parts = urlsplit(base)
    with psycopg.connect(base, autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(plain_schema)))
    env = {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": parts.path.strip("/"),
        "POSTGRES_HOST": parts.hostname or "127.0.0.1",
        "POSTGRES_PORT": str(parts.port or 5432),
        "POSTGRES_USER": parts.username or os.environ.get("USER", "postgres"),
        "POSTGRES_PASSWORD": parts.password or "",
        "POSTGRES_SCHEMA": plain_schema,
    }
    try:
        yield f"{base}?schema={biv_schema}", env
    finally:
        with psycopg.connect(base, autocommit=True) as connection:
            for schema in (biv_schema, plain_schema):
                connection.execute(
                    sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema))
                )


def biv_import(url: str, text: Sequence[str]) -> tuple[int, float]:
    """Facts stored and seconds taken by one `biv import` of these lines (parse + apply)."""
    ledger = open_ledger(url)
    try:
        started = time.perf_counter()
        receipt = ledger.execute_all(read_lines(text))
        return len(receipt.facts), time.perf_counter() - started
    finally:
        ledger.close()


def plain_save(env: dict[str, str], events: int) -> tuple[int, float]:
    """Events stored and seconds taken by plain eventsourcing: made, then one `app.save`."""
    app = Counters(env=env)
    try:
        started = time.perf_counter()
        counters = []
        for n in range(max(1, events // EVENTS_PER_AGGREGATE)):
            counter = Counter(f"counter {n}")
            for step in range(EVENTS_PER_AGGREGATE - 1):
                counter.step(step)
            counters.append(counter)
        app.save(*counters)
        elapsed = time.perf_counter() - started
        return len(counters) * EVENTS_PER_AGGREGATE, elapsed
    finally:
        app.close()


def measure(url: str, lines: int = 20_000, runs: int = 3) -> dict[str, float]:
    """The figures of one run on the kind of store `url` names (each the median of `runs`).

    `url` is a biv store URL: `sqlite:…` (any path: fresh files in a temp dir are used) or
    `postgresql://…` (fresh schemas on that server are used, then dropped).
    """
    text = [json.dumps(line, ensure_ascii=False) for line in exchange_lines(lines)]
    biv_rates, plain_rates, facts = [], [], 0
    for _ in range(runs):
        with fresh_store(url) as (biv_url, env):
            facts, seconds = biv_import(biv_url, text)
            biv_rates.append(facts / seconds)
            events, seconds = plain_save(env, facts)
            plain_rates.append(events / seconds)
    biv_rate, plain_rate = statistics.median(biv_rates), statistics.median(plain_rates)
    return {
        "lines": float(lines),
        "facts": float(facts),
        "biv_import_facts_per_s": biv_rate,
        "biv_import_lines_per_s": biv_rate * lines / facts,
        "plain_eventsourcing_events_per_s": plain_rate,
        "ratio": biv_rate / plain_rate,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--store", metavar="URL", default="sqlite:", help="default: SQLite")
    parser.add_argument("--lines", type=int, default=20_000, metavar="N")
    parser.add_argument("--runs", type=int, default=3, metavar="R")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--json-out", metavar="FILE", help="save the run as JSON (write_docs.py)")
    args = parser.parse_args(argv)
    started = datetime.now(UTC).isoformat(timespec="seconds")
    figures = measure(args.store, args.lines, args.runs)
    kind = "PostgreSQL" if _postgres(args.store) else "SQLite"
    if args.json_out:
        run = {
            "benchmark": "write_path",
            "store": kind,
            "runs": args.runs,
            "started_at": started,
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            **figures,
        }
        Path(args.json_out).write_text(json.dumps(run, indent=2) + "\n")
    if args.json:
        print(json.dumps(figures, indent=2))
        return 0
    print(f"{kind}, {args.lines:,} lines ({figures['facts']:,.0f} facts), median of {args.runs}")
    print(
        f"  biv import:          {figures['biv_import_facts_per_s']:>10,.0f} facts/s "
        f"({figures['biv_import_lines_per_s']:,.0f} lines/s)"
    )
    print(f"  plain eventsourcing: {figures['plain_eventsourcing_events_per_s']:>10,.0f} events/s")
    print(f"  ratio:               {figures['ratio']:>10.2f} x (aim >= 1)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
