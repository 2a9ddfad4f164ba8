"""`biv audit export`: the Linköping pack, checked against `biv budget` and `biv report`.

The pack is written through the command line and read back as an auditor
would: the workbook with openpyxl, the CSV and JSON Lines with the standard
library. Its figures must be those the ledger's own queries print.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet

from biv_adapters.cli import main
from biv_adapters.demo import CASE_NUMBER, record_linkoping
from biv_adapters.pack.charts import funding_figure, participation_figure
from biv_adapters.pack.export import PACK
from biv_adapters.pack.files import FONT_POINTS, PRINTABLE_INCHES, print_plan, printed_inches
from biv_adapters.stores.registry import open_ledger
from biv_domain.ledger import Ledger
from biv_domain.model.commands import RecordDisbursement, RetractDisbursement, RetractSession
from biv_domain.model.money import Money
from biv_domain.projections.budget import PaymentFlag, budget
from tests.conftest import Clock

ON = "2024-04-30"
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def store(tmp_path: Path) -> str:
    return f"sqlite://{tmp_path}/biv.sqlite3"


@pytest.fixture
def ledger(store: str, clock: Clock) -> Iterator[Ledger]:
    ledger = open_ledger(store, clock=clock)
    assert record_linkoping(ledger) == (178, 0)
    yield ledger
    ledger.close()


def biv(capsys: pytest.CaptureFixture[str], store: str, *argv: str) -> str:
    capsys.readouterr()
    code = main([*argv, "--store", store])
    out, err = capsys.readouterr()
    assert code == 0, err
    return out


def query(capsys: pytest.CaptureFixture[str], store: str, *argv: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(biv(capsys, store, *argv, "--json"))
    return document


ENGLISH = ("--lang", "en", "--csv-dialect", "rfc4180")


def export(
    capsys: pytest.CaptureFixture[str], store: str, out: Path, *options: str
) -> dict[str, Any]:
    """The pack in English with plain CSV, as the tests first read it; `options` replace that."""
    argv = ["audit", "export", CASE_NUMBER, "--out", str(out), "--on", ON]
    return query(capsys, store, *argv, *(options or ENGLISH))


@pytest.fixture
def pack(capsys: pytest.CaptureFixture[str], store: str, ledger: Ledger, tmp_path: Path) -> Path:
    out = tmp_path / "pack"
    export(capsys, store, out)
    return out


@pytest.fixture
def pack_sv(capsys: pytest.CaptureFixture[str], store: str, ledger: Ledger, tmp_path: Path) -> Path:
    """The pack as `biv audit export` writes it with no options: Swedish, CSV for Swedish Excel."""
    out = tmp_path / "pack-sv"
    biv(capsys, store, "audit", "export", CASE_NUMBER, "--out", str(out), "--on", ON)
    return out


def rows(sheet: Worksheet) -> list[dict[str, Any]]:
    values = list(sheet.iter_rows(values_only=True))
    headers = [str(name) for name in values[0]]
    return [dict(zip(headers, row, strict=True)) for row in values[1:]]


def amount(value: object) -> Decimal:
    """A workbook number as kronor with öre, to compare with the JSON's strings."""
    return Decimal(str(value)).quantize(Decimal("0.01"))


def day(value: object) -> str:
    assert isinstance(value, datetime | date)
    return value.strftime("%Y-%m-%d")


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def read_excel_sv_csv(path: Path) -> list[dict[str, str]]:
    """A CSV as Swedish Excel reads it: a byte-order mark, then `;` between fields."""
    assert path.read_bytes().startswith("\ufeff".encode())
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle, delimiter=";"))


def test_the_pack_holds_every_file_and_the_manifest_their_hashes(
    capsys: pytest.CaptureFixture[str], store: str, ledger: Ledger, tmp_path: Path
) -> None:
    manifest = export(capsys, store, tmp_path / "new" / "pack")
    out = tmp_path / "new" / "pack"
    assert sorted(p.name for p in out.iterdir()) == sorted([*PACK, "manifest.json"])
    assert json.loads((out / "manifest.json").read_text()) == manifest
    for entry in manifest["files"]:
        assert hashlib.sha256((out / entry["name"]).read_bytes()).hexdigest() == entry["sha256"]
    assert manifest["chain_intact"] is True
    assert (manifest["case_number"], manifest["on"]) == (CASE_NUMBER, ON)


