"""Start-up and paging: what a script calling `biv` many times pays, and a history's pages.

A script, not a test. Part one times fresh processes against `python -c pass` in the same
run (medians): `biv --version`, `biv --help`, and queries on an SQLite store of the demo.
Aims (issue 25): --version and --help at most 3 x Python's start, a query at most 5 x.

Part two builds N agreements over seven years (`benchmarks.scale`, 800 make ~1M facts) in
SQLite and times, for random agreements: the whole history, a page of 200 facts (the first,
and one from the middle), and the history's floor (its rows read in one query and parsed,
`measures.run_history_raw`). Aims: a page p50 at most 3 ms, the whole at most 2.5 x the floor.

    python -m benchmarks.start_up --runs 15 --agreements 200
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from tests.builders import Clock

from benchmarks.measures import (
    Query,
    find_history_streams,
    make_queries,
    run_history_page_raw,
    run_history_raw,
)
from benchmarks.scale import Generated, all_batches
from biv_adapters.demo import CASE_NUMBER
from biv_adapters.stores.registry import open_ledger
from biv_domain.ledger import Ledger, Line

BIV = str(Path(sys.executable).parent / "biv")
PAGE = 200
REPORT_WINDOW = ("--from", "2023-04-01", "--to", "2024-03-31")


def median_seconds(command: list[str], runs: int, env: dict[str, str] | None = None) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True, env=env)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def with_bytecode() -> dict[str, str]:
    """This environment without PYTHONDONTWRITEBYTECODE: the processes write and read their
    modules' bytecode (.pyc), as an installed wheel's are (pip compiles them)."""
    return {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}


def bytecode_cached() -> bool:
    """Whether the ledger's modules have their bytecode beside them (after the warm-up)."""
    import biv_domain.ledger.application as module

    return Path(importlib.util.cache_from_source(module.__file__)).exists()


def start_up(runs: int, folder: Path, against: Path | None = None) -> None:
    """Each command's fresh process as a user's script runs it: with bytecode.

    A machine that sets PYTHONDONTWRITEBYTECODE=1 (this one does) makes an editable
    checkout compile every module of ours from source in every process (~60 ms), which
    an embedder's installed wheel never does. So the processes run without it, and each
    command runs once, untimed, before the timed rounds: that warm-up writes the bytecode.
    The output says both, and the machine's load.

    `against`: the folder of another installation's `python` and `biv` (another commit's
    virtual environment, or one with the wheel installed), timed in the same interleaved
    rounds, each against its own `python -c pass`: before and after in one run, under the
    same load. The `python -c pass` of an editable checkout imports its import finder at
    start (pathlib and more, ~10 ms) and a wheel's does not, so the ratios of an editable
    checkout flatter: an embedder's are those of a wheel's environment.
    """
    env = with_bytecode()
    store = f"sqlite://{folder}/demo.sqlite3"
    subprocess.run([BIV, "demo", "--store", store], check=True, capture_output=True, env=env)
    installs = {"": Path(BIV).parent, **({"against ": against} if against else {})}
    commands: dict[str, tuple[list[str], float | None]] = {}
    for label, folder_of in installs.items():
        biv = str(folder_of / "biv")
        commands |= {
            f"{label}python -c pass": ([str(folder_of / "python"), "-c", "pass"], None),
            f"{label}biv --version": ([biv, "--version"], 3.0),
            f"{label}biv --help": ([biv, "--help"], 3.0),
            f"{label}biv budget CASE --on D --json": (
                [biv, "budget", CASE_NUMBER, "--on", "2023-10-01", "--json", "--store", store],
                5.0,
            ),
            f"{label}biv report CASE --from --to --json": (
                [biv, "report", CASE_NUMBER, *REPORT_WINDOW, "--json", "--store", store],
                5.0,
            ),
            f"{label}biv history CASE --limit 200 --json": (
                [biv, "history", CASE_NUMBER, "--limit", "200", "--json", "--store", store],
                None,
            ),
        }
    for command, _aim in commands.values():  # the warm-up: bytecode written, files cached
        median_seconds(command, 1, env)
    # Interleaved rounds, so that a busy moment of a shared machine falls on every command.
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, (command, _aim) in commands.items():
            times[name].append(median_seconds(command, 1, env))
    load = " ".join(f"{average:.2f}" for average in os.getloadavg())
    print(f"start-up, median of {runs} fresh processes (SQLite store of the demo)")
    print(
        "with bytecode: PYTHONDONTWRITEBYTECODE unset, one warm-up run a command "
        f"(bytecode cached: {'yes' if bytecode_cached() else 'NO'}); load average {load}"
    )
    if any(name.startswith("__editable__") for name in sys.modules):
        print(
            "this python is an editable checkout's: its python -c pass loads the checkout's "
            "import finder (~10 ms) that a wheel's does not (compare with --against a wheel's bin/)"
        )
    if against:
        print(f"against: {against} (its own python -c pass), in the same rounds")
    print(f"{'command':48} {'ms':>8} {'x python':>9}  aim")
    for name, (_command, aim) in commands.items():
        label = "against " if name.startswith("against ") else ""
        seconds = statistics.median(times[name])
        ratio = seconds / statistics.median(times[f"{label}python -c pass"])
        verdict = "" if aim is None else f"<= {aim:g} x: {'met' if ratio <= aim else 'NOT met'}"
        print(f"{name:48} {seconds * 1000:8.1f} {ratio:9.2f}  {verdict}")


