"""`biv audit verify` is linear in the store: its time per fact at two sizes, chain and whole.

Builds a municipality-scale store (`benchmarks.scale`) of N agreements, then of 4N, on
SQLite (or the PostgreSQL URL given), and times `audit verify`: the chain's walk alone
(`verification.verify` over the stored rows, as before issue 21), and the whole check
(`Ledger.verify_chain`: the chain, the seals, every fact read, the participants' keys and
the funding view folded again), beside only reading the rows from the store. Prints facts,
medians of --repeats runs, facts/s and the ratio of the time per fact at 4N to that at N
(1.0 is linear; the same ratio of the bare read shows what the store itself adds), as one
JSON object with --json.

    python -m benchmarks.verify --agreements 25 --years 6
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from tests.builders import Clock

from benchmarks.scale import Generated, all_batches
from biv_adapters.stores.registry import open_ledger
from biv_domain.ledger import Ledger, Line
from biv_domain.ledger.verification import verify


def build(url: str, agreements: int, years: int, seed: int) -> Ledger:
    clock = Clock(step=timedelta(0))
    ledger = open_ledger(url, clock=clock, actor="benchmark")
    for batch in all_batches(agreements, years, seed, Generated()):
        clock.set(batch.recorded_at)
        ledger.execute_all([Line(n, c) for n, c in enumerate(batch.commands, 1)])
    return ledger


def timed(run: Callable[[], Any], repeats: int) -> float:
    """The median wall time of `repeats` runs."""
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def measure(url: str, agreements: int, years: int, seed: int, repeats: int) -> dict[str, Any]:
    ledger = build(url, agreements, years, seed)
    try:
        whole = ledger.verify_chain()
        assert whole.intact, whole.problems or whole.first_break
        raw = timed(lambda: sum(1 for _ in ledger.rows()), repeats)
        chain = timed(lambda: verify(ledger.rows()), repeats)
        full = timed(ledger.verify_chain, repeats)
        return {
            "agreements": agreements,
            "facts": whole.facts,
            "read_rows_seconds": round(raw, 3),
            "chain_seconds": round(chain, 3),
            "whole_seconds": round(full, 3),
            "chain_facts_per_second": round(whole.facts / chain),
            "whole_facts_per_second": round(whole.facts / full),
            "whole_over_chain": round(full / chain, 2),
            "whole_over_read_rows": round(full / raw, 1),
        }
    finally:
        ledger.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agreements", type=int, default=25)
    parser.add_argument("--years", type=int, default=6)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--store", help="a PostgreSQL URL (default: a new SQLite file)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for scale, agreements in enumerate((args.agreements, 4 * args.agreements)):
            url = args.store or f"sqlite://{Path(folder) / f'verify-{scale}.sqlite3'}"
            if args.store:
                url = f"{args.store}{'&' if '?' in args.store else '?'}schema=verify_{scale}"
            rows.append(measure(url, agreements, args.years, args.seed, args.repeats))
    small, large = rows
    per_fact = (large["whole_seconds"] / large["facts"]) / (small["whole_seconds"] / small["facts"])
    reading = (large["read_rows_seconds"] / large["facts"]) / (
        small["read_rows_seconds"] / small["facts"]
    )
    result = {
        "runs": rows,
        "whole_time_per_fact_4n_over_n": round(per_fact, 2),
        "read_rows_time_per_fact_4n_over_n": round(reading, 2),
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return
    for row in rows:
        print(
            f"{row['facts']:>8} facts: chain {row['chain_seconds']:.3f} s "
            f"({row['chain_facts_per_second']} facts/s), whole {row['whole_seconds']:.3f} s "
            f"({row['whole_facts_per_second']} facts/s), whole/chain {row['whole_over_chain']}"
        )
    print(f"time per fact at 4N over N (whole check; 1.0 is linear): {per_fact:.2f}")
    print(f"the same for only reading the rows from the store: {reading:.2f}")


if __name__ == "__main__":
    main()
