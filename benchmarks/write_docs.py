# ruff: noqa: E501  (the page's text and its table rows read better unbroken)
"""Writes docs/benchmarks.md from the JSON of benchmark runs (`projections.py --json-out`).

    python benchmarks/write_docs.py sqlite-200.json sqlite-800.json postgres-200.json \\
        write-sqlite.json write-postgresql.json http-800.json

A run of `http.py --json-out` is its own section, "HTTP", at the end; the runs of `log.py` are
the section "The log (issue 21)" after it.

Each run's table is printed as the benchmark printed it; then the figures across runs:
250k against 1M facts (latency must not grow) and PostgreSQL against SQLite (within 2 x).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.table import aims

HEAD = """# Benchmarks

`benchmarks/projections.py` builds a municipality-scale store through the real API and measures
import, the funding view's rebuild and one agreement's queries, each beside a raw baseline measured
in the same run (a raw `executemany` of the same rows; a raw read + orjson of the rows the rebuild
reads), with the ratio and issue 12's aim. It is a script, not a test: these machines are shared and
noisy, so it reports medians and ratios. This page is written from its JSON by
`benchmarks/write_docs.py`; do not edit the tables by hand.

```sh
.venv/bin/python benchmarks/projections.py --agreements 800 --json-out sqlite-800.json   # 1M facts
.venv/bin/python benchmarks/projections.py --store 'postgresql://postgres@127.0.0.1:PORT/postgres?schema=bench' --json-out pg.json
.venv/bin/python benchmarks/write_docs.py sqlite-200.json sqlite-800.json pg.json > docs/benchmarks.md
```

The JSON of the runs below is kept in `benchmarks/results/`.

```sh
cd benchmarks/results && ../../.venv/bin/python ../write_docs.py sqlite-200.json sqlite-800.json \\
    postgresql-200.json write-sqlite.json write-postgresql.json http-sqlite-800.json \\
    log-sqlite-200.json log-sqlite-800.json log-postgresql-200.json log-postgresql-800.json \\
    > ../../docs/benchmarks.md
```

Each run's figures are judged by the aims in `benchmarks/table.py` when this page is written.

Options: `--agreements` (200: 250k facts; 800: 1M), `--years` (7), `--queries` (200 random agreements,
dates and times a series), `--seed`, `--profile`, `--no-tracemalloc`, `--json-out FILE`.

Each agreement's half-year is one batch, recorded 1-20 days after the half-year ends; one batch in ten is
recorded 60-150 days late, so `as_known_at` sees a history that moves. A query "as known at past" asks at a
random moment between the agreement's first record and the last; "latest" after the last record.
"""


READING = """## How to read it

- **Import / raw**: the issue's baseline is the same rows inserted with one `executemany` in one
  transaction, no Python per row. The import stores an agreement's half-year as one batch (about 90 facts)
  in a transaction of its own, as a municipality's system would, so the benchmark also measures the same
  rows inserted raw in those same transactions (an `executemany` and a COMMIT a batch): the store's own
  floor for this workload. What the import spends beyond it is Python per fact: reading the command,
  deciding (the pure deciders), sealing each child's fields under their key (AES-GCM) and naming them by
  pseudonym (HMAC), the envelope's canonical JSON, the chain's SHA-256 (about 45 us a fact in all, of which
  the store is about 8). 0.3 x one raw transaction would leave about 15 us a fact for all of that: not met.
  `benchmarks/write_path.py` (below) compares one large import with plain `eventsourcing` storing as many
  events in one transaction.
- **Import by tenth**: a process's later batches fold only what was stored since, so deciding does not read
  an agreement's years of history and the rate stays flat as the store grows. The generator's first and last
  tenths are smaller batches (about 40 and 30 facts against 85-94), and each batch has a fixed cost (chain
  head, seal, commit), so facts/s there falls with batch size; "ms a batch" shows the rest.