def build(agreements: int, years: int, folder: Path) -> tuple[Ledger, Generated]:
    clock = Clock()
    ledger = open_ledger(f"sqlite://{folder}/scale.sqlite3", clock=clock)
    generated = Generated()
    started = time.perf_counter()
    for batch in all_batches(agreements, years, 7, generated):
        clock.set(batch.recorded_at)
        ledger.execute_all([Line(n, c) for n, c in enumerate(batch.commands, 1)])
        generated.last_recorded = batch.recorded_at
    facts = ledger.chain_head().position
    print(
        f"\nbuilt {facts:,} facts ({agreements} agreements, {years} years) in "
        f"{time.perf_counter() - started:.0f} s",
        flush=True,
    )
    return ledger, generated


def p50_ms(times: list[float]) -> float:
    return statistics.median(times) * 1000


def paging(ledger: Ledger, generated: Generated, queries: int) -> None:
    rng = random.Random(25)
    asked: list[Query] = make_queries(generated, queries, rng)
    find_history_streams(ledger, asked)
    whole: list[float] = []
    first: list[float] = []
    middle: list[float] = []
    floor: list[float] = []
    page_floor: list[float] = []
    index: list[float] = []
    sizes: list[int] = []
    for q in asked:
        for _ in range(2):  # warm: the OS's cache holds the rows in every series alike
            positions = [f.position for f in ledger.history(q.case_number)]
        sizes.append(len(positions))
        cursor = positions[len(positions) // 2]
        for series, run in (
            (whole, lambda q=q: ledger.history(q.case_number)),
            (first, lambda q=q: ledger.history(q.case_number, limit=PAGE)),
            (middle, lambda q=q, c=cursor: ledger.history(q.case_number, after=c, limit=PAGE)),
            (floor, lambda q=q: run_history_raw(ledger, q, "plain")),
            (page_floor, lambda q=q: run_history_page_raw(ledger, q, 0, PAGE)),
            (index, lambda q=q: ledger.reads._index(q.case_number, None)),
        ):
            started = time.perf_counter()
            run()
            series.append(time.perf_counter() - started)
    print(f"history of {len(asked)} agreements, median {statistics.median(sizes):.0f} facts")
    print(f"{'series':34} {'p50 ms':>8}")
    for name, series in (
        ("whole history", whole),
        (f"first page of {PAGE}", first),
        (f"a middle page of {PAGE}", middle),
        ("floor: its rows read and parsed", floor),
        (f"a page's floor: {PAGE} rows, parsed", page_floor),
        ("its index of members (kept: new rows)", index),
    ):
        print(f"{name:34} {p50_ms(series):8.2f}")
    ratio = statistics.median(whole) / statistics.median(floor)
    page = max(p50_ms(first), p50_ms(middle))
    print(
        f"page p50 {page:.2f} ms (aim <= 3 ms: {'met' if page <= 3 else 'NOT met'}); "
        f"whole / floor {ratio:.2f} x (aim <= 2.5 x: {'met' if ratio <= 2.5 else 'NOT met'})"
    )
    # Where a page's time goes: its rows (the page's floor), the index of members that names
    # its streams (kept by the reader: only its new rows read), and the rest, making the facts
    # (the envelope read, a child's fields opened).
    rows, members_ms = p50_ms(page_floor), p50_ms(index)
    print(
        f"a first page: {rows:.2f} ms its rows, {members_ms:.2f} ms the index of members, "
        f"{p50_ms(first) - rows - members_ms:.2f} ms the rest (making {PAGE} facts)"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=15, help="fresh processes a command")
    parser.add_argument("--agreements", type=int, default=200, help="800 make ~1M facts")
    parser.add_argument("--years", type=int, default=7)
    parser.add_argument("--queries", type=int, default=60)
    parser.add_argument("--skip-paging", action="store_true")
    parser.add_argument("--against", type=Path, help="another virtualenv's bin/, timed alike")
    args = parser.parse_args()
    print(f"{date.today()}: a shared machine; figures are medians of one run")
    with tempfile.TemporaryDirectory(prefix="biv-start-up-") as folder:
        start_up(args.runs, Path(folder), args.against)
        if not args.skip_paging:
            ledger, generated = build(args.agreements, args.years, Path(folder))
            try:
                paging(ledger, generated, args.queries)
            finally:
                ledger.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
