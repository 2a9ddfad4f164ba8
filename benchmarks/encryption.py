"""What children's keys and encryption at rest cost, on import and on a report, in one run.

Three SQLite stores get the same history (the Linköping demo's, copied under
new case numbers and references): without sealing participants' fields (the
baseline, as format 2 stored them), with a key per child (the default), and
with a key per child and the store encrypted (BIV_CIPHER_KEY). Prints each
figure beside the baseline's, with the ratio; `--json` writes the figures.

    python benchmarks/encryption.py --copies 20 --queries 50
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from biv_adapters.demo import CASE_NUMBER, linkoping_lines
from biv_adapters.exchange import read_lines
from biv_adapters.stores.registry import new_cipher_key, open_ledger
from biv_domain.model.dates import Period

WINDOW = Period(date(2023, 4, 1), date(2024, 3, 31))


def copies(n: int) -> list[list[str]]:
    """The demo's history n times over, each under its own case number and references."""
    lines = linkoping_lines()
    result = []
    for i in range(n):
        case = f"Dnr 2099-{i:04d}"
        result.append(
            [
                line.replace(CASE_NUMBER, case)
                .replace('"ILL-', f'"C{i:04d}-ILL-')
                .replace('"id": "linkoping/', f'"id": "copy{i:04d}/')
                for line in lines
            ]
        )
    return result


def _names_nobody(_type_name: str) -> bool:
    return False


@contextmanager
def variant(name: str) -> Iterator[str | None]:
    """The store key to use, with participants' sealing switched off for the baseline."""
    if name == "plain":
        # Every module that asks whether a fact names participants: the write path's
        # sealing (and its key look-ups) and the codec's (`envelope`). A plain function, not a Mock:
        # a Mock's call costs some 15 us, which made the baseline the slowest of the three.
        with (
            mock.patch("biv_domain.ledger.sealing.is_personal", new=_names_nobody),
            mock.patch("biv_domain.ledger.envelope.is_personal", new=_names_nobody),
        ):
            yield None
    else:
        yield new_cipher_key() if name == "encrypted" else None


def measure(name: str, batches: list[list[str]], queries: int, folder: Path) -> dict[str, Any]:
    url = f"sqlite://{folder}/{name}.sqlite3"
    with variant(name) as key:
        ledger = open_ledger(url, cipher_key=key)
        started = time.perf_counter()
        facts = 0
        for batch in batches:
            facts += len(ledger.execute_all(read_lines(batch)).facts)
        import_s = time.perf_counter() - started
        ledger.close()
        reader = open_ledger(url, cipher_key=key)  # a fresh process's view: cold caches
        cases = [f"Dnr 2099-{i:04d}" for i in range(len(batches))]
        timings = []
        for n in range(queries):
            started = time.perf_counter()
            reader.report(cases[n % len(cases)], WINDOW)
            timings.append((time.perf_counter() - started) * 1000)
        reader.close()
    return {
        "facts": facts,
        "import_facts_per_s": facts / import_s,
        "report_p50_ms": statistics.median(timings),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--copies", type=int, default=20)
    parser.add_argument("--queries", type=int, default=50)
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args()
    batches = copies(args.copies)
    with tempfile.TemporaryDirectory() as folder:
        figures = {v: measure(v, batches, args.queries, Path(folder)) for v in VARIANTS}
    base = figures["plain"]
    print(f"{args.copies} copies of the Linköping history, {base['facts']} facts, SQLite")
    print(f"{'store':<12}{'import facts/s':>16}{'× plain':>9}{'report p50 ms':>15}{'× plain':>9}")
    for name, f in figures.items():
        print(
            f"{name:<12}{f['import_facts_per_s']:>16.0f}"
            f"{f['import_facts_per_s'] / base['import_facts_per_s']:>9.2f}"
            f"{f['report_p50_ms']:>15.2f}{f['report_p50_ms'] / base['report_p50_ms']:>9.2f}"
        )
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n", "utf-8")


VARIANTS = ("plain", "per-child", "encrypted")

if __name__ == "__main__":
    main()