def test_the_workbook_has_a_sheet_for_every_table(pack: Path) -> None:
    book = load_workbook(pack / "workbook.xlsx")
    sheets = [sheet for sheet, _ in PACK.values() if sheet]
    assert book.sheetnames == [*sheets, "Digest"]


def test_the_budget_by_year_equals_biv_budget(
    capsys: pytest.CaptureFixture[str], store: str, pack: Path
) -> None:
    budget = query(capsys, store, "budget", CASE_NUMBER, "--on", ON)
    years = rows(load_workbook(pack / "workbook.xlsx")["Budget by year"])
    by_year = {str(r["fiscal_year"]): r for r in years}
    assert set(by_year) == set(budget["by_fiscal_year"])
    for year, sums in budget["by_fiscal_year"].items():
        for party in ("municipality", "partner", "total"):
            assert amount(by_year[year][party]) == Decimal(sums[party]), (year, party)
    assert amount(by_year["2023"]["municipality"]) == Decimal("225375.00")
    assert amount(by_year["2024"]["municipality"]) == Decimal("75125.00")
    assert amount(by_year["2023"]["partner"]) == Decimal("120000.00")
    assert read_csv(pack / "budget_by_year.csv")[3] == {
        "fiscal_year": "2023",
        "municipality": "225375.00",
        "partner": "120000.00",
        "total": "345375.00",
    }


def test_each_budget_line_beside_its_decision(
    capsys: pytest.CaptureFixture[str], store: str, pack: Path
) -> None:
    budget = query(capsys, store, "budget", CASE_NUMBER, "--on", ON)
    lines = rows(load_workbook(pack / "workbook.xlsx")["Budget lines"])
    seen = {(r["source"], amount(r["amount"]), day(r["decided_on"])) for r in lines}
    assert seen == {(f["source"], Decimal(f["amount"]), f["decided_on"]) for f in budget["funding"]}
    assert {amount(r["amount"]) for r in lines if day(r["start"]) == "2023-04-01"} == {
        Decimal("200500.00"),
        Decimal("100000.00"),
        Decimal("160000.00"),
    }
    grant = [r for r in lines if r["source"] == "state_grant_parenting_support"]
    assert [(r["fiscal_year"], amount(r["in_year"])) for r in grant] == [
        (2023, Decimal("150375.00")),
        (2024, Decimal("50125.00")),
    ]
    assert {day(r["decided_on"]) for r in grant} == {"2022-10-19"}


def test_the_year_2023_24_equals_biv_report(
    capsys: pytest.CaptureFixture[str], store: str, pack: Path
) -> None:
    figures = query(
        capsys, store, "report", CASE_NUMBER, "--from", "2023-04-01", "--to", "2024-03-31"
    )
    years = rows(load_workbook(pack / "workbook.xlsx")["Report by year"])
    year = next(r for r in years if day(r["from"]) == "2023-04-01")
    assert (year["participants"], year["groups"]) == (36, 6)
    for name in ("groups", "parent_groups", "sessions", "parent_sessions", "participants"):
        assert year[name] == figures[name], name
    said = {True: "yes", False: "no", None: None}  # a reader's words, not a boolean cell
    for target in figures["targets"]:
        assert year[f"targets.{target['target']}.met"] == said[target["met"]]
    assert year["targets.children_per_year.met"] == "no"  # 36 of 40: the target is missed
    assert year["targets.groups_per_year.met"] == "yes"
    assert len(years) == 7  # every year of the agreement since 2017, most with no groups recorded


