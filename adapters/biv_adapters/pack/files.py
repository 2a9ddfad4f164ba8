"""The pack's tables as CSV files and as the sheets of one workbook.

CSV comes in two dialects:
- `excel-sv` (the default): what Excel set to Swedish opens with a double
  click: UTF-8 with a byte-order mark, `;` between fields and a decimal comma
  in amounts ("225375,00"), so that amounts are numbers, not text.
- `rfc4180`: UTF-8 without a mark, `,` between fields and a decimal point, for
  scripts and other programs.
Dates are ISO 8601 (2024-04-30) in both, which Swedish Excel reads as dates.

The workbook holds amounts as numbers, dates as dates (the History sheet's
`recorded_at` as a date and time in UTC), a bold, frozen header row, and a
print layout on every sheet: landscape, fitted to the page's width, the header
row repeated on every page. Rows marked illustrative are shaded and the
sheet's printed header says so.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from attrs import frozen

from biv_adapters.pack.labels import Lang, header, text
from biv_adapters.pack.words import value_text
from biv_domain.model.money import Money

CsvDialect = Literal["excel-sv", "rfc4180"]
CSV_DIALECTS: tuple[CsvDialect, ...] = ("excel-sv", "rfc4180")
ILLUSTRATIVE = "illustrative"  # the column that marks a row of invented data


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
    def illustrative(self) -> bool:
        return any(row.get(ILLUSTRATIVE) for row in self.rows)


def marked(table: Table, flags: Sequence[bool]) -> Table:
    """The table with a column `illustrative` when any of its rows is, else unchanged."""
    if not any(flags):
        return table
    rows = tuple(row | {ILLUSTRATIVE: flag} for row, flag in zip(table.rows, flags, strict=True))
    columns = (*table.columns, ILLUSTRATIVE) if table.columns else ()
    return Table(table.file, rows, columns)


def csv_cell(value: object, *, decimal_comma: bool = False) -> object:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        # Text a spreadsheet would run as a formula is kept as text (OWASP's CSV injection advice).
        return "'" + value
    if isinstance(value, Money | Decimal | float):
        return str(value).replace(".", ",") if decimal_comma else value
    return value.isoformat() if isinstance(value, date) else value


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def write_csv(path: Path, table: Table, lang: Lang, dialect: CsvDialect = "excel-sv") -> None:
    swedish_excel = dialect == "excel-sv"
    encoding = "utf-8-sig" if swedish_excel else "utf-8"
    with path.open("w", newline="", encoding=encoding) as handle:
        writer = csv.writer(handle, delimiter=";" if swedish_excel else ",")
        writer.writerow([header(lang, name) for name in table.headers])
        writer.writerows(
            [csv_cell(row.get(h), decimal_comma=swedish_excel) for h in table.headers]
            for row in table.rows
        )


def write_workbook(path: Path, sheets: Sequence[tuple[str, Table]], lang: Lang) -> None:
    """One sheet per table; amounts as numbers with two decimals, dates as dates."""
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Alignment, Font, PatternFill

    shade = PatternFill("solid", fgColor="FFF2CC")
    book = Workbook()
    book.remove(book.active)  # type: ignore[arg-type]
    for name, table in sheets:
        sheet = book.create_sheet(name)
        sheet.append([header(lang, h) for h in table.headers])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in table.rows:
            sheet.append(
                [_xlsx_cell(row.get(h), ILLEGAL_CHARACTERS_RE, lang) for h in table.headers]
            )
            if row.get(ILLUSTRATIVE):
                for cell in sheet[sheet.max_row]:
                    cell.fill = shade
        for number, _ in enumerate(table.headers, start=1):
            column = sheet.cell(1, number).column_letter
            for cell in sheet[column][1:]:
                if isinstance(cell.value, str) and cell.value.startswith("="):
                    cell.data_type = "s"  # text from the ledger is never a formula
                elif isinstance(cell.value, Decimal):
                    cell.number_format = "#,##0.00"
                elif isinstance(cell.value, datetime):
                    cell.number_format = "yyyy-mm-dd hh:mm:ss"
                elif isinstance(cell.value, date):
                    cell.number_format = "yyyy-mm-dd"
            # A column as wide as its values (its name wraps in the header), at most
            # WIDEST characters: a longer text wraps in its cell, so no column widens the page.
            width = max((len(_shown(c.value)) for c in sheet[column][1:]), default=0)
            words = max((len(w) for w in str(sheet[column][0].value or "").split()), default=0)
            sheet.column_dimensions[column].width = min(max(width, words, 8) + 2, WIDEST)
            if width + 2 > WIDEST:
                for cell in sheet[column][1:]:
                    cell.alignment = Alignment(wrap_text=True, vertical="top")
        for cell in sheet[1]:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        sheet.freeze_panes = "A2"
        _print_layout(sheet, name, table, lang)
    book.save(path)


# Printing: A4 with Excel's default margins (0.7 inch a side) leaves 6.87 inches across in
# portrait and 10.29 in landscape; a column of width w (characters of the 11 pt default font)
# is w * 7 + 5 pixels at 96 to the inch. A sheet is never printed smaller than 8 pt: one too
# wide for a page at that size takes as many pages across as it needs.
# LibreOffice prints a column about 1.25 times as wide as that (measured on the pack: its text
# came out at 7.3 pt where the nominal widths promised 9.4), so the plan keeps 1.3 in hand.
PRINTABLE_INCHES = {"portrait": 6.87, "landscape": 10.29}
FONT_POINTS, SMALLEST_POINTS, WIDEST, SLACK = 11, 8, 40, 1.3


def printed_inches(sheet: Any) -> float:
    """The sheet's columns' width in inches at full size (with LibreOffice's slack)."""
    columns = range(1, sheet.max_column + 1)
    widths = [
        sheet.column_dimensions[sheet.cell(1, n).column_letter].width or 8.43 for n in columns
    ]
    return SLACK * sum(w * 7 + 5 for w in widths) / 96


def print_plan(inches: float) -> tuple[str, int]:
    """The orientation and the pages across for a sheet this wide: portrait when it fits at
    full size, else landscape on as many pages as keep its text at 8 pt or more."""
    if inches <= PRINTABLE_INCHES["portrait"]:
        return "portrait", 1
    smallest = SMALLEST_POINTS / FONT_POINTS
    return "landscape", max(1, math.ceil(inches * smallest / PRINTABLE_INCHES["landscape"] - 1e-9))


def _print_layout(sheet: Any, name: str, table: Table, lang: Lang) -> None:
    """Portrait or landscape (`print_plan`), header row on every page, name and page in the
    margins; the text never printed under 8 pt."""
    orientation, across = print_plan(printed_inches(sheet))
    sheet.page_setup.orientation = orientation
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = across
    sheet.page_setup.fitToHeight = 0  # as many pages down as it takes
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.print_title_rows = "1:1"
    sheet.print_options.gridLines = True
    sheet.oddHeader.left.text = name
    if table.illustrative:
        sheet.oddHeader.right.text = text(lang, "illustrative_note")
    sheet.oddFooter.right.text = "&P / &N"


def _shown(value: object) -> str:
    """About as many characters as the cell shows."""
    if isinstance(value, datetime):
        return "yyyy-mm-dd hh:mm:ss"
    if isinstance(value, date):
        return "yyyy-mm-dd"
    if isinstance(value, Decimal):
        return f"{value:,.2f}"
    return str(value if value is not None else "")


def _xlsx_cell(value: object, illegal: Any, lang: Lang) -> object:
    if isinstance(value, bool):
        # In the reader's words (ja/nej), as the PDF says them: a spreadsheet shows a boolean
        # cell as FALSE, or as 0 where its column is numbers, so the same fact read two ways.
        return value_text(lang, value)
    if isinstance(value, Money):
        return Decimal(str(value))
    if isinstance(value, str):
        return illegal.sub("\N{REPLACEMENT CHARACTER}", value)
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)  # Excel knows no time zones: UTC
    return value
