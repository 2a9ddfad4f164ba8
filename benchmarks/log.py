"""Benchmark: the log (issue 21): import with the tree kept against without it, checkpoints,
proofs, a receipt's check, and `audit verify` against a checkpoint (linear in the store).

A script, not a test. In one run it stores the generated municipality (`benchmarks.scale`, as
`benchmarks/projections.py` does: each agreement's half-year one batch) twice on fresh stores of
the same kind: once with the log's tree kept in each batch's transaction and its checkpoint
signed (BIV_LOG_KEY), once with the tree left out (the ledger's `_logging` replaced by nothing:
the import as it was before the log). Then, on the store with the tree, in a warm process:

- a signed checkpoint of the current size (`Ledger.checkpoint`), p50 and p99;
- inclusion proofs of random positions in trees of random sizes, p50 and p99;
- consistency proofs between random sizes M <= N, p50 and p99;
- the offline check of a receipt of a 100-line batch (`receipts.check_receipt`), p50;
- `verify_checkpoint` against checkpoints of a quarter, half and all of the store: us a fact.

    python benchmarks/log.py --agreements 200                 # SQLite, 250k facts
    python benchmarks/log.py --agreements 800                 # SQLite, 1M facts
    python benchmarks/log.py --store 'postgresql://postgres@127.0.0.1:5432/postgres'
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.builders import Clock, exchange_lines

from benchmarks.scale import Generated, all_batches
from biv_adapters.exchange import read_lines
from biv_adapters.stores.registry import open_ledger
from biv_domain.ledger import Ledger, Line
from biv_domain.ledger.log_verification import verify_checkpoint
from biv_domain.ledger.note import Checkpoint, Note, Signer
from biv_domain.ledger.receipts import check_receipt, receipt_of


def populate(
    ledgers: Sequence[Ledger], clock: Clock, agreements: int, years: int, seed: int
) -> tuple[int, list[float]]:
    """Stores every generated batch in each ledger in turn (so that the shared machine's load
    falls on each alike); returns the facts stored and each ledger's seconds in its batches."""
    facts, seconds = 0, [0.0] * len(ledgers)
    for n, batch in enumerate(all_batches(agreements, years, seed, Generated())):
        clock.set(batch.recorded_at)
        lines = [Line(i, c) for i, c in enumerate(batch.commands, 1)]
        order = list(enumerate(ledgers))
        for i, ledger in order if n % 2 else reversed(order):  # each goes first in turn
            started = time.perf_counter()
            receipt = ledger.execute_all(lines)
            seconds[i] += time.perf_counter() - started
        facts += len(receipt.facts)
    return facts, seconds


def percentile(times: Sequence[float], q: float) -> float:
    ordered = sorted(times)
    return 1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def timed(fn: Callable[[], object], runs: int) -> dict[str, float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return {"p50_ms": percentile(times, 0.5), "p99_ms": percentile(times, 0.99), "runs": runs}


@contextmanager
def fresh_store(base: str | None, name: str) -> Iterator[str]:
    if base is None:
        with tempfile.TemporaryDirectory() as folder:
            yield f"sqlite://{folder}/{name}.sqlite3"
        return
    import psycopg
    from psycopg import sql

    schema = f"bench_log_{name}_{uuid.uuid4().hex[:8]}"
    try:
        yield f"{base}?schema={schema}"
    finally:
        with psycopg.connect(base, autocommit=True) as connection:
            connection.execute(
                sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema))
            )


def import_rates(base: str | None, args: argparse.Namespace) -> dict[str, Any]:
    """The import with the tree and without, batch by batch in turn, on fresh stores."""
    with fresh_store(base, "plain") as plain_url, fresh_store(base, "tree") as tree_url:
        clock = Clock(step=timedelta(0))
        plain, tree = open_ledger(plain_url, clock=clock), open_ledger(tree_url, clock=clock)
        tree.reads.log_key = Signer.generate("bench.example/biv")
        # The import as before the log: no nodes, no checkpoint.
        plain.reads.appending = lambda _placed, _size: nullcontext(None)  # type: ignore[method-assign,assignment,return-value]
        facts, (plain_s, tree_s) = populate(
            [plain, tree], clock, args.agreements, args.years, args.seed
        )
        for name, seconds in (("without the tree", plain_s), ("with the tree", tree_s)):
            print(
                f"  import {name}: {facts:,} facts, {facts / seconds:,.0f} facts/s", file=sys.stderr
            )
        found: dict[str, Any] = {
            "facts": facts,
            "without_tree_facts_per_s": facts / plain_s,
            "with_tree_facts_per_s": facts / tree_s,
            "import_ratio": plain_s / tree_s,
        }
        plain.close()
        found.update(questions(tree, clock, args))
        tree.close()
        return found


