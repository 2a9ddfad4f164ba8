"""`biv audit export`: the auditor's pack (revisionsunderlag) for one agreement, in one folder.

The municipal auditors (kommunrevisionen) read the pack without the ledger: the
whole history, the budget per fiscal year with each line's decision, every
payment beside the funding decisions that cover it, each follow-up's figures as
submitted and as the ledger shows them now, a workbook of the same tables,
two charts, and the chain's digest with the result of walking the chain.

Every table is built once, as rows of values, and written both as CSV and as a
sheet of the workbook, so that the two can never disagree. The figures are the
ones `biv budget` and `biv report` print: the same functions make them.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

from attrs import asdict

from biv_adapters.demo_stages import demo_mark
from biv_adapters.pack.charts import periods, write_charts
from biv_adapters.pack.files import (
    CSV_DIALECTS,
    CsvDialect,
    Table,
    marked,
    write_csv,
    write_workbook,
)
from biv_adapters.pack.files import csv_cell as csv_cell  # where it always was
from biv_adapters.pack.labels import (
    LANGS,
    MANIFEST_WHAT_EN,
    SHEET_DIGEST,
    Lang,
    is_illustrative,
    sheet_name,
    what,
)
from biv_adapters.pack.pdf import FILE as REPORT_PDF
from biv_adapters.pack.pdf import audit_report_pdf
from biv_adapters.pack.words import check_word, value_text
from biv_domain.converter import document, json_text
from biv_domain.ledger import Ledger
from biv_domain.ledger.verification import digest_line
from biv_domain.model.agreement import AgreementState
from biv_domain.model.fact import Fact
from biv_domain.model.follow_up import FollowUpState
from biv_domain.model.group import GroupState
from biv_domain.model.money import total
from biv_domain.projections.budget import Budget, budget, payments_against_decisions, split_by_year
from biv_domain.projections.history import FactRecord
from biv_domain.projections.report import ReportView, changes, report, report_view


def _columns(names: str) -> tuple[str, ...]:
    return tuple(names.split())


# The pack's files: each name, the sheet of the workbook that holds the same table, what it is.
PACK: dict[str, tuple[str | None, str]] = {
    "history.jsonl": (None, "every recorded fact, a JSON object a line, as `biv history --json`"),
    "history.csv": ("History", "every recorded fact, a row each (data as JSON)"),
    "budget_lines.csv": ("Budget lines", "each funding line's part of each fiscal year, beside "
                         "its decision (decided_on, decided_by, decision_ref)"),
    "budget_by_year.csv": ("Budget by year", "municipality, partner, total per fiscal year, "
                           "as `biv budget --on DATE`"),
    "disbursements.csv": ("Disbursements", "each payment, retracted ones too, beside the "
                          "municipality's funding decisions that cover it; flags one with none"),
    "report_by_year.csv": ("Report by year", "the report's figures for each year of the agreement "
                           "from its start, as `biv report --from --to`"),
    "follow_ups.csv": ("Follow-ups", "each follow-up: window, due, status, submitted, closed"),
    "follow_up_figures.csv": ("Follow-up figures", "each follow-up's figures as submitted "
                              "beside the current ones (`biv report --follow-up REF`)"),
    "follow_up_changes.csv": ("Follow-up changes", "what changed since submission"),
    "workbook.xlsx": (None, "every table above, a sheet each, and a sheet Digest"),
    "funding.png": (None, "chart: funding per fiscal year by party"),
    "participation.png": (None, "chart: children attending and sessions per month"),
    "digest.txt": (None, "the chain's head, as `biv audit digest` prints it"),
    "verification.json": (None, "the walk of the chain, as `biv audit verify --json` prints it"),
    "revisionsrapport.pdf": (None, "the report for reading, A4 (PDF/A-3b): the agreement, its "
                             "decisions, budget, payments, yearly report, follow-ups, erasures, "
                             "the chain's verification and digest, the charts"),
}  # fmt: skip


def history_table(history: Sequence[Fact]) -> Table:
    """Every fact, a row each: `recorded_at` a date and time, the days as dates, not text."""
    rows = []
    for fact in history:
        doc = document(FactRecord.of(fact))
        decision = doc.pop("decision") or {}
        decided = {"decided_by": decision.get("body"), "decision_ref": decision.get("reference")}
        doc |= decided | {"decided_on": _day(decision.get("decided_on"))}
        doc |= {"data": _json(doc["data"])}
        doc |= {"recorded_at": datetime.fromisoformat(doc["recorded_at"])}
        doc |= {"effective_on": _day(doc["effective_on"])}
        rows.append(doc)
    return Table("history.csv", tuple(rows), HISTORY_COLUMNS)


def _day(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


HISTORY_COLUMNS = _columns(
    "chain_position recorded_at effective_on type aggregate "
    "version actor decided_on decided_by decision_ref data"
)


def budget_tables(figures: Budget) -> list[Table]:
    """Each line's part of each fiscal year beside its decision, and the years' sums."""
    lines: list[dict[str, object]] = []
    for line in figures.funding:  # each line carries its decision: date, body, reference
        for year, part in split_by_year(line, figures.split).items():
            lines.append({"fiscal_year": year, **asdict(line, recurse=False), "in_year": part})
    years = tuple(
        {"fiscal_year": year, **{k: getattr(sums, k) for k in ("municipality", "partner", "total")}}
        for year, sums in figures.by_fiscal_year.items()
    )
    return [
        Table("budget_lines.csv", tuple(lines), BUDGET_COLUMNS),
        Table("budget_by_year.csv", years),
    ]


BUDGET_COLUMNS = _columns(
    "fiscal_year party source start end amount in_year decided_on decided_by decision_ref note"
)


def disbursements_table(state: AgreementState, on: date) -> Table:
    rows = []
    for check in payments_against_decisions(state, on):
        paid, retracted, lines = check.payment, check.retraction, check.covering
        flag = check.flag.value
        decisions = "; ".join(
            f"{line.source} {line.start}–{line.end} {line.amount} decided {line.decided_on}"
            for line in lines
        )
        rows.append(
            {
                "paid_on": paid.paid_on,
                "amount": paid.amount,
                "source": paid.source,
                "decision_ref": paid.decision_ref,
                "status": "retracted" if retracted else "paid",
                "retraction_reason": retracted.reason if retracted else None,
                "covering_decisions": decisions,
                "covering_amount": total([line.amount for line in lines]),
                "flag": flag,
                "note": paid.note,
            }
        )
    return Table("disbursements.csv", tuple(rows), PAYMENT_COLUMNS)


PAYMENT_COLUMNS = _columns(
    "paid_on amount source decision_ref status "
    "retraction_reason covering_decisions covering_amount flag note"
)


def _figures(figures: object) -> dict[str, object]:
    """A report's figures as flat name → value, as `report.changes` names them."""
    if figures is None:
        return {}
    body: dict[str, Any] = document(figures)
    flat: dict[str, object] = {}
    for name, value in body.items():
        if isinstance(value, dict):
            flat.update({f"{name}.{key}": v for key, v in value.items()})
        elif name == "targets":
            for target in value:
                for key in ("expected", "actual", "met"):
                    flat[f"targets.{target['target']}.{key}"] = target[key]
        elif name not in ("case_number", "from", "to"):
            flat[name] = value
    return flat


