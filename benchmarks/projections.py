"""Benchmark: import, funding-view rebuild and per-agreement queries on a municipality-scale store.

A script, not a test. It generates N agreements over Y years through the real API
(`open_ledger` and `Ledger.execute_all`), with a clock that moves over the years
(records come after their effective dates, some of them months late), then measures
in one run:

- import facts/s (facts stored / wall seconds inside `execute_all`);
- funding view rebuild facts/s, and for SQLite and PostgreSQL the raw rate of reading
  every stored row and `json.loads` of its state, and the ratio rebuild/raw;
- p50/p95 of one agreement's budget and report, plain and `as_known_at`, and the ratio;
- peak memory, and a cold `biv budget ... --json` subprocess.

    python benchmarks/projections.py                        # fresh SQLite file in a temp dir
    python benchmarks/projections.py --store memory: --agreements 20
    python benchmarks/projections.py --store 'postgresql://postgres@127.0.0.1:5432/postgres?schema=bench_x'

The store must be empty (a PostgreSQL schema is created on first use).
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import json
import os
import platform
import pstats
import random
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

# Run as a script (`python benchmarks/projections.py`), the repository's root is not on the
# path: put it there, so that `benchmarks` and `tests.builders` (the tests' clock) import.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.builders import Clock

from benchmarks.measures import (
    cold_cli,
    cold_python,
    cold_rebuild,
    find_history_streams,
    make_queries,
    maxrss_mb,
    profile,
    raw_insert_rate,
    raw_read_rate,
    run_budget,
    run_follow_ups,
    run_history,
    run_history_raw,
    run_report,
    time_series,
)
from benchmarks.scale import Generated, all_batches
from benchmarks.table import HISTORY_FLOOR, TARGET_QUERY_P50_MS, aims, print_table
from biv_adapters.stores.registry import open_ledger, sqlite_path
from biv_domain.ledger import Ledger, Line
from biv_domain.projections.fiscal_year import TOPICS

# --- Storing the generated batches: the import's figures -------------------------------------


@dataclass
class ImportResult:
    facts: int  # stored by the timed (unprofiled) batches
    seconds: float  # wall time of their execute_all calls
    batches: int
    largest_batch: int
    tenths: list[float] = field(default_factory=list)  # facts/s in each tenth of the batches
    tenth_batch_facts: list[float] = field(default_factory=list)  # mean facts a batch, by tenth
    tenth_batch_ms: list[float] = field(default_factory=list)  # mean ms a batch, by tenth
    profile: str = ""  # where every 10th batch's time went, with --profile


def populate(
    ledger: Ledger, clock: Clock, args: argparse.Namespace, generated: Generated
) -> ImportResult:
    """Stores every batch; with --profile every 10th runs under cProfile and is not timed."""
    result = ImportResult(0, 0.0, 0, 0)
    profiler = cProfile.Profile() if args.profile else None
    estimate = args.agreements * (2 * args.years + 2)
    tenth_facts, tenth_seconds, tenth_batches = 0, 0.0, 0
    for batch in all_batches(args.agreements, args.years, args.seed, generated):
        clock.set(batch.recorded_at)
        lines = [Line(n, c) for n, c in enumerate(batch.commands, 1)]
        result.batches += 1
        if profiler is not None and result.batches % 10 == 0:
            profiler.enable()
            receipt = ledger.execute_all(lines)
            profiler.disable()
        else:
            started = time.perf_counter()
            receipt = ledger.execute_all(lines)
            elapsed = time.perf_counter() - started
            result.seconds += elapsed
            result.facts += len(receipt.facts)
            tenth_facts += len(receipt.facts)
            tenth_seconds += elapsed
            tenth_batches += 1
        result.largest_batch = max(result.largest_batch, len(receipt.facts))
        generated.last_recorded = batch.recorded_at
        if result.batches * 10 // estimate > len(result.tenths):
            result.tenths.append(tenth_facts / tenth_seconds)
            result.tenth_batch_facts.append(tenth_facts / max(tenth_batches, 1))
            result.tenth_batch_ms.append(1000 * tenth_seconds / max(tenth_batches, 1))
            print(
                f"  import: {result.batches} batches, {result.facts:,} facts timed, "
                f"{result.seconds:.1f} s, {result.facts / result.seconds:,.0f} facts/s "
                f"(this tenth {tenth_facts / tenth_seconds:,.0f} facts/s), recorded up to "
                f"{batch.recorded_at:%Y-%m-%d}",
                file=sys.stderr,
                flush=True,
            )
            tenth_facts, tenth_seconds, tenth_batches = 0, 0.0, 0
    if tenth_seconds:
        result.tenths.append(tenth_facts / tenth_seconds)
    if profiler is not None:
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out)
        stats.sort_stats("tottime").print_stats(15)
        stats.sort_stats("cumulative").print_stats(35)
        result.profile = out.getvalue()
    return result


# --- The run --------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--store", metavar="URL", help="default: a fresh SQLite file in a temp dir")
    parser.add_argument("--agreements", type=int, default=200, metavar="N")
    parser.add_argument("--years", type=int, default=7, metavar="Y")
    parser.add_argument("--queries", type=int, default=200, metavar="Q")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json-out", metavar="FILE", help="save the figures as JSON")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="cProfile the query series whose p50 is over target, and print where time goes",
    )
    parser.add_argument("--no-tracemalloc", action="store_true", help="skip the tracemalloc pass")
    args = parser.parse_args(argv)
    if args.agreements < 1 or args.years < 1 or args.queries < 20:
        parser.error("need --agreements >= 1, --years >= 1 and --queries >= 20")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    temp: tempfile.TemporaryDirectory[str] | None = None
    url = args.store
    if url is None:
        temp = tempfile.TemporaryDirectory(prefix="biv-bench-")
        url = f"sqlite://{temp.name}/bench.sqlite3"
    try:
        return run(args, url)
    finally:
        if temp is not None:
            temp.cleanup()


def run(args: argparse.Namespace, url: str) -> int:
    clock = Clock(step=timedelta(0))  # each batch recorded exactly at its generated time
    ledger = open_ledger(url, clock=clock)
    if ledger.app.recorder.max_notification_id():
        print(f"the store {url} is not empty; give an empty one", file=sys.stderr)
        return 2
    print(
        f"store {url}: {args.agreements} agreements x {args.years} years, seed {args.seed}",
        file=sys.stderr,
    )
    figures: dict[str, Any] = {
        "store": url,
        "agreements": args.agreements,
        "years": args.years,
        "queries": args.queries,
        "seed": args.seed,
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "command": " ".join(sys.argv),
    }

    generated = Generated()
    before = ledger.app.recorder.max_notification_id() or 0
    imported = populate(ledger, clock, args, generated)
    figures["import"] = {
        "facts": (ledger.app.recorder.max_notification_id() or 0) - before,
        "timed_facts": imported.facts,
        "facts_per_s_by_tenth": imported.tenths,
        "facts_per_batch_by_tenth": imported.tenth_batch_facts,
        "ms_per_batch_by_tenth": imported.tenth_batch_ms,
        "batches": imported.batches,
        "late_batches": generated.late_batches,
        "largest_batch_facts": imported.largest_batch,
        "commands": sum(generated.commands.values()),
        "seconds": imported.seconds,
        "facts_per_s": imported.facts / imported.seconds,
    }
    if imported.profile:
        figures.setdefault("profiles", {})["import (every 10th batch)"] = imported.profile
    figures["maxrss_after_import_mb"] = maxrss_mb()
    if url.startswith("sqlite:"):
        path = sqlite_path(url)
        files = (path, path.with_name(path.name + "-wal"))
        figures["store_bytes"] = sum(f.stat().st_size for f in files if f.exists())
    gc.collect()

    # Rebuild of the funding view, and the raw read it is compared with.
    view = ledger.funding_view
    started = time.perf_counter()
    read = view.rebuild()
    rebuild_s = time.perf_counter() - started
    figures["rebuild"] = {"facts": read, "seconds": rebuild_s, "facts_per_s": read / rebuild_s}
    raw = raw_read_rate(ledger, url)
    if raw is not None:
        rows, raw_s = raw
        figures["raw"] = {"rows": rows, "seconds": raw_s, "rows_per_s": rows / raw_s}
        figures["rebuild_over_raw"] = (read / rebuild_s) / (rows / raw_s)
    # The rows the rebuild actually reads and decodes (the view's topics): its true floor.
    raw_topics = raw_read_rate(ledger, url, TOPICS)
    if raw_topics is not None:
        rows, raw_s = raw_topics
        figures["raw_topics"] = {"rows": rows, "seconds": raw_s, "rows_per_s": rows / raw_s}
        figures["rebuild_over_raw_topics"] = raw_s / rebuild_s
    figures["maxrss_after_rebuild_mb"] = maxrss_mb()

    # Queries: the same random agreements, dates and windows, plain and as known at.
    queries = make_queries(generated, args.queries, random.Random(f"{args.seed}/queries"))
    find_history_streams(ledger, queries)  # untimed: the floor times only rows and JSON
    series = [
        time_series("budget", ledger, run_budget, queries, "plain"),
        time_series("budget as_known_at past", ledger, run_budget, queries, "past"),
        time_series("budget as_known_at latest", ledger, run_budget, queries, "latest"),
        time_series("report", ledger, run_report, queries, "plain"),
        time_series("report as_known_at past", ledger, run_report, queries, "past"),
        time_series("report as_known_at latest", ledger, run_report, queries, "latest"),
        time_series("follow-ups", ledger, run_follow_ups, queries, "plain"),
        time_series("follow-ups as_known_at past", ledger, run_follow_ups, queries, "past"),
        time_series("history", ledger, run_history, queries, "plain"),
        time_series("history as_known_at past", ledger, run_history, queries, "past"),
        time_series(HISTORY_FLOOR, ledger, run_history_raw, queries, "plain"),
    ]
    figures["queries_ms"] = {
        s.name: {
            "p50": s.p50,
            "p95": s.p95,
            "p99": s.p99,
            "mean": statistics.fmean(s.times_ms),
            "max": max(s.times_ms),
            "mean_size": statistics.fmean(s.sizes),
        }
        for s in series
    }
    figures["as_known_at_over_plain_p50"] = {
        "budget, random past": series[1].p50 / series[0].p50,
        "budget, after the last record": series[2].p50 / series[0].p50,
        "report, random past": series[4].p50 / series[3].p50,
        "report, after the last record": series[5].p50 / series[3].p50,
    }
    figures["maxrss_mb"] = maxrss_mb()

    if not args.no_tracemalloc:
        tracemalloc.start()
        view.rebuild()
        _, rebuild_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        for q in queries[:20]:
            run_report(ledger, q, "plain")
        _, report_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        figures["tracemalloc_peak_mb"] = {
            "rebuild": rebuild_peak / 2**20,
            "report_query": report_peak / 2**20,
        }

    figures["cold_cli_budget_s"] = cold_cli(url, queries[0])
    figures["cold_cli_report_s"] = cold_cli(url, queries[0], "report")
    figures["cold_python_s"] = cold_python()
    rebuilt = cold_rebuild(url)
    if rebuilt is not None:
        figures["cold_rebuild"] = {"seconds": rebuilt[0], "maxrss_mb": rebuilt[1]}

    # Last, so that its memory never counts in the ledger's peak RSS above.
    raw_insert = raw_insert_rate(ledger, url)
    if raw_insert is not None:
        rows, insert_s = raw_insert
        figures["raw_insert"] = {"rows": rows, "seconds": insert_s, "rows_per_s": rows / insert_s}
    raw_batches = raw_insert_rate(ledger, url, per_batch=True)
    if raw_batches is not None:
        rows, insert_s = raw_batches
        figures["raw_insert_batches"] = {
            "rows": rows,
            "seconds": insert_s,
            "rows_per_s": rows / insert_s,
        }
    figures["aims"] = aims(figures)
    print_table(figures)

    profiles: dict[str, str] = figures.setdefault("profiles", {})
    if imported.profile:
        print(f"\n--- cProfile: import, every 10th batch ---\n{imported.profile}")
    if args.profile:
        for s in series:
            if s.p50 > TARGET_QUERY_P50_MS:
                profiles[s.name] = profile(ledger, s.fn, queries[:50], s.mode)
                print(f"\n--- cProfile: {s.name}, 50 queries ---\n{profiles[s.name]}")

    if args.json_out:
        Path(args.json_out).write_text(json.dumps(figures, indent=2, default=str) + "\n")
    ledger.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