def questions(ledger: Ledger, clock: Clock, args: argparse.Namespace) -> dict[str, Any]:
    rng = random.Random(f"{args.seed}/log")
    size = ledger.log_size()
    found: dict[str, Any] = {"checkpoint": timed(ledger.checkpoint, args.queries)}

    def inclusion() -> None:
        n = rng.randint(1, size)
        ledger.inclusion_proof(rng.randint(1, n), n)

    def consistency() -> None:
        n = rng.randint(2, size)
        ledger.consistency_proof(rng.randint(1, n - 1), n)

    found["inclusion"] = timed(inclusion, args.queries)
    found["consistency"] = timed(consistency, args.queries)
    # A receipt of a 100-line batch (new agreements, groups and children), checked offline
    clock.set(clock.now + timedelta(days=1))
    stored = ledger.execute_all(read_lines([json.dumps(line) for line in exchange_lines(100)]))
    started = time.perf_counter()
    receipt = receipt_of(ledger, stored)
    found["receipt_make_ms"] = 1000 * (time.perf_counter() - started)
    found["receipt_facts"] = sum(len(line.facts) for line in receipt.lines)
    key = ledger.log_key.verifier  # type: ignore[union-attr]
    found["receipt_check"] = timed(lambda: check_receipt(receipt, key), 20)
    # verify against checkpoints of a quarter, half and all of the store: linear?
    verify: dict[str, float] = {}
    signer = ledger.log_key
    assert signer is not None
    size = ledger.log_size()
    for part in (4, 2, 1):
        m = size // part
        note = str(Note(Checkpoint(signer.name, m, ledger.log_root(m)).text, ()).signed_by(signer))
        started = time.perf_counter()
        assert verify_checkpoint(ledger, note, signer.verifier).holds
        elapsed = time.perf_counter() - started
        verify[str(m)] = 1e6 * elapsed / m
        print(
            f"  verify --checkpoint of {m:,} facts: {elapsed:.2f} s, "
            f"{1e6 * elapsed / m:.1f} us a fact",
            file=sys.stderr,
        )
    found["verify_us_per_fact"] = verify
    return found


AIMS = {  # issue 21's, at 1M facts
    "import_ratio": 0.9,
    "checkpoint": 5.0,
    "inclusion": 2.0,
    "consistency": 2.0,
    "receipt_check": 20.0,
}


def table(runs: Sequence[dict[str, Any]]) -> str:
    """The section of docs/benchmarks.md, from the runs' JSON (`--table FILE…`)."""

    def met(value: float, aim: float, higher: bool = False) -> str:
        return "met" if (value >= aim if higher else value <= aim) else "**not met**"

    rows = [
        "| store | facts | import without the tree | with it | ratio (aim >= 0.9) "
        "| checkpoint p50 / p99 | inclusion p50 / p99 | consistency p50 / p99 "
        "| receipt check p50 (100 lines) | verify --checkpoint, us a fact (1/4, 1/2, all) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for f in runs:
        postgres = f["store"] == "postgresql"
        proof_aim = 4.0 if postgres else 2.0

        def ms(name: str, aim: float, f: dict[str, Any] = f) -> str:
            p50, p99 = f[name]["p50_ms"], f[name]["p99_ms"]
            return f"{p50:.2f} / {p99:.1f} ms ({met(p50, aim)})"

        verify = ", ".join(f"{v:.0f}" for v in f["verify_us_per_fact"].values())
        rows.append(
            f"| {f['store']} | {f['facts']:,} | {f['without_tree_facts_per_s']:,.0f} facts/s "
            f"| {f['with_tree_facts_per_s']:,.0f} facts/s "
            f"| {f['import_ratio']:.3f} ({met(f['import_ratio'], 0.9, higher=True)}) "
            f"| {ms('checkpoint', AIMS['checkpoint'])} | {ms('inclusion', proof_aim)} "
            f"| {ms('consistency', proof_aim)} "
            f"| {f['receipt_check']['p50_ms']:.1f} ms, {f['receipt_facts']} facts "
            f"({met(f['receipt_check']['p50_ms'], AIMS['receipt_check'])}) | {verify} |"
        )
    return "\n".join(rows)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--store", help="a PostgreSQL server URL (default: SQLite in a temp dir)")
    parser.add_argument("--agreements", type=int, default=200)
    parser.add_argument("--years", type=int, default=7)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--json-out")
    parser.add_argument("--table", nargs="+", metavar="JSON", help="print the docs' rows of runs")
    args = parser.parse_args(argv)
    if args.table:
        print(table([json.loads(Path(name).read_text()) for name in args.table]))
        return 0
    figures: dict[str, Any] = {
        "kind": "log",
        "store": "postgresql" if args.store else "sqlite",
        "agreements": args.agreements,
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "command": " ".join(sys.argv),
    }
    figures.update(import_rates(args.store, args))
    print(json.dumps(figures, indent=2))
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(figures, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
