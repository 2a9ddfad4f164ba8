"""The benchmark's figures as a table: each beside its raw baseline from the same run, and its aim.

The aims are issue 12's: import at least 0.3 x a raw `executemany` of the same rows and
flat as the store grows (the last tenth within 1.5 x of the first); rebuild at least
0.5 x a raw read + orjson of the rows it reads; every query for one agreement p50 <= 5 ms
and p99 <= 20 ms on SQLite, twice that on PostgreSQL; peak RSS under 500 MB.
"""

from __future__ import annotations

from typing import Any

TARGET_IMPORT_RATIO = 0.3
TARGET_FLAT = 1.5
TARGET_REBUILD_RATIO = 0.5
TARGET_QUERY_P50_MS = 5.0
TARGET_QUERY_P99_MS = 20.0
POSTGRES_QUERY_SLACK = 2.0
TARGET_RSS_MB = 500.0
# The series that measures the floor under a history (`measures.run_history_raw`): a
# baseline shown beside the history, not a query with an aim of its own.
HISTORY_FLOOR = "history, raw read + orjson of its rows"


def aims(f: dict[str, Any]) -> list[dict[str, Any]]:
    """Each measured figure, its baseline from the same run, their ratio and the aim it meets."""
    rows: list[dict[str, Any]] = []

    def add(name: str, value: str, baseline: str, ratio: float | None, aim: str, ok: bool) -> None:
        rows.append(
            {
                "figure": name,
                "value": value,
                "baseline": baseline,
                "ratio": ratio,
                "aim": aim,
                "ok": ok,
            }
        )

    imp = f["import"]
    if "raw_insert" in f:
        raw = f["raw_insert"]["rows_per_s"]
        ratio = imp["facts_per_s"] / raw
        add(
            "import, facts/s",
            f"{imp['facts_per_s']:,.0f}",
            f"raw executemany {raw:,.0f} rows/s",
            ratio,
            f">= {TARGET_IMPORT_RATIO} x raw",
            ratio >= TARGET_IMPORT_RATIO,
        )
    if "raw_insert_batches" in f:
        raw = f["raw_insert_batches"]["rows_per_s"]
        add(
            "import, facts/s, against the same rows in the import's own transactions",
            f"{imp['facts_per_s']:,.0f}",
            f"raw executemany + COMMIT a batch {raw:,.0f} rows/s",
            imp["facts_per_s"] / raw,
            "(the store's floor for these batches; no aim)",
            True,
        )
    tenths = imp["facts_per_s_by_tenth"]
    if len(tenths) >= 2:
        flat = tenths[0] / tenths[-1]
        add(
            "import, first tenth / last tenth",
            " ".join(f"{r / 1000:.1f}k" for r in tenths),
            f"first {tenths[0]:,.0f} facts/s",
            flat,
            f"<= {TARGET_FLAT}",
            flat <= TARGET_FLAT,
        )
    sizes = imp.get("facts_per_batch_by_tenth", [])
    if len(sizes) >= 2:
        add(
            "import, facts a batch by tenth (ms a batch)",
            " ".join(
                f"{n:.0f} ({ms:.1f})"
                for n, ms in zip(sizes, imp["ms_per_batch_by_tenth"], strict=True)
            ),
            "the generator's batches, not the store",
            None,
            "(explains the tenths)",
            True,
        )
    reb = f["rebuild"]
    if "raw_topics" in f:
        raw_t = f["raw_topics"]
        ratio = f["rebuild_over_raw_topics"]
        add(
            "rebuild, on the rows it reads",
            f"{reb['seconds']:.2f} s ({raw_t['rows']:,} rows of {reb['facts']:,})",
            f"raw read + orjson of those rows {raw_t['seconds']:.2f} s",
            ratio,
            f">= {TARGET_REBUILD_RATIO} x raw",
            ratio >= TARGET_REBUILD_RATIO,
        )
    if "raw" in f:
        add(
            "rebuild, facts passed / s",
            f"{reb['facts_per_s']:,.0f}",
            f"raw read + orjson of every row {f['raw']['rows_per_s']:,.0f} rows/s",
            f["rebuild_over_raw"],
            "(for comparison)",
            True,
        )
    queries = dict(f["queries_ms"])
    floor = queries.pop(HISTORY_FLOOR, None)
    # The query aims are SQLite's; PostgreSQL's are twice them (a round trip a query).
    slack = POSTGRES_QUERY_SLACK if str(f.get("store", "")).startswith("postgresql") else 1.0
    p50_aim, p99_aim = TARGET_QUERY_P50_MS * slack, TARGET_QUERY_P99_MS * slack
    for name, q in queries.items():
        ok = q["p50"] <= p50_aim and q["p99"] <= p99_aim
        baseline = f"aim {p50_aim:g} / {p99_aim:g}"
        if floor is not None and name == "history":
            baseline += f"; its rows read + orjson'd, no fact made: p50 {floor['p50']:.2f}"
        add(
            f"{name}, p50 / p99 ms",
            f"{q['p50']:.2f} / {q['p99']:.2f}",
            baseline,
            q["p50"] / p50_aim,
            f"p50 <= {p50_aim:g}, p99 <= {p99_aim:g}",
            ok,
        )
    rss = max(f["maxrss_mb"], f.get("maxrss_after_rebuild_mb", 0.0))
    add(
        "peak RSS of the benchmark (import, rebuild, queries), MB",
        f"{rss:.0f}",
        "",
        None,
        f"< {TARGET_RSS_MB:g}",
        rss < TARGET_RSS_MB,
    )
    if "cold_rebuild" in f:
        cold_rb = f["cold_rebuild"]
        add(
            "a fresh `biv rebuild` process: s, peak RSS MB",
            f"{cold_rb['seconds']:.2f} s, {cold_rb['maxrss_mb']:.0f} MB",
            "",
            None,
            f"RSS < {TARGET_RSS_MB:g}",
            cold_rb["maxrss_mb"] < TARGET_RSS_MB,
        )
    for key, label in (("cold_cli_budget_s", "budget"), ("cold_cli_report_s", "report")):
        cold = f.get(key)
        if cold is not None:
            python = f.get("cold_python_s") or 0.0
            add(
                f"a fresh `biv {label} --json` process, ms",
                f"{cold * 1000:.0f}",
                f"`python -c pass` {python * 1000:.0f} ms",
                cold / python if python else None,
                "(start-up; no aim)",
                True,
            )
    return rows


def print_table(f: dict[str, Any]) -> None:
    imp = f["import"]
    print()
    print(f"store      {f['store']}")
    print(
        f"generated  {f['agreements']} agreements x {f['years']} years, "
        f"{imp['commands']:,} commands in {imp['batches']:,} batches of an agreement's half-year "
        f"({imp['late_batches']} recorded 60-150 days late), {imp['facts']:,} facts, "
        f"largest batch {imp['largest_batch_facts']} facts"
    )
    rows = [("figure", "measured", "raw baseline (same run)", "ratio", "aim", "")]
    for a in f["aims"]:
        ratio = "" if a["ratio"] is None else f"{a['ratio']:.2f}"
        rows.append(
            (
                a["figure"],
                a["value"],
                a["baseline"],
                ratio,
                a["aim"],
                "ok" if a["ok"] else "NOT MET",
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(6)]
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
