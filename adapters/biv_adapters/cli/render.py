"""Readable tables for people, drawn from the same documents `--json` prints.

Tables are made from the JSON documents, not from the domain objects, so that
what a person reads and what a program parses can never disagree.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from biv_domain.converter import json_text


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    cells = [[str(h) for h in headers]] + [["" if c is None else str(c) for c in r] for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _when(document: dict[str, Any]) -> str:
    known = document.get("as_known_at")
    return f" (as known at {known})" if known else ""


def history_table(document: dict[str, Any]) -> str:
    rows = []
    for fact in document["facts"]:
        data = {k: v for k, v in fact["data"].items() if k not in ("case_number", "group_ref")}
        summary = json_text(data, indent=False)
        rows.append(
            [
                fact["recorded_at"][:19],
                fact["effective_on"],
                fact["actor"] or "-",
                fact["type"],
                fact["aggregate"],
                summary,
            ]
        )
    title = f"History of {document['case_number']}{_when(document)}: {len(rows)} facts"
    headers = ["recorded", "effective", "actor", "type", "aggregate", "data"]
    return title + "\n" + table(headers, rows)


def budget_table(document: dict[str, Any]) -> str:
    d = document
    out = [
        f"Budget of {d['case_number']} on {d['on']}{_when(d)}",
        f"status {d['status']}, ends {d['end']}, last day to give notice {d['last_notice_day']}",
        "",
        "Funding lines decided by then:",
        table(
            ["party", "source", "start", "end", "amount", "decided", "by"],
            [
                [
                    f["party"],
                    f["source"],
                    f["start"],
                    f["end"],
                    f["amount"],
                    f["decided_on"],
                    " ".join(filter(None, [f["decided_by"], f["decision_ref"]])) or "-",
                ]
                for f in d["funding"]
            ],
        ),
        "",
        f"In force on {d['on']}: municipality {d['in_force']['municipality']}, "
        f"partner {d['in_force']['partner']}, total {d['in_force']['total']}; "
        f"municipal share {d['municipal_share'] or '-'} %",
        "",
        f"By fiscal year (split by {d['split']}):",
        table(
            ["year", "municipality", "partner", "total"],
            [
                [y, s["municipality"], s["partner"], s["total"]]
                for y, s in d["by_fiscal_year"].items()
            ],
        ),
        "",
        f"Paid out by {d['on']}: {d['disbursed']}",
    ]
    return "\n".join(out)


def report_table(document: dict[str, Any]) -> str:
    d = document
    withheld = f"<{d['threshold']}" if "threshold" in d else "-"

    def shown(count: int | None) -> object:
        return withheld if count is None else count

    out = [
        f"Report of {d['case_number']} for {d['from']} – {d['to']}{_when(d)}",
        table(
            ["figure", "value"],
            [
                ["children's groups that met", d["groups"]],
                ["sessions of children's groups", d["sessions"]],
                ["children who attended", shown(d["participants"])],
                ["parents' groups that met", d["parent_groups"]],
                ["sessions of parents' groups", d["parent_sessions"]],
                ["parents who attended", shown(d["parents"])],
            ],
        ),
        "",
        "Children by gender: " + ", ".join(f"{k} {shown(v)}" for k, v in d["by_gender"].items()),
        "Children by age at enrolment: "
        + ", ".join(f"{k} {shown(v)}" for k, v in d["by_age_band"].items()),
        "",
        "Targets for the window (yearly value pro rata, rounded up):",
        table(
            ["target", "yearly", "expected", "actual", "met"],
            [
                [
                    t["target"],
                    t["yearly"],
                    t["expected"],
                    shown(t["actual"]),
                    "not assessed" if t["met"] is None else "yes" if t["met"] else "NO",
                ]
                for t in d["targets"]
            ],
        ),
    ]
    if d.get("nothing_recorded"):
        out += ["Nothing was recorded for this window (no group, no session): not assessed."]
    late = [t for t in d["targets"] if t.get("counts_from") not in (None, d["from"])]
    out += [f"{t['target']} counts from its decision, {t['counts_from']}." for t in late]
    if "threshold" in d:
        out += ["", f"For publication: counts of people under {d['threshold']} are withheld."]
    follow_up = d.get("follow_up")
    if follow_up:
        out += [
            "",
            f"Follow-up {follow_up['follow_up_ref']}: report submitted "
            f"{follow_up['submitted_on'] or '(not yet)'}",
        ]
        if follow_up["submitted"] is not None:
            rows = [[c["figure"], c["submitted"], c["now"]] for c in follow_up["changes"]]
            out.append(
                table(["changed since submitted", "submitted", "now"], rows)
                if rows
                else "The ledger's figures are the same as those submitted."
            )
    return "\n".join(out)


def follow_ups_table(document: dict[str, Any]) -> str:
    rows = [
        [
            f["follow_up_ref"],
            f"{f['start']} – {f['end']}",
            f["due_on"],
            f["status"],
            (f["submitted_on"] or "") + (" (late)" if f["submitted_late"] else ""),
            f["closed_on"],
        ]
        for f in document["follow_ups"]
    ]
    title = f"Follow-ups of {document['case_number']} on {document['on']}{_when(document)}"
    headers = ["follow-up", "window", "due", "status", "submitted", "closed"]
    return title + "\n" + table(headers, rows)


def fiscal_year_table(document: dict[str, Any]) -> str:
    d = document
    rows = [
        [
            a["case_number"],
            a["municipality"],
            a["sums"]["municipality"],
            a["sums"]["partner"],
            a["sums"]["total"],
        ]
        for a in d["agreements"]
    ]
    rows.append(["all", "", d["total"]["municipality"], d["total"]["partner"], d["total"]["total"]])
    sources = [[k, v["municipality"], v["partner"], v["total"]] for k, v in d["by_source"].items()]
    return "\n".join(
        [
            f"Funding in fiscal year {d['fiscal_year']} (split by {d['split']}){_when(d)}",
            table(["agreement", "municipality", "municipal", "partner", "total"], rows),
            "",
            "By source:",
            table(["source", "municipal", "partner", "total"], sources),
        ]
    )
