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

import csv
import hashlib
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from attrs import asdict, frozen

from biv_domain.converter import document, json_text
from biv_domain.ledger import Ledger
from biv_domain.ledger.verification import digest_line
from biv_domain.model.agreement import AgreementState
from biv_domain.model.dates import Period, add_months, day_before
from biv_domain.model.fact import Fact
from biv_domain.model.follow_up import FollowUpState
from biv_domain.model.group import GroupState
from biv_domain.model.money import Money, total
from biv_domain.model.vocabulary import GroupKind, Party
from biv_domain.projections.budget import Budget, budget, payments_against_decisions, split_by_year
from biv_domain.projections.history import FactRecord
from biv_domain.projections.report import changes, report


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
}  # fmt: skip


@frozen
class Table:
    """One table of the pack: a CSV file and a sheet of the workbook, a dict a row."""

    file: str
    rows: tuple[dict[str, object], ...]
    columns: tuple[str, ...] = ()

    @property
    def headers(self) -> tuple[str, ...]:
        return self.columns or tuple(dict.fromkeys(key for row in self.rows for key in row))

    @property
    def sheet(self) -> str:
        return PACK.get(self.file, (None, ""))[0] or self.file


def history_table(history: Sequence[Fact]) -> Table:
    rows = []
    for fact in history:
        doc = document(FactRecord.of(fact))
        decision = doc.pop("decision") or {}
        decided = {"decided_by": decision.get("body"), "decision_ref": decision.get("reference")}
        doc |= decided | {"decided_on": decision.get("decided_on"), "data": _json(doc["data"])}
        rows.append(doc)
    return Table("history.csv", tuple(rows), HISTORY_COLUMNS)


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
    """The figures of each year of the agreement (the last one cut at its end), met or not."""
    rows = [
        {"from": year.start, "to": year.end, **_figures(report(state, groups, year))}
        for year in _periods(state.terms.start, state.ends_on(), 12)
    ]
    return Table("report_by_year.csv", tuple(rows))


def _periods(start: date, end: date, months: int) -> list[Period]:
    """Back-to-back periods of `months` from `start`, the last one cut at `end`."""
    result = []
    while start <= end:
        result.append(Period(start, min(day_before(add_months(start, months)), end)))
        start = add_months(start, months)
    return result


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