def test_each_follow_up_submitted_beside_current_equals_biv_report(
    capsys: pytest.CaptureFixture[str], store: str, pack: Path
) -> None:
    book = load_workbook(pack / "workbook.xlsx")
    figures = rows(book["Follow-up figures"])
    for ref in ("ILL-2023-H1", "ILL-2023-H2"):
        document = query(capsys, store, "report", CASE_NUMBER, "--follow-up", ref)
        mine = {r["figure"]: r for r in figures if r["follow_up_ref"] == ref}
        submitted = document["follow_up"]["submitted"]
        for name in ("groups", "sessions", "participants", "parents"):
            assert mine[name]["current"] == document[name]
            assert mine[name]["submitted"] == submitted[name]
        for gender, count in document["by_gender"].items():
            assert mine[f"by_gender.{gender}"]["current"] == count
    follow_ups = {r["follow_up_ref"]: r for r in rows(book["Follow-ups"])}
    assert follow_ups["ILL-2023-H1"]["status"] == "closed"
    assert day(follow_ups["ILL-2023-H2"]["submitted_on"]) == "2024-04-22"


def test_a_correction_after_submission_shows_in_the_follow_up_changes(
    capsys: pytest.CaptureFixture[str], store: str, ledger: Ledger, tmp_path: Path
) -> None:
    ledger.execute(RetractSession("ILL-2023-RYD-1", date(2023, 4, 19), "entered twice"))
    export(capsys, store, tmp_path / "pack")
    document = query(capsys, store, "report", CASE_NUMBER, "--follow-up", "ILL-2023-H1")
    changed = rows(load_workbook(tmp_path / "pack" / "workbook.xlsx")["Follow-up changes"])
    assert [(r["follow_up_ref"], r["figure"], r["submitted"], r["now"]) for r in changed] == [
        ("ILL-2023-H1", c["figure"], c["submitted"], c["now"])
        for c in document["follow_up"]["changes"]
    ]
    assert ("sessions", 40, 39) in {(r["figure"], r["submitted"], r["now"]) for r in changed}


def test_payments_beside_the_decisions_that_cover_them(
    capsys: pytest.CaptureFixture[str], store: str, ledger: Ledger, tmp_path: Path
) -> None:
    ledger.execute(RecordDisbursement(CASE_NUMBER, Money.kronor(5000), date(2020, 6, 1)))
    ledger.execute(
        RecordDisbursement(
            CASE_NUMBER, Money.kronor(1000), date(2023, 5, 2), "state_grant_parenting_support"
        )
    )
    ledger.execute(RecordDisbursement(CASE_NUMBER, Money.kronor(700), date(2022, 6, 1)))
    ledger.execute(RetractDisbursement(CASE_NUMBER, date(2022, 6, 1), Money.kronor(700), "typo"))
    ledger.execute(RecordDisbursement(CASE_NUMBER, Money.kronor(10), date(2023, 4, 3), "elsewhere"))
    export(capsys, store, tmp_path / "pack")
    paid = {
        day(r["paid_on"]): r
        for r in rows(load_workbook(tmp_path / "pack" / "workbook.xlsx")["Disbursements"])
    }
    assert (
        paid["2020-06-01"]["flag"] == PaymentFlag.NO_DECISION.value
    )  # no funding line covers 2020
    assert paid["2023-04-03"]["flag"] == PaymentFlag.NO_DECISION.value  # no line of that source
    grant = paid["2023-05-02"]
    assert grant["covering_decisions"].startswith("state_grant_parenting_support 2023-04-01")
    assert amount(grant["covering_amount"]) == Decimal("200500.00")
    assert grant["flag"] is None
    both = paid["2023-04-20"]
    assert amount(both["covering_amount"]) == Decimal("300500.00")  # grant and committee budget
    assert both["status"] == "paid"
    retracted = paid["2022-06-01"]
    assert (retracted["status"], retracted["retraction_reason"]) == ("retracted", "typo")
    assert retracted["flag"] == PaymentFlag.NO_DECISION.value
    budget = query(capsys, store, "budget", CASE_NUMBER, "--on", ON)
    live = [r for r in paid.values() if r["status"] == "paid"]
    assert sum(amount(r["amount"]) for r in live) == Decimal(budget["disbursed"])