def report_by_year(state: AgreementState, groups: list[GroupState]) -> Table:
    """The figures of each year of the agreement (the last one cut at its end), met or not,
    or not assessed (`met` empty, with the reason) for a year in which nothing was recorded."""
    years = periods(state.terms.start, state.ends_on(), 12)
    rows = [{"from": year.start, "to": year.end, **_view(report_view(state, groups, year))}
            for year in years]  # fmt: skip
    invented = [g for g in groups if is_illustrative(g.group_ref)]
    flags = [any(s.held_on in year for g in invented for s in g.sessions) for year in years]
    return marked(Table("report_by_year.csv", tuple(rows)), flags)


def _view(view: ReportView) -> dict[str, object]:
    """A window's figures, flat, each target judged as `biv report` judges it."""
    flat = _figures(view.figures)
    for t in view.targets:
        flat[f"targets.{t.target.value}.met"] = t.met
        flat[f"targets.{t.target.value}.counts_from"] = t.counts_from
    flat["nothing_recorded"] = view.nothing_recorded
    return flat


def follow_up_tables(
    state: AgreementState, groups: list[GroupState], follow_ups: list[FollowUpState], on: date
) -> list[Table]:
    """Each follow-up, its figures as submitted beside today's, and what changed since."""
    summary: list[dict[str, object]] = []
    figures: list[dict[str, object]] = []
    changed: list[dict[str, object]] = []
    for f in follow_ups:
        now = report(state, groups, f.window)
        submitted = f.report.figures if f.report else None
        diffs = changes(submitted, now) if submitted else []
        standing = asdict(f.standing(on), recurse=False)
        summary.append({**standing, "status": standing["status"].value, "changes": len(diffs)})
        before, after = _figures(submitted), _figures(now)
        for name in dict.fromkeys([*after, *before]):
            was = before.get(name) if submitted else None
            figures.append(
                {
                    "follow_up_ref": f.follow_up_ref,
                    "figure": name,
                    "submitted": was,
                    "current": after.get(name),
                    "changed": submitted is not None and was != after.get(name),
                }
            )
        changed += [
            {"follow_up_ref": f.follow_up_ref, "figure": c.figure}
            | {"submitted": _json(c.submitted), "now": _json(c.now)}
            for c in diffs
        ]
    return [
        Table("follow_ups.csv", tuple(summary), FOLLOW_UP_COLUMNS),
        Table("follow_up_figures.csv", tuple(figures), _columns(FIGURE_COLUMNS)),
        Table(
            "follow_up_changes.csv", tuple(changed), _columns("follow_up_ref figure submitted now")
        ),
    ]


FIGURE_COLUMNS = "follow_up_ref figure submitted current changed"
FOLLOW_UP_COLUMNS = _columns(
    "follow_up_ref start end due_on status submitted_on submitted_late closed_on assessment changes"
)


