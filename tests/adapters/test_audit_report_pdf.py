"""The auditor's report (revisionsrapport.pdf) reads at print size, in Swedish by default.

Given the demo recorded in its stages, the pack's PDF is checked as a reader gets it:
its text (pdftotext), its pages (A4, numbered, the case number on each), the size of
its text on the page (each word's box, from poppler), its charts' text at print size,
and that an export that cannot finish leaves nothing in the folder.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from matplotlib.text import Text

from biv_adapters.demo import CASE_NUMBER, record_linkoping
from biv_adapters.pack import export as audit_pack
from biv_adapters.pack.charts import funding_figure, participation_figure, printed
from biv_adapters.pack.export import export
from biv_adapters.pack.pdf import (
    CHART_FONT_SIZE,
    CHART_HEIGHT,
    CHART_WIDTH,
    FILE,
    audit_report_pdf,
)
from biv_adapters.stores.registry import open_ledger
from biv_domain.ledger import Ledger
from biv_domain.projections.budget import budget

pytest.importorskip("weasyprint", reason="the PDF report needs the extra `pack` (WeasyPrint)")
POPPLER = shutil.which("pdftotext") and shutil.which("pdfinfo")
needs_poppler = pytest.mark.skipif(not POPPLER, reason="poppler-utils (pdftotext) not installed")
ON = date(2024, 4, 30)
# DejaVu Sans: a word's box is 1.164 times the font's size (ascent and descent).
BOX_PER_POINT = 1.164


@pytest.fixture(scope="module")
def ledger(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ledger]:
    folder = tmp_path_factory.mktemp("pdf")
    ledger = open_ledger(f"sqlite://{folder}/biv.sqlite3")
    record_linkoping(ledger)
    yield ledger
    ledger.close()


@pytest.fixture(scope="module")
def swedish(ledger: Ledger, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sv") / FILE
    path.write_bytes(audit_report_pdf(ledger, CASE_NUMBER, ON))
    return path


def run(*argv: str) -> str:
    return subprocess.run(argv, check=True, capture_output=True, text=True).stdout


def pages(path: Path) -> list[str]:
    count = int(re.search(r"Pages:\s+(\d+)", run("pdfinfo", str(path)))[1])  # type: ignore[index]
    return [run("pdftotext", "-f", str(i), "-l", str(i), str(path), "-") for i in
            range(1, count + 1)]  # fmt: skip


@needs_poppler
def test_the_report_is_on_a4_pages_each_numbered_with_the_case_number(swedish: Path) -> None:
    info = run("pdfinfo", "-f", "1", "-l", "99", str(swedish))
    sizes = re.findall(r"Page\s+\d+ size:\s+([\d.]+) x ([\d.]+) pts", info)
    # Then every page is A4 (portrait for the text, landscape for the charts)
    assert 3 <= len(sizes) <= 8
    assert {tuple(sorted(map(float, s))) for s in sizes} == {(595.276, 841.89)}
    texts = pages(swedish)
    for number, text in enumerate(texts, start=1):
        assert CASE_NUMBER in text
        assert f"Sida {number} av {len(texts)}" in text
    # and it is PDF/A-3b, for archiving as it is
    meta = run("pdfinfo", "-meta", str(swedish))
    assert 'pdfaid:part="3"' in meta
    assert 'pdfaid:conformance="B"' in meta


@needs_poppler
def test_the_report_is_in_swedish_values_too(swedish: Path) -> None:
    text = " ".join(" ".join(pages(swedish)).split())
    for words in (
        "Revisionsrapport: Dnr 2016-292",
        "Avtalet och dess beslut",
        "Budget per budgetår",
        "Utbetalningar mot beslut",
        "Rapport per avtalsår",
        "Uppföljningar",
        "Radering av barns personuppgifter",
        "Kontroll av kedjan",
        "Kedjan av",
        # values in Swedish: a status, parties, sources, a follow-up's status, ja/nej
        "Status 2024-04-30: upphört",
        "kommunen, nämndens budget",
        "partnern, egna medel",
        "statsbidrag för föräldraskapsstöd",
        "avslutad",
        "inlämnad",
        "nej",
        "utbetald",
        # amounts as a Swedish reader writes them
        "530 000,00 kr",
        # missing told from missed, and the target counted from its decision
        "ej bedömt: inga uppgifter registrerade",
        "räknas från 2022-10-19",
        "saknas i underlagen: 2020, 2021, 2022",
        # what the demo is
        "registreringstiderna är simulerade",
    ):
        assert words in text, words
    for english in ("in_force", "municipality", "committee_budget", "closed", "True", "False"):
        assert english not in text


@needs_poppler
def test_no_text_of_the_report_is_smaller_than_9_points(swedish: Path, tmp_path: Path) -> None:
    boxes = tmp_path / "boxes.html"
    run("pdftotext", "-bbox", str(swedish), str(boxes))
    heights = [
        float(y_max) - float(y_min)
        for y_min, y_max in re.findall(
            r'yMin="([\d.]+)" xMax="[\d.]+" yMax="([\d.]+)"', boxes.read_text("utf-8")
        )
    ]
    assert len(heights) > 300
    assert min(heights) / BOX_PER_POINT >= 9 - 0.01


def test_the_charts_text_prints_at_9_points_or_more(ledger: Ledger) -> None:
    # The report prints each chart at its drawn size: an inch of chart is an inch of paper
    state = ledger.agreement(CASE_NUMBER)
    with printed(CHART_WIDTH, CHART_HEIGHT, CHART_FONT_SIZE):
        figures = [
            funding_figure(state, budget(state, ON), "sv", illustrative=False),
            participation_figure(state, ledger.groups(CASE_NUMBER), "sv"),
        ]
    for figure in figures:
        assert tuple(figure.get_size_inches()) == (CHART_WIDTH, CHART_HEIGHT)
        figure.canvas.draw()
        texts = [t for t in figure.findobj() if isinstance(t, Text) and t.get_text()]
        sizes = [float(t.get_fontsize()) for t in texts]
        assert sizes
        assert min(sizes) >= 9


@needs_poppler
def test_the_report_in_english(ledger: Ledger, tmp_path: Path) -> None:
    path = tmp_path / FILE
    path.write_bytes(audit_report_pdf(ledger, CASE_NUMBER, ON, "en"))
    text = " ".join(" ".join(pages(path)).split())
    for words in ("Audit report: Dnr 2016-292", "Status on 2024-04-30: ended", "Page 1 of",
                  "municipality, committee budget", "530,000.00 kr", "not assessed"):  # fmt: skip
        assert words in text, words


def test_the_pack_holds_the_report(ledger: Ledger, tmp_path: Path) -> None:
    manifest = export(ledger, CASE_NUMBER, tmp_path / "pack", ON)
    names = {f["name"]: f for f in manifest["files"]}
    assert names[FILE]["illustrative"] is True
    assert (tmp_path / "pack" / FILE).read_bytes().startswith(b"%PDF-")


def test_an_export_that_cannot_finish_writes_nothing(
    ledger: Ledger, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a pack whose report cannot be made (its package missing)
    def missing(*_args: object, **_kwargs: object) -> bytes:
        raise ImportError("no weasyprint", name="weasyprint")

    monkeypatch.setattr(audit_pack, "audit_report_pdf", missing)
    out = tmp_path / "pack"
    out.mkdir()
    (out / "kept.txt").write_text("the auditor's own file")
    # When it is exported
    with pytest.raises(ImportError):
        export(ledger, CASE_NUMBER, out, ON)
    # Then nothing was written into the folder, and nothing is left beside it
    assert sorted(p.name for p in out.iterdir()) == ["kept.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pack"]