def test_the_history_csv_and_jsonl_have_the_rows_of_biv_history(
    capsys: pytest.CaptureFixture[str], store: str, pack: Path
) -> None:
    facts = query(capsys, store, "history", CASE_NUMBER)["facts"]
    lines = (pack / "history.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line) for line in lines] == facts
    table = read_csv(pack / "history.csv")
    assert len(table) == len(facts) == 178
    for row, fact in zip(table, facts, strict=True):
        assert row["recorded_at"] == fact["recorded_at"]
        assert (row["type"], row["aggregate"]) == (fact["type"], fact["aggregate"])
        assert int(row["chain_position"]) == fact["chain_position"]
        assert json.loads(row["data"]) == fact["data"]
        assert row["decided_on"] == ((fact["decision"] or {}).get("decided_on") or "")
    sheet = rows(load_workbook(pack / "workbook.xlsx")["History"])
    assert [r["type"] for r in sheet] == [f["type"] for f in facts]


def test_the_charts_are_png(pack: Path) -> None:
    for name in ("funding.png", "participation.png"):
        data = (pack / name).read_bytes()
        assert data.startswith(PNG), name
        assert len(data) > 5000


def test_the_digest_is_that_of_biv_audit_digest(
    capsys: pytest.CaptureFixture[str], store: str, pack: Path
) -> None:
    assert (pack / "digest.txt").read_text() == biv(capsys, store, "audit", "digest")
    verified = json.loads((pack / "verification.json").read_text())
    assert verified == query(capsys, store, "audit", "verify")
    assert verified["intact"] is True
    digest = rows(load_workbook(pack / "workbook.xlsx")["Digest"])
    assert digest[0] == {"what": "digest", "value": (pack / "digest.txt").read_text().strip()}


def test_the_pack_as_text_lists_its_files(
    capsys: pytest.CaptureFixture[str], store: str, ledger: Ledger, tmp_path: Path
) -> None:
    out = biv(capsys, store, "audit", "export", CASE_NUMBER, "--out", str(tmp_path), "--on", ON)
    for name in PACK:
        assert name in out
    written = {line.split()[0] for line in out.splitlines()[3:]}
    assert written == {*PACK, "manifest.json"}
    assert written <= {p.name for p in tmp_path.iterdir()}  # beside the store
    assert out.startswith("revisionsunderlaget för Dnr 2016-292")
    english = biv(capsys, store, "audit", "export", CASE_NUMBER, "--out", str(tmp_path), *ENGLISH)
    assert english.startswith("wrote the auditor's pack")
    assert "manifest.json" in english


def test_an_unknown_case_exits_1_and_writes_nothing(
    capsys: pytest.CaptureFixture[str], store: str, ledger: Ledger, tmp_path: Path
) -> None:
    code = main(["audit", "export", "Dnr 0000-0", "--out", str(tmp_path / "x"), "--store", store])
    assert code == 1
    assert "Dnr 0000-0" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


def test_an_unwritable_folder_exits_2(
    capsys: pytest.CaptureFixture[str], store: str, ledger: Ledger, tmp_path: Path
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    code = main(["audit", "export", CASE_NUMBER, "--out", str(blocker / "x"), "--store", store])
    assert code == 2
    assert capsys.readouterr().err.startswith("biv: cannot write the pack")


def test_text_a_spreadsheet_would_run_is_kept_as_text_in_the_csv(tmp_path: Path) -> None:
    from biv_adapters.pack.export import csv_cell

    assert csv_cell('=HYPERLINK("http://x")') == '\'=HYPERLINK("http://x")'
    assert csv_cell("@SUM(A1)") == "'@SUM(A1)"
    assert csv_cell("Ryd") == "Ryd"
    assert csv_cell(Decimal("-5.00")) == Decimal("-5.00")  # numbers stay numbers


SHEETS_SV = [
    "Historik",
    "Budgetrader",
    "Budget per år",
    "Utbetalningar",
    "Rapport per år",
    "Uppföljningar",
    "Uppföljning siffror",
    "Uppföljning ändringar",
    "Kontrollsumma",
]


def test_the_pack_is_in_swedish_by_default(pack_sv: Path) -> None:
    book = load_workbook(pack_sv / "workbook.xlsx")
    assert book.sheetnames == SHEETS_SV
    assert [c.value for c in book["Budget per år"][1]] == [
        "budgetår",
        "kommunen (kr)",
        "partnern (kr)",
        "totalt (kr)",
    ]
    report = [c.value for c in book["Rapport per år"][1]]
    assert {"från", "till", "deltagande barn", "mål.barn per år.uppfyllt"} <= set(report)
    manifest = json.loads((pack_sv / "manifest.json").read_text())
    assert (manifest["lang"], manifest["csv_dialect"]) == ("sv", "excel-sv")


def test_the_budget_by_year_in_swedish_equals_biv_budget(
    capsys: pytest.CaptureFixture[str], store: str, pack_sv: Path
) -> None:
    """The Swedish twin of test_the_budget_by_year_equals_biv_budget."""
    budget = query(capsys, store, "budget", CASE_NUMBER, "--on", ON)
    years = rows(load_workbook(pack_sv / "workbook.xlsx")["Budget per år"])
    by_year = {str(r["budgetår"]): r for r in years}
    assert set(by_year) == set(budget["by_fiscal_year"])
    for year, sums in budget["by_fiscal_year"].items():
        assert amount(by_year[year]["kommunen (kr)"]) == Decimal(sums["municipality"])
        assert amount(by_year[year]["totalt (kr)"]) == Decimal(sums["total"])
    assert read_excel_sv_csv(pack_sv / "budget_by_year.csv")[3] == {
        "budgetår": "2023",
        "kommunen (kr)": "225375,00",  # a decimal comma: Swedish Excel reads a number
        "partnern (kr)": "120000,00",
        "totalt (kr)": "345375,00",
    }


def test_the_csv_files_open_in_swedish_excel_or_as_rfc_4180(pack_sv: Path, pack: Path) -> None:
    for name in PACK:
        if name.endswith(".csv"):
            assert (pack_sv / name).read_bytes().startswith(b"\xef\xbb\xbf"), name
            assert b";" in (pack_sv / name).read_bytes().splitlines()[0], name
            assert not (pack / name).read_bytes().startswith(b"\xef\xbb\xbf"), name
    history_sv = read_excel_sv_csv(pack_sv / "history.csv")
    assert len(history_sv) == len(read_csv(pack / "history.csv")) == 178
    assert "registrerad (UTC)" in history_sv[0]


def test_the_history_sheet_holds_real_dates(
    capsys: pytest.CaptureFixture[str], store: str, pack_sv: Path, pack: Path
) -> None:
    facts = query(capsys, store, "history", CASE_NUMBER)["facts"]
    for folder, (recorded, effective) in (
        (pack, ("recorded_at", "effective_on")),
        (pack_sv, ("registrerad (UTC)", "gäller från")),
    ):
        sheet = load_workbook(folder / "workbook.xlsx").worksheets[0]
        for row, fact in zip(rows(sheet), facts, strict=True):
            assert isinstance(row[recorded], datetime)
            moment = datetime.fromisoformat(fact["recorded_at"]).replace(tzinfo=None)
            assert abs((row[recorded] - moment).total_seconds()) < 0.01
            assert day(row[effective]) == fact["effective_on"]
        headers = {c.value: getattr(c, "column_letter", "") for c in sheet[1]}
        assert sheet[f"{headers[recorded]}2"].number_format == "yyyy-mm-dd hh:mm:ss"
        assert sheet[f"{headers[effective]}2"].number_format == "yyyy-mm-dd"


def test_every_sheet_prints_at_8_points_or_more(pack_sv: Path, pack: Path) -> None:
    # Issue 23: fitted to one page's width, Historik printed at 5 pt. Now a narrow sheet prints
    # portrait at full size, a wide one landscape across as many pages as keep it at 8 pt.
    for folder in (pack_sv, pack):
        book: Any = load_workbook(folder / "workbook.xlsx")
        for sheet in book.worksheets:
            inches = printed_inches(sheet)
            orientation, across = print_plan(inches)
            assert sheet.page_setup.orientation == orientation, sheet.title
            assert (sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight) == (across, 0)
            scale = min(1, across * PRINTABLE_INCHES[orientation] / inches)
            assert FONT_POINTS * scale >= 8, sheet.title
            assert sheet.sheet_properties.pageSetUpPr.fitToPage is True, sheet.title
            assert sheet.print_title_rows == "$1:$1", sheet.title
        orientations = {s.title: s.page_setup.orientation for s in book.worksheets}
        assert "portrait" in orientations.values()
        assert "landscape" in orientations.values()


def test_illustrative_data_is_marked_in_every_sheet_and_csv_it_touches(
    pack_sv: Path, pack: Path
) -> None:
    book: Any = load_workbook(pack_sv / "workbook.xlsx")
    column = "illustrativ (påhittad)"
    paid = rows(book["Utbetalningar"])
    assert [r[column] for r in paid] == ["ja", "ja"]  # the demo's two payments are invented
    assert all(r[column] == "ja" for r in rows(book["Uppföljningar"]))
    years = {day(r["från"]): r[column] for r in rows(book["Rapport per år"])}
    assert years["2023-04-01"] == "ja"
    assert years["2017-04-01"] == "nej"
    history = rows(book["Historik"])
    assert {r[column] for r in history} == {"ja", "nej"}
    assert all(r[column] == "ja" for r in history if "ILL-" in str(r["avser"]))
    assert not any(r[column] == "ja" for r in history if r["händelse"] == "FundingChanged")
    # No cell of the book is a boolean: a spreadsheet shows one as FALSE, or as 0 in a column
    # of numbers, so one stored fact would read two ways
    cells = [c.value for sheet in book.worksheets for row in sheet.iter_rows() for c in row]
    assert not any(isinstance(value, bool) for value in cells)
    note = "Innehåller illustrativa uppgifter"
    for title in ("Historik", "Utbetalningar", "Rapport per år", "Uppföljningar"):
        assert book[title].oddHeader.right.text.startswith(note), title
    assert column not in [c.value for c in book["Budget per år"][1]]  # decisions: documents
    assert not book["Budget per år"].oddHeader.right.text
    csv_rows = read_excel_sv_csv(pack_sv / "disbursements.csv")
    assert [r[column] for r in csv_rows] == ["true", "true"]
    assert [r["illustrative"] for r in read_csv(pack / "follow_ups.csv")] == ["true", "true"]
    files = {
        f["name"]: f["illustrative"]
        for f in json.loads((pack / "manifest.json").read_text())["files"]
    }
    assert [name for name, invented in files.items() if invented] == [
        *("history.jsonl", "history.csv", "disbursements.csv", "report_by_year.csv"),
        *("follow_ups.csv", "follow_up_figures.csv"),  # follow_up_changes.csv: no rows
        *("workbook.xlsx", "participation.png", "revisionsrapport.pdf"),
    ]


def drawn(figure: Any) -> Any:
    """The figure's one axes, drawn so that its tick labels are formatted."""
    figure.canvas.draw()
    (axes,) = figure.axes
    return axes


def texts(labels: Any) -> list[str]:
    return [label.get_text() for label in labels]


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        ("sv", ("Finansiering per budgetår", "kronor", "saknas i underlagen", "kommunen",
                "partnern")),
        ("en", ("Funding per fiscal year", "kronor (SEK)", "not in the documents",
                "municipality", "partner")),
    ],
)  # fmt: skip
def test_the_funding_chart_names_its_axes_and_the_years_with_no_decision(
    ledger: Ledger, lang: Any, words: tuple[str, str, str, str, str]
) -> None:
    title, ylabel, missing, municipality, partner = words
    state = ledger.agreement(CASE_NUMBER)
    figures = budget(state, date.fromisoformat(ON))
    axes = drawn(funding_figure(state, figures, lang))
    assert axes.get_title().startswith(f"{title}, {CASE_NUMBER}")
    assert axes.get_ylabel() == ylabel
    assert axes.get_xlabel()
    ticks = [t.replace("\n", " ") for t in texts(axes.get_xticklabels())]
    assert ticks == [
        *("2017", "2018", "2019"),
        *(f"{year} {missing}" for year in (2020, 2021, 2022)),
        *("2023", "2024"),
    ]
    assert texts(axes.get_legend().get_texts()) == [missing, municipality, partner]
    # Each party has a bar for each year with a decision, none (not a zero) for the others.
    assert [len(bars) for bars in axes.containers] == [5, 5]
    assert missing in texts(axes.texts)
    separator = " " if lang == "sv" else ","
    assert f"250{separator}000" in texts(axes.get_yticklabels())
    assert not any(re.fullmatch(r"\d{4,}", t) for t in texts(axes.get_yticklabels()))


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        ("sv", ("Barngrupper per månad", "antal", "träffar", "deltagande barn",
                "illustrativa uppgifter")),
        ("en", ("Children's groups per month", "number", "sessions", "children attending",
                "illustrative data")),
    ],
)  # fmt: skip
def test_the_participation_chart_is_marked_illustrative(
    ledger: Ledger, lang: Any, words: tuple[str, str, str, str, str]
) -> None:
    title, ylabel, sessions, children, illustrative = words
    state = ledger.agreement(CASE_NUMBER)
    figure = participation_figure(state, ledger.groups(CASE_NUMBER), lang)
    axes = drawn(figure)
    assert axes.get_title() == f"{title}, {CASE_NUMBER}\n({illustrative})"
    assert axes.get_ylabel() == ylabel
    assert sorted(texts(axes.get_legend().get_texts())) == sorted([sessions, children])
    assert texts(axes.get_xticklabels())[:2] == ["2023-04", "2023-05"]
    assert any(illustrative.lower() in t.lower() for t in texts(figure.texts))