- **Rebuild on the rows it reads**: the rebuild reads only the view's two topics, filtered in the database
  (a scan of the whole table: most of the baseline's time); the baseline reads the same rows and
  `orjson.loads` them. The rebuild also structures each into an event, folds it and writes the view's rows
  in one transaction. "facts passed / s" divides by every fact of the log.
- **Queries**: each is a fresh random agreement, date and window, as the API answers it in a warm process;
  p99 of 200. A query reads its rows by stream and decodes each into a fact (about 8 us: the envelope read
  field by field, the event structured, a child's fields opened under keys read in one query a question).
  A budget reads the agreement's stream (~100 facts), a report that, the agreement's index of members
  (~110) and the 4 or so groups in its window. A history reads every fact of the agreement, its groups and
  follow-ups (~1 100 over seven years): the history's floor, its rows read in the same one query and
  orjson'd without making a fact, is shown beside it, and the history costs about 2.5 x that floor.
  The floor alone is 3.6-3.8 ms for 1 100 rows on SQLite, which leaves about 1 us a fact for making it
  (two objects, a child's pseudonyms turned into references): the 5 ms aim is not met for a seven-year
  history. By the same arithmetic a year's history (~160 facts) takes about 2 ms. Latency follows facts
  per agreement, not facts per store (see Growth). On PostgreSQL each query's aims are twice SQLite's
  (p50 <= 10 ms, p99 <= 40 ms), as the issue sets them.
- **A fresh process** (`biv budget`, `biv report`) is mostly Python start-up and imports; the query is the
  same few ms. No in-process cache helps it, and none is used for queries.
"""


def _label(f: dict[str, Any]) -> str:
    store = "PostgreSQL" if str(f["store"]).startswith("postgresql") else "SQLite"
    return f"{store}, {f['agreements']} agreements, {f['import']['facts']:,} facts"


def _table(f: dict[str, Any]) -> list[str]:
    out = [
        "| figure | measured | raw baseline (same run) | ratio | aim | |",
        "|---|---|---|---|---|---|",
    ]
    for a in aims(f):  # judged by today's aims, from the run's figures
        ratio = "" if a["ratio"] is None else f"{a['ratio']:.2f}"
        ok = "met" if a["ok"] else "**not met**"
        out.append(
            f"| {a['figure']} | {a['value']} | {a['baseline']} | {ratio} | {a['aim']} | {ok} |"
        )
    return out


HTTP = """## HTTP

`benchmarks/http.py` starts `biv serve` on a free loopback port (no rate limit) over a store built as above
and asks it for one agreement's budget and report, with httpx: one client with keep-alive, one request after
another, then {threads} clients side by side, each series at most {requests} requests or {seconds:g} s. In
the same run it asks the same random agreements, dates and windows through the Python API with the
builders the server answers with (`budget_document`, `report_document` in `biv_adapters/documents.py`) and
the JSON text the server writes, so the difference is HTTP: uvicorn, Starlette, the parameters, the thread
the query runs in, and the client. The report is the auditor's (loopback without a token is the local user).

```sh
.venv/bin/python benchmarks/http.py --agreements 800 --store sqlite:///tmp/b800.sqlite3 --json-out http-800.json
```

An empty store is built first (a few minutes at 800 agreements); a full one is reused as it is (give the
`--agreements`, `--years` and `--seed` it was built with). Options: `--queries` (200 distinct),
`--requests` (1000), `--seconds` (20), `--threads` (4), `--json-out FILE`.

Run {started_at} on {store}, {facts:,} facts ({agreements} agreements), Python {python}, {cpus} CPUs
shared with other work. The server and the clients share those CPUs, so the {threads} clients measure
how the service holds up under contention rather than how far it scales: the queries are Python and
hold the GIL.
"""


WRITE_PATH = """## The write path: `biv import` against plain `eventsourcing`

`benchmarks/write_path.py` generates N exchange lines (agreements, funding, groups, children, sessions)
and imports them as `biv import` does, every line in one batch, into a fresh store; in the same run,
plain `eventsourcing` stores as many events of small aggregates with one `app.save` (one transaction)
on the same kind of store. Each figure is the median of its runs, each run on fresh stores.

```sh
.venv/bin/python benchmarks/write_path.py --json-out write-sqlite.json
.venv/bin/python benchmarks/write_path.py --store 'postgresql://postgres@127.0.0.1:PORT/postgres' --json-out write-pg.json
```

| store | lines | facts | `biv import`, facts/s | plain `eventsourcing`, events/s | ratio | aim | |
|---|---|---|---|---|---|---|---|
"""


def _is_write_path(f: dict[str, Any]) -> bool:
    return f.get("benchmark") == "write_path"


def _write_path(runs: list[dict[str, Any]]) -> list[str]:
    lines = [WRITE_PATH.rstrip("\n")]
    for f in runs:
        ok = "met" if f["ratio"] >= 1 else "**not met**"
        lines.append(
            f"| {f['store']} | {f['lines']:,.0f} | {f['facts']:,.0f} | "
            f"{f['biv_import_facts_per_s']:,.0f} | {f['plain_eventsourcing_events_per_s']:,.0f} | "
            f"{f['ratio']:.3f} | >= 1 | {ok} |"
        )
    stamps = ", ".join(f"{f['store']} {f['started_at']}" for f in runs)
    return [*lines, "", f"Runs: {stamps}; median of {runs[0]['runs']} each.", ""]


def _is_http(f: dict[str, Any]) -> bool:
    return f.get("benchmark") == "http" or "threads" in f


def _http(f: dict[str, Any]) -> list[str]:
    from benchmarks.http import table

    store = "PostgreSQL" if str(f["store"]).startswith("postgresql") else "SQLite"
    return [HTTP.format(**{**f, "store": store}), *table(f), ""]


LOG = """## The log (issue 21)

`benchmarks/log.py` stores the generated municipality (as above) twice in one process, batch by batch
in turn on two fresh stores of the same kind, so that the shared machine's load falls on both alike:
once with the log's tree kept in each batch's transaction and its checkpoint signed (BIV_LOG_KEY),
once with the tree left out (the import as before the log). Then, on the store with the tree, in a
warm process: a signed checkpoint, inclusion and consistency proofs of random positions and sizes
(200 each), the offline check of a receipt of a 100-line batch (20 runs), and `audit verify
--checkpoint` against checkpoints of a quarter, half and all of the store (us a fact: linear when
flat). Aims (issue 21, at 1M facts): import >= 0.9 x without the tree, checkpoint p50 <= 5 ms,
proofs p50 <= 2 ms (<= 4 ms on PostgreSQL), receipt check <= 20 ms.

```sh
.venv/bin/python benchmarks/log.py --agreements 800 --json-out log-sqlite-800.json
.venv/bin/python benchmarks/log.py --store 'postgresql://postgres@127.0.0.1:PORT/postgres' --json-out log-pg.json
```

"""


def _is_log(f: dict[str, Any]) -> bool:
    return f.get("kind") == "log"


def _log(runs: list[dict[str, Any]]) -> list[str]:
    from benchmarks.log import table

    stamps = ", ".join(f"{f['store']} {f['facts']:,} facts {f['started_at']}" for f in runs)
    return [
        LOG.rstrip("\n"),
        "",
        table(runs),
        "",
        f"Runs: {stamps}; Python {runs[0]['python']}, {runs[0]['cpus']} CPUs shared with other "
        "work (single figures swing; the ratio is the run's own, batch by batch).",
        "",
        *(line for f in runs if f.get("note") for line in (str(f["note"]), "")),
    ]


def render(all_runs: list[dict[str, Any]]) -> str:
    runs = [f for f in all_runs if not _is_http(f) and not _is_write_path(f) and not _is_log(f)]
    lines = [HEAD, READING]
    for f in runs:
        lines += [f"## {_label(f)}", ""]
        if f.get("started_at"):
            lines += [
                f"Run {f['started_at']}, Python {f.get('python')}, {f.get('cpus')} CPUs (shared with "
                "other work: single figures swing; the medians and ratios are the run's own).",
                "",
            ]
        if f.get("note"):
            lines += [str(f["note"]), ""]
        lines += _table(f)
        lines.append("")
    sqlite = [f for f in runs if str(f["store"]).startswith("sqlite")]
    postgres = [f for f in runs if str(f["store"]).startswith("postgresql")]
    small = min(sqlite, key=lambda f: f["agreements"], default=None)
    big = max(sqlite, key=lambda f: f["agreements"], default=None)
    if small is not None and big is not None and small is not big:
        lines += [
            f"## Growth: {small['import']['facts']:,} against {big['import']['facts']:,} facts (SQLite)",
            "",
            "| query | p50 small | p50 big | big / small | p99 small | p99 big |",
            "|---|---|---|---|---|---|",
        ]
        for name, q in small["queries_ms"].items():
            b = big["queries_ms"][name]
            lines.append(
                f"| {name} | {q['p50']:.2f} | {b['p50']:.2f} | {b['p50'] / q['p50']:.2f} | "
                f"{q['p99']:.2f} | {b['p99']:.2f} |"
            )
        lines.append(
            f"| rebuild, s | {small['rebuild']['seconds']:.2f} | {big['rebuild']['seconds']:.2f} | "
            f"{big['rebuild']['seconds'] / small['rebuild']['seconds']:.2f} "
            f"(facts x {big['import']['facts'] / small['import']['facts']:.2f}) | | |"
        )
        lines.append("")
    for pg in postgres:
        same = [f for f in sqlite if f["agreements"] == pg["agreements"]]
        if not same:
            continue
        s = same[0]
        lines += [
            f"## PostgreSQL against SQLite, {pg['agreements']} agreements",
            "",
            "| figure | SQLite | PostgreSQL | PostgreSQL / SQLite | aim |",
            "|---|---|---|---|---|",
            f"| import, facts/s | {s['import']['facts_per_s']:,.0f} | {pg['import']['facts_per_s']:,.0f} "
            f"| {s['import']['facts_per_s'] / pg['import']['facts_per_s']:.2f} (time) | |",
            f"| rebuild, s | {s['rebuild']['seconds']:.2f} | {pg['rebuild']['seconds']:.2f} | "
            f"{pg['rebuild']['seconds'] / s['rebuild']['seconds']:.2f} | <= 2 |",
        ]
        for name, q in s["queries_ms"].items():
            p = pg["queries_ms"][name]
            lines.append(
                f"| {name} p50 ms | {q['p50']:.2f} | {p['p50']:.2f} | {p['p50'] / q['p50']:.2f} | <= 2 |"
            )
        lines.append("")
    writes = [f for f in all_runs if _is_write_path(f)]
    if writes:
        lines += _write_path(writes)
    for f in all_runs:
        if _is_http(f):
            lines += _http(f)
    logs = [f for f in all_runs if _is_log(f)]
    if logs:
        lines += _log(logs)
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    runs = [json.loads(Path(p).read_text()) for p in argv]
    sys.stdout.write(render(runs))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
