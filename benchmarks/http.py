"""Benchmark: a budget and a report over HTTP (`biv serve`) beside the same queries in Python.

A script, not a test. On a store built as benchmarks/projections.py builds it
(`populate`: N agreements over Y years through the real API, ~1,250 facts an
agreement; `--agreements 800` is ~1M facts and takes a few minutes), it measures
in one run, for the same random agreements, dates and windows:

- the Python API: `budget_document` and `report_document` (biv_adapters/documents.py,
  the builders `biv serve` answers with), and the document's JSON text as the server
  writes it, so both sides do the same work but the HTTP;
- `biv serve` started as a process on a free loopback port (no rate limit): one httpx
  client with keep-alive, sequential requests; then `--threads` clients side by side.
  Each series is bounded by `--requests` and `--seconds`.

It prints p50/p99 of each side, the HTTP requests per second sequential and
concurrent, and the ratio HTTP/API of the p50s.

    python benchmarks/http.py                            # a fresh SQLite file, 800 agreements
    python benchmarks/http.py --agreements 200 --store sqlite:///tmp/b200.sqlite3  # built
    python benchmarks/http.py --agreements 200 --store sqlite:///tmp/b200.sqlite3  # reused

An empty store is filled; a store that is not empty is reused as it is, and the
queries are drawn from the same generation (give the `--agreements`, `--years` and
`--seed` it was built with).
"""

# ruff: noqa: E402  (the imports after the path is set, as the script needs)
from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

# Run as a script (`python benchmarks/http.py`), its folder comes first on the path, and
# this file would stand in for the standard library's `http` (httpx needs it): take the
# folder off, and put the repository's root there, so that `benchmarks` and `tests` import.
HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
sys.path.insert(0, str(HERE.parent))

import httpx
from tests.builders import Clock, biv_serve

from benchmarks.measures import Query, make_queries
from benchmarks.projections import populate
from benchmarks.scale import Generated, all_batches
from biv_adapters.documents import budget_document, report_document
from biv_adapters.http.endpoints import ENDPOINTS
from biv_adapters.stores.registry import open_ledger
from biv_domain.converter import json_text
from biv_domain.ledger import Ledger

INDENT = {e.name: not e.compact for e in ENDPOINTS}  # the server's JSON text, per endpoint


# --- The queries, each side ------------------------------------------------------------------


def api_budget(ledger: Ledger, q: Query) -> str:
    return json_text(budget_document(ledger, q.case_number, q.on), indent=INDENT["budget"])


def api_report(ledger: Ledger, q: Query) -> str:
    # On loopback without a token the caller is the local user, with every role: an
    # auditor, so the server answers the report in full, as `public=False` here.
    document = report_document(ledger, q.case_number, q.window)
    return json_text(document, indent=INDENT["report"])


def path_budget(q: Query) -> str:
    return f"/agreements/{quote(q.case_number)}/budget?on={q.on.isoformat()}"


def path_report(q: Query) -> str:
    w = q.window
    return f"/agreements/{quote(q.case_number)}/report?from={w.start}&to={w.end}"


@dataclass(frozen=True)
class Kind:
    name: str
    api: Callable[[Ledger, Query], str]
    path: Callable[[Query], str]


KINDS = (Kind("budget", api_budget, path_budget), Kind("report", api_report, path_report))


# --- Timing -----------------------------------------------------------------------------------


def p50(times: Sequence[float]) -> float:
    return statistics.median(times)


def p99(times: Sequence[float]) -> float:
    return statistics.quantiles(times, n=100, method="inclusive")[98]


def summary(times: Sequence[float], seconds: float) -> dict[str, float]:
    return {
        "requests": len(times),
        "seconds": seconds,
        "per_s": len(times) / seconds,
        "p50_ms": p50(times),
        "p99_ms": p99(times),
        "mean_ms": statistics.fmean(times),
        "max_ms": max(times),
    }


def bounded(queries: Sequence[Query], count: int, seconds: float) -> Iterator[Query]:
    """The queries round and round, until `count` are given or `seconds` have passed."""
    deadline = time.perf_counter() + seconds
    for n in range(count):
        if n >= 20 and time.perf_counter() > deadline:
            return
        yield queries[n % len(queries)]


