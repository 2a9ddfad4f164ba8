"""The benchmark's figures as a table, each against its target where it has one."""

from __future__ import annotations

from typing import Any

# Targets (the brief's): rebuild at least half the raw read rate, a query's p50 at
# most 10 ms, and as-known-at at most twice the plain query.
TARGET_REBUILD_RATIO = 0.5
TARGET_QUERY_P50_MS = 10.0
TARGET_AS_KNOWN_AT_RATIO = 2.0


def _ok(passed: bool) -> str:
    return "ok" if passed else "OVER"


def print_table(f: dict[str, Any]) -> None:
    imp, reb = f["import"], f["rebuild"]
    print()
    print(f"store      {f['store']}")
    print(
        f"generated  {f['agreements']} agreements x {f['years']} years, "
        f"{imp['commands']:,} commands in {imp['batches']:,} batches of an agreement's half-year "
        f"({imp['late_batches']} recorded 60-150 days late), largest {imp['largest_batch_facts']} "
        "facts"
    )
    rows: list[tuple[str, str, str]] = [
        ("facts stored", f"{imp['facts']:,}", ">= 200,000" if f["agreements"] >= 200 else ""),
        (
            "import",
            f"{imp['facts_per_s']:,.0f} facts/s ({imp['timed_facts']:,} facts timed in "
            f"{imp['seconds']:.1f} s)",
            "",
        ),
        (
            "import by tenth of batches",
            " ".join(f"{r / 1000:.1f}k" for r in imp["facts_per_s_by_tenth"]) + " facts/s",
            "",
        ),
        ("rebuild funding view", f"{reb['facts_per_s']:,.0f} facts/s ({reb['seconds']:.2f} s)", ""),
    ]
    if "raw" in f:
        raw = f["raw"]
        ratio = f["rebuild_over_raw"]
        rows += [
            (
                "raw read + json.loads",
                f"{raw['rows_per_s']:,.0f} rows/s ({raw['seconds']:.2f} s)",
                "",
            ),
            (
                "rebuild / raw",
                f"{ratio:.2f}",
                f">= {TARGET_REBUILD_RATIO}  {_ok(ratio >= TARGET_REBUILD_RATIO)}",
            ),
        ]
    for name, q in f["queries_ms"].items():
        size = "funding lines" if name.startswith("budget") else "groups"
        rows.append(
            (
                f"{name} p50 / p95",
                f"{q['p50']:.2f} / {q['p95']:.2f} ms  (mean {q['mean']:.2f}, max {q['max']:.1f}; "
                f"{q['mean_size']:.1f} {size})",
                f"p50 <= {TARGET_QUERY_P50_MS:g} ms  {_ok(q['p50'] <= TARGET_QUERY_P50_MS)}",
            )
        )
    for name, ratio in f["as_known_at_over_plain_p50"].items():
        rows.append(
            (
                f"{name}: as_known_at / plain (p50)",
                f"{ratio:.2f}",
                f"<= {TARGET_AS_KNOWN_AT_RATIO:g}  {_ok(ratio <= TARGET_AS_KNOWN_AT_RATIO)}",
            )
        )
    rows.append(
        (
            "peak RSS (ru_maxrss)",
            f"{f['maxrss_mb']:.0f} MB (after import {f['maxrss_after_import_mb']:.0f} MB)",
            "",
        )
    )
    if "tracemalloc_peak_mb" in f:
        t = f["tracemalloc_peak_mb"]
        rows.append(
            (
                "tracemalloc peak",
                f"rebuild {t['rebuild']:.1f} MB, report query {t['report_query']:.2f} MB",
                "",
            )
        )
    if "store_bytes" in f:
        rows.append(("store file", f"{f['store_bytes'] / 2**20:.1f} MB", ""))
    cold = f["cold_cli_budget_s"]
    cold_text = "n/a" if cold is None else f"{cold * 1000:.0f} ms"
    rows.append(("cold `biv budget --json`", cold_text, ""))
    width = max(len(r[0]) for r in rows)
    vwidth = max(len(r[1]) for r in rows)
    for name, value, target in rows:
        print(f"{name:<{width}}  {value:<{vwidth}}  {target}".rstrip())