def test_the_workbook_opens_in_libreoffice(pack_sv: Path, tmp_path: Path) -> None:
    soffice = shutil.which("soffice")
    if soffice is None:
        pytest.skip(
            "LibreOffice (soffice) is not installed: .ci/run installs libreoffice-calc-nogui"
        )
    profile = (tmp_path / "lo-profile").as_uri()  # its own profile: runs in parallel do not clash
    command = [soffice, f"-env:UserInstallation={profile}", "--headless", "--convert-to", "pdf"]
    command += ["--outdir", str(tmp_path / "pdf"), str(pack_sv / "workbook.xlsx")]
    subprocess.run(command, check=True, capture_output=True, timeout=180)
    pdf = (tmp_path / "pdf" / "workbook.pdf").read_bytes()
    assert pdf.startswith(b"%PDF")
    boxes = re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)", pdf)
    assert boxes
    # every page A4, portrait for a narrow sheet, landscape for a wide one (the page tree's
    # own box spans both: 842 by 842)
    sizes = {(round(float(w)), round(float(h))) for w, h in boxes} - {(842, 842)}
    assert sizes == {(595, 842), (842, 595)}
    assert len(re.findall(rb"/Type\s*/Page\b", pdf)) >= len(SHEETS_SV)
    # and no text printed under 8 pt (issue 23: fitted to one page's width, Historik was 5 pt):
    # each word's box from poppler, 1.3 times the size of LibreOffice's Carlito at 11 pt
    if shutil.which("pdftotext") is None:
        return
    boxes_html = tmp_path / "boxes.html"
    subprocess.run(["pdftotext", "-bbox", str(tmp_path / "pdf" / "workbook.pdf"), str(boxes_html)],
                   check=True)  # fmt: skip
    heights = [
        float(y_max) - float(y_min)
        for y_min, y_max in re.findall(
            r'yMin="([\d.]+)" xMax="[\d.]+" yMax="([\d.]+)"', boxes_html.read_text("utf-8")
        )
    ]
    assert heights
    assert min(heights) / 1.3 >= 8