def _json(value: object) -> object:
    if value is None or isinstance(value, str | int):
        return value
    return json_text(value, indent=False)


def export(
    ledger: Ledger,
    case_number: str,
    out_dir: str | Path,
    on: date,
    lang: Lang = "sv",
    csv_dialect: CsvDialect = "excel-sv",
) -> dict[str, Any]:
    """Writes the pack into `out_dir` (made if missing), labelled in `lang`; returns its manifest.

    A row that holds illustrative data (see `labels.is_illustrative`) is
    marked in a column `illustrative`; the manifest says which files hold any.
    """
    if lang not in LANGS or csv_dialect not in CSV_DIALECTS:
        raise ValueError(f"unknown language {lang!r} or CSV dialect {csv_dialect!r}")
    state = ledger.agreement(case_number)  # NotFound before any file is written
    groups, follow_ups = ledger.groups(case_number), ledger.follow_ups(case_number)
    history = ledger.history(case_number)
    figures = budget(state, on)
    tables = [
        _marked(history_table(history)),
        *map(_marked, budget_tables(figures)),
        _marked(disbursements_table(state, on)),
        report_by_year(state, groups),
        *map(_marked, follow_up_tables(state, groups, follow_ups, on)),
    ]
    head, verification = ledger.digest(), document(ledger.verify_chain().document())
    final = Path(out_dir)
    final.mkdir(parents=True, exist_ok=True)
    # Built in a folder of its own beside `out_dir`, then moved in: a pack that cannot be
    # finished (a package missing, a disk full) leaves nothing in `out_dir`.
    building = Path(tempfile.mkdtemp(prefix=f".{final.name}.", dir=final.parent))
    try:
        manifest = _write_pack(
            ledger, case_number, building, on, lang, csv_dialect,
            (state, groups, history, figures, tables, head, verification),
        )  # fmt: skip
        for name in (*PACK, "manifest.json"):
            os.replace(building / name, final / name)
    finally:
        shutil.rmtree(building, ignore_errors=True)
    return manifest


Gathered = tuple[
    AgreementState, list[GroupState], list[Fact], Budget, list[Table], Any, dict[str, Any]
]


def _write_pack(
    ledger: Ledger,
    case_number: str,
    out: Path,
    on: date,
    lang: Lang,
    csv_dialect: CsvDialect,
    gathered: Gathered,
) -> dict[str, Any]:
    state, groups, history, figures, tables, head, verification = gathered
    with (out / "history.jsonl").open("w", encoding="utf-8") as handle:
        for fact in history:
            handle.write(json_text(document(FactRecord.of(fact)), indent=False) + "\n")
    for table in tables:
        write_csv(out / table.file, table, lang, csv_dialect)
    # Once each, in the reader's words: the digest, then the walk (its own `digest` is the one
    # it was asked to check against, none here).
    checked = [
        {"what": check_word(lang, k), "value": _word(lang, v)}
        for k, v in verification.items()
        if k != "digest"
    ]
    digest_row: dict[str, object] = {"what": check_word(lang, "digest"), "value": digest_line(head)}
    digest = Table("Digest", (digest_row, *checked))
    sheets = [(_sheet(lang, t.file), t) for t in tables]
    write_workbook(out / "workbook.xlsx", [*sheets, (SHEET_DIGEST[lang], digest)], lang)
    charts = write_charts(out, state, groups, figures, lang)
    (out / REPORT_PDF).write_bytes(audit_report_pdf(ledger, case_number, on, lang))
    (out / "digest.txt").write_text(digest_line(head) + "\n", encoding="utf-8")
    (out / "verification.json").write_text(json_text(verification) + "\n", encoding="utf-8")
    invented = {t.file for t in tables if t.illustrative} | {n for n, i in charts.items() if i}
    if invented:
        invented |= {"history.jsonl", "workbook.xlsx", REPORT_PDF}
    manifest = {
        "case_number": case_number,
        "on": on.isoformat(),
        "exported_at": ledger.clock().isoformat(),
        "lang": lang,
        "csv_dialect": csv_dialect,
        "digest": str(head) if head else None,
        "chain_intact": verification["intact"],
        "demo": mark.document() if (mark := demo_mark(ledger)) else None,
        "files": [
            {
                "name": name,
                "what": what(lang, name, english),
                "illustrative": name in invented,
                "sha256": _sha256(out / name),
            }
            for name, (_, english) in PACK.items()
        ],
    }
    (out / "manifest.json").write_text(json_text(manifest) + "\n", encoding="utf-8")
    return manifest


def _word(lang: Lang, value: object) -> object:
    """A value of the Kontrollsumma sheet: ja/nej in Swedish, none as empty."""
    if isinstance(value, bool) or value is None:
        return value_text(lang, value)
    return _json(value)


def manifest_what(lang: Lang) -> str:
    """What manifest.json holds, for the listing of the files written."""
    return what(lang, "manifest.json", MANIFEST_WHAT_EN)


def _marked(table: Table) -> Table:
    return marked(table, [is_illustrative(row) for row in table.rows])


def _sheet(lang: Lang, file: str) -> str:
    return sheet_name(lang, file, PACK[file][0]) or file


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