def time_api(ledger: Ledger, kind: Kind, queries: Sequence[Query], args: Any) -> dict[str, float]:
    for q in queries[:5]:  # warm up
        kind.api(ledger, q)
    times = []
    started = time.perf_counter()
    for q in bounded(queries, args.requests, args.seconds):
        t = time.perf_counter()
        kind.api(ledger, q)
        times.append((time.perf_counter() - t) * 1000)
    return summary(times, time.perf_counter() - started)


def get(client: httpx.Client, path: str) -> bytes:
    response = client.get(path)
    if response.status_code != 200:
        raise RuntimeError(f"GET {path}: {response.status_code} {response.text[:300]}")
    return response.content


def time_sequential(base: str, kind: Kind, queries: Sequence[Query], args: Any) -> dict[str, float]:
    with httpx.Client(base_url=base, timeout=60) as client:
        for q in queries[:5]:  # warm up, and the connection kept alive after
            get(client, kind.path(q))
        times = []
        started = time.perf_counter()
        for q in bounded(queries, args.requests, args.seconds):
            t = time.perf_counter()
            get(client, kind.path(q))
            times.append((time.perf_counter() - t) * 1000)
        return summary(times, time.perf_counter() - started)


def time_concurrent(base: str, kind: Kind, queries: Sequence[Query], args: Any) -> dict[str, float]:
    """`args.threads` clients, each with its own keep-alive connection, sharing the bounds."""
    lock = threading.Lock()
    times: list[float] = []
    failures: list[BaseException] = []
    budget = iter(bounded(queries, args.requests, args.seconds))

    def client_thread(clients: httpx.Client) -> None:
        try:
            while True:
                with lock:
                    q = next(budget, None)
                if q is None:
                    return
                t = time.perf_counter()
                get(clients, kind.path(q))
                elapsed = (time.perf_counter() - t) * 1000
                with lock:
                    times.append(elapsed)
        except BaseException as failure:  # reported after the join
            failures.append(failure)

    clients = [httpx.Client(base_url=base, timeout=60) for _ in range(args.threads)]
    try:
        for c in clients:  # each connection opened and warm before the clock starts
            get(c, kind.path(queries[0]))
        threads = [threading.Thread(target=client_thread, args=(c,)) for c in clients]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        seconds = time.perf_counter() - started
    finally:
        for c in clients:
            c.close()
    if failures:
        raise failures[0]
    return summary(times, seconds)


# --- The server -------------------------------------------------------------------------------


@contextmanager
def serving(url: str, wait: float = 180) -> Iterator[str]:
    """`biv serve` on `url` on a free loopback port, without a rate limit; stopped after."""
    with biv_serve(url, "--host", "127.0.0.1", "--rate-limit", "0", wait=wait) as base:
        yield base


# --- The store --------------------------------------------------------------------------------


def prepare(ledger: Ledger, clock: Clock, args: argparse.Namespace) -> tuple[Generated, str]:
    """The generation the queries are drawn from: stored now, or regenerated for a full store."""
    generated = Generated()
    if not ledger.app.recorder.max_notification_id():
        build = argparse.Namespace(**vars(args), profile=False)
        imported = populate(ledger, clock, build, generated)
        return generated, f"built in {imported.seconds:.0f} s"
    for batch in all_batches(args.agreements, args.years, args.seed, generated):
        generated.last_recorded = batch.recorded_at
    for plan in (generated.plans[0], generated.plans[-1]):
        ledger.agreement(plan.case_number)  # NotFound: not the generation this store holds
    return generated, "reused"