def csv_cell(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        # Text a spreadsheet would run as a formula is kept as text (OWASP's CSV injection advice).
        return "'" + value
    return value.isoformat() if isinstance(value, date) else value


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def write_csv(path: Path, table: Table) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(table.headers)
        writer.writerows([csv_cell(row.get(h)) for h in table.headers] for row in table.rows)


def write_workbook(path: Path, tables: Sequence[Table]) -> None:
    """One sheet per table; amounts as numbers with two decimals, dates as dates."""
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Font

    book = Workbook()
    book.remove(book.active)  # type: ignore[arg-type]
    for table in tables:
        sheet = book.create_sheet(table.sheet)
        sheet.append(table.headers)
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in table.rows:
            sheet.append([_xlsx_cell(row.get(h), ILLEGAL_CHARACTERS_RE) for h in table.headers])
        for number, _ in enumerate(table.headers, start=1):
            column = sheet.cell(1, number).column_letter
            for cell in sheet[column][1:]:
                if isinstance(cell.value, str) and cell.value.startswith("="):
                    cell.data_type = "s"  # text from the ledger is never a formula
                elif isinstance(cell.value, Decimal):
                    cell.number_format = "#,##0.00"
                elif isinstance(cell.value, date):
                    cell.number_format = "yyyy-mm-dd"
            width = max((len(str(c.value or "")) for c in sheet[column]), default=8)
            sheet.column_dimensions[column].width = min(max(width, 8) + 2, 60)
        sheet.freeze_panes = "A2"
    book.save(path)


def _xlsx_cell(value: object, illegal: Any) -> object:
    if isinstance(value, Money):
        return Decimal(str(value))
    if isinstance(value, str):
        return illegal.sub("\N{REPLACEMENT CHARACTER}", value)
    return value


def write_charts(
    out: Path, state: AgreementState, groups: list[GroupState], figures: Budget
) -> None:
    """Funding per fiscal year by party, and children and sessions per month (Agg, no display)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    funding, participation = Figure(figsize=(8, 4.5)), Figure(figsize=(8, 4.5))
    axes = FigureCanvasAgg(funding).figure.subplots()
    known = figures.by_fiscal_year
    # Every year of the span, so that years with no funding decision show as gaps.
    years = list(range(min(known), max(known) + 1)) if known else []
    for offset, party in ((-0.2, Party.MUNICIPALITY), (0.2, Party.PARTNER)):
        amounts = [getattr(known[y], party.value).ore / 100 if y in known else 0 for y in years]
        axes.bar([i + offset for i in range(len(years))], amounts, width=0.4, label=party.value)
    axes.set_xticks(range(len(years)), [str(y) for y in years])
    axes.set_ylabel("kronor")
    axes.set_title(f"Funding per fiscal year, {state.case_number} (decided by {figures.on})")
    axes.legend()
    funding.savefig(out / "funding.png", dpi=100)

    held = [s.held_on for g in groups if g.plan.kind is GroupKind.CHILDREN for s in g.sessions]
    months = _periods(min(held).replace(day=1), max(held), 1) if held else []
    counts = [report(state, groups, month) for month in months]
    labels = [f"{m.start:%Y-%m}" for m in months]
    axes = FigureCanvasAgg(participation).figure.subplots()
    axes.bar(labels, [c.sessions for c in counts], color="lightgray", label="sessions")
    axes.plot(labels, [c.participants for c in counts], marker="o", label="children attending")
    axes.set_title(f"Children's groups per month, {state.case_number}")
    if not months:
        axes.text(0.5, 0.5, "no sessions recorded", ha="center", transform=axes.transAxes)
    axes.tick_params(axis="x", labelrotation=45)
    axes.legend()
    participation.tight_layout()
    participation.savefig(out / "participation.png", dpi=100)


def export(ledger: Ledger, case_number: str, out_dir: str | Path, on: date) -> dict[str, Any]:
    """Writes the pack into `out_dir` (made if missing); returns its manifest."""
    state = ledger.agreement(case_number)  # NotFound before any file is written
    groups, follow_ups = ledger.groups(case_number), ledger.follow_ups(case_number)
    history = ledger.history(case_number)
    figures = budget(state, on)
    tables = [
        history_table(history),
        *budget_tables(figures),
        disbursements_table(state, on),
        report_by_year(state, groups),
        *follow_up_tables(state, groups, follow_ups, on),
    ]
    head, verification = ledger.digest(), document(ledger.verify_chain().document())
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    with (out / "history.jsonl").open("w", encoding="utf-8") as handle:
        for fact in history:
            handle.write(json_text(document(FactRecord.of(fact)), indent=False) + "\n")
    for table in tables:
        write_csv(out / table.file, table)
    checked = [{"what": k, "value": _json(v)} for k, v in verification.items()]
    digest = Table("Digest", ({"what": "digest", "value": digest_line(head)}, *checked))
    write_workbook(out / "workbook.xlsx", [*tables, digest])
    write_charts(out, state, groups, figures)
    (out / "digest.txt").write_text(digest_line(head) + "\n", encoding="utf-8")
    (out / "verification.json").write_text(json_text(verification) + "\n", encoding="utf-8")
    manifest = {
        "case_number": case_number,
        "on": on.isoformat(),
        "exported_at": ledger.clock().isoformat(),
        "digest": str(head) if head else None,
        "chain_intact": verification["intact"],
        "files": [
            {"name": name, "what": what, "sha256": _sha256(out / name)}
            for name, (_, what) in PACK.items()
        ],
    }
    (out / "manifest.json").write_text(json_text(manifest) + "\n", encoding="utf-8")
    return manifest


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
