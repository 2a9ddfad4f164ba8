"""Benchmark: `biv archive export` of one agreement from a municipality-scale store.

A script, not a test. It generates N agreements over Y years through the real API (as
`benchmarks/projections.py` does), then times, median of `--repeat` runs each:
- the walk of the whole chain (`Ledger.verify_chain`, what `biv audit verify` does), the
  baseline: the package must read and check every row of the store to prove its facts;
- the package of one agreement, as a folder and as a zip (the export includes one walk of
  the chain, the log's tree over every chain hash, the auditor's pack for its PDF, the XML);
- the package's own checker (`verify_package.py`, the standard library alone);
and prints each with its ratio to the walk.

    python benchmarks/archive.py --agreements 50 --years 7
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.builders import Clock

from benchmarks.scale import Generated, all_batches
from biv_adapters.archive import package
from biv_adapters.stores.registry import open_ledger
from biv_domain.ledger import Line


def median_seconds(run: Callable[[int], object], repeat: int) -> float:
    times = []
    for attempt in range(repeat):
        started = time.perf_counter()
        run(attempt)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agreements", type=int, default=50)
    parser.add_argument("--years", type=int, default=7)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        clock = Clock()
        ledger = open_ledger(f"sqlite://{work}/bench.sqlite3", clock=clock)
        generated = Generated()
        for batch in all_batches(args.agreements, args.years, args.seed, generated):
            clock.set(batch.recorded_at)
            ledger.execute_all([Line(n, c) for n, c in enumerate(batch.commands, 1)])
        facts = ledger.chain_head().position
        case = generated.plans[0].case_number
        on = (generated.last_recorded or datetime.now(UTC)).date()
        walk = median_seconds(lambda _: ledger.verify_chain(), args.repeat)
        as_folder = median_seconds(
            lambda i: package.export(ledger, case, work / f"p{i}", on), args.repeat
        )
        as_zip = median_seconds(
            lambda i: package.export(ledger, case, work / f"z{i}.zip", on), args.repeat
        )
        summary = package.export(ledger, case, work / "checked", on)
        checker = work / "checked" / "documentation" / "verify_package.py"
        check = median_seconds(
            lambda _: subprocess.run(
                [sys.executable, "-I", str(checker), str(work / "checked")],
                check=True,
                capture_output=True,
            ),
            args.repeat,
        )
        ledger.close()
    print(
        f"store: SQLite, {args.agreements} agreements over {args.years} years, {facts} facts; "
        f"the package of {case}: {summary['facts']} facts, median of {args.repeat}"
    )
    rows = [
        ("walk of the whole chain (audit verify)", walk),
        ("archive export, folder", as_folder),
        ("archive export, zip", as_zip),
        ("verify_package.py on the folder", check),
    ]
    for name, seconds in rows:
        print(f"{name:<40} {seconds * 1000:9.1f} ms  {seconds / walk:6.2f}x the walk")
    return 0


if __name__ == "__main__":
    sys.exit(main())
