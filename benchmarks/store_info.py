"""What `store info` costs: walking every row (as it did) against the counts kept as it writes.

An SQLite store gets the Linköping demo's history N times over (each copy under its
own case number and references); then `store info` is asked `--queries` times the old
way (every row's envelope read) and the new (the kept counts, and the rows after them:
none), and a batch is written with and without the counts kept in its transaction.
Prints the medians and their ratios; `--json FILE` writes the figures.

    python benchmarks/store_info.py --copies 100 --queries 9
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.encryption import copies
from biv_adapters.exchange import read_lines
from biv_adapters.stores.registry import open_ledger
from biv_domain.ledger import Ledger
from biv_domain.ledger.envelope import read_envelope
from biv_domain.ledger.store_info import store_info


def walk_every_row(ledger: Ledger) -> Counter[tuple[str, int]]:
    """The facts by type and version as store info counted them before: every row read."""
    return Counter((row.topic, read_envelope(row).type_version) for row in ledger.rows())


def median_ms(run: Any, times: int) -> float:
    spent = []
    for _ in range(times):
        start = time.perf_counter()
        run()
        spent.append((time.perf_counter() - start) * 1000)
    return statistics.median(spent)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=100)
    parser.add_argument("--queries", type=int, default=9)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        ledger = open_ledger(f"sqlite://{folder}/bench.sqlite3", actor="bench")
        for lines in copies(args.copies):
            ledger.execute_all(read_lines(lines))
        facts = ledger.chain_head().position
        assert store_info(ledger).facts == sum(walk_every_row(ledger).values())  # the backfill
        walked = median_ms(lambda: walk_every_row(ledger), args.queries)
        kept = median_ms(lambda: store_info(ledger), args.queries)
        line = '{"id": "b-%d", "command": "set_target", "case_number": "Dnr 2099-0000", '
        line += '"target": "children_per_year", "value": %d, "decided_on": "2017-04-01"}'
        n = iter(range(10**6))

        def batch() -> None:
            i = next(n)
            ledger.execute_all(read_lines([line % (i, i % 90 + 1)]))

        # Taken in turns, so that the machine's drift falls on both alike
        counts = ledger.fact_counts
        spent: dict[bool, list[float]] = {True: [], False: []}
        for i in range(args.queries * 10):
            keeping = i % 2 == 0
            ledger.fact_counts = counts if keeping else None
            spent[keeping].append(median_ms(batch, 1))
        ledger.fact_counts = counts
        with_counts = statistics.median(spent[True])
        without_counts = statistics.median(spent[False])
        ledger.close()
    figures = {
        "facts": facts,
        "store_info_walking_every_row_ms": round(walked, 2),
        "store_info_from_kept_counts_ms": round(kept, 2),
        "speedup": round(walked / kept, 1),
        "one_line_batch_with_counts_ms": round(with_counts, 3),
        "one_line_batch_without_counts_ms": round(without_counts, 3),
        "batch_ratio": round(with_counts / without_counts, 3),
    }
    for name, value in figures.items():
        print(f"{name:36} {value}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n", "utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