# --- The run ----------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--store", metavar="URL", help="default: a fresh SQLite file in a temp dir")
    parser.add_argument("--agreements", type=int, default=800, metavar="N")
    parser.add_argument("--years", type=int, default=7, metavar="Y")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--queries", type=int, default=200, metavar="Q", help="distinct queries")
    parser.add_argument("--requests", type=int, default=1000, metavar="R", help="at most, a series")
    parser.add_argument("--seconds", type=float, default=20, metavar="S", help="at most, a series")
    parser.add_argument("--threads", type=int, default=4, metavar="T", help="concurrent clients")
    parser.add_argument("--json-out", metavar="FILE", help="save the figures as JSON")
    args = parser.parse_args(argv)
    if min(args.agreements, args.years, args.threads) < 1 or args.queries < 20:
        parser.error("need --agreements, --years, --threads >= 1 and --queries >= 20")
    if args.requests < 100 or args.seconds <= 0:
        parser.error("need --requests >= 100 (for a p99) and --seconds > 0")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    temp: tempfile.TemporaryDirectory[str] | None = None
    url = args.store
    if url is None:
        temp = tempfile.TemporaryDirectory(prefix="biv-bench-http-")
        url = f"sqlite://{temp.name}/bench.sqlite3"
    if url.startswith("memory:"):
        print("biv serve runs in a process of its own: give a store it can open", file=sys.stderr)
        return 2
    try:
        return run(args, url)
    finally:
        if temp is not None:
            temp.cleanup()


def run(args: argparse.Namespace, url: str) -> int:
    clock = Clock(step=timedelta(0))
    ledger = open_ledger(url, clock=clock)
    print(f"store {url}: {args.agreements} agreements x {args.years} years", file=sys.stderr)
    generated, how = prepare(ledger, clock, args)
    facts = ledger.app.recorder.max_notification_id() or 0
    print(f"  {facts:,} facts, {how}", file=sys.stderr, flush=True)
    queries = make_queries(generated, args.queries, random.Random(f"{args.seed}/http"))
    figures: dict[str, Any] = {
        "benchmark": "http",
        "store": url,
        "facts": facts,
        "agreements": args.agreements,
        "years": args.years,
        "seed": args.seed,
        "queries": args.queries,
        "requests": args.requests,
        "seconds": args.seconds,
        "threads": args.threads,
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "command": " ".join(sys.argv),
        "queries_ms": {},
    }
    api = {k.name: time_api(ledger, k, queries, args) for k in KINDS}
    with serving(url) as base:
        with httpx.Client(base_url=base, timeout=60) as client:
            for kind in KINDS:  # the same document both ways, or the comparison means nothing
                http_document = json.loads(get(client, kind.path(queries[0])))
                if http_document != json.loads(kind.api(ledger, queries[0])):
                    raise RuntimeError(f"{kind.name}: HTTP and the API answer differently")
        for kind in KINDS:
            print(f"  {kind.name}: HTTP ...", file=sys.stderr, flush=True)
            sequential = time_sequential(base, kind, queries, args)
            concurrent = time_concurrent(base, kind, queries, args)
            figures["queries_ms"][kind.name] = {
                "api": api[kind.name],
                "http_sequential": sequential,
                "http_concurrent": concurrent,
                "http_over_api_p50": sequential["p50_ms"] / api[kind.name]["p50_ms"],
            }
    ledger.close()
    print_table(figures)
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(figures, indent=2) + "\n")
    return 0


def table(f: dict[str, Any]) -> list[str]:
    """The run's table in Markdown (printed, and on docs/benchmarks.md by write_docs.py)."""
    t = f["threads"]
    out = [
        "| query | API p50 / p99 ms | HTTP p50 / p99 ms | HTTP rps sequential "
        f"| HTTP rps, {t} clients | HTTP p50 / p99 ms, {t} clients | HTTP / API p50 |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, q in f["queries_ms"].items():
        a, s, c = q["api"], q["http_sequential"], q["http_concurrent"]
        out.append(
            f"| {name} | {a['p50_ms']:.2f} / {a['p99_ms']:.2f} "
            f"| {s['p50_ms']:.2f} / {s['p99_ms']:.2f} | {s['per_s']:.0f} | {c['per_s']:.0f} "
            f"| {c['p50_ms']:.2f} / {c['p99_ms']:.2f} | {q['http_over_api_p50']:.2f} |"
        )
    return out


def print_table(f: dict[str, Any]) -> None:
    print()
    print(f"store  {f['store']}: {f['facts']:,} facts ({f['agreements']} agreements)")
    print(f"runs   {f['cpus']} CPUs, Python {f['python']}, at most {f['requests']} requests or")
    print(f"       {f['seconds']:g} s a series, {f['threads']} concurrent clients")
    print()
    print("\n".join(table(f)))


if __name__ == "__main__":
    sys.exit(main())
