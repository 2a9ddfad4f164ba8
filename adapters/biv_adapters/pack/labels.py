"""The words of the auditor's pack, in Swedish (the default) and English: one table.

The readers are municipal auditors (kommunrevisionen), so the pack speaks
Swedish unless `--lang en` is given. English keeps the pack's column names as
they are (`fiscal_year`, `decided_on`, …), so that scripts reading an English
pack go on working; Swedish names each sheet, column, chart title, axis and
legend in the words a Swedish auditor uses.

Only labels are translated: values such as a payment's `status` or a figure's
name stay the ledger's own words, so that a pack can be matched with `biv`'s
JSON output in either language.
"""

from __future__ import annotations

import re
from typing import Literal

Lang = Literal["sv", "en"]
LANGS: tuple[Lang, ...] = ("sv", "en")
# A table of words: each key's text in Swedish and English, its {placeholders} filled in by
# `word` (the charts' and notes' `TEXTS` here, the PDF report's `pdf_words.WORDS`).
Words = dict[str, dict[Lang, str]]

# Each file's sheet of the workbook (None: no sheet) and what it holds, in Swedish.
FILES_SV: dict[str, tuple[str | None, str]] = {
    "history.jsonl": (None, "varje registrerad händelse, ett JSON-objekt per rad, "
                      "som `biv history --json`"),
    "history.csv": ("Historik", "varje registrerad händelse, en rad var (data som JSON)"),
    "budget_lines.csv": ("Budgetrader", "varje finansieringsrads del av varje budgetår, bredvid "
                         "beslutet (beslutsdatum, beslutande organ, diarienummer)"),
    "budget_by_year.csv": ("Budget per år", "kommunen, partnern och totalt per budgetår, "
                           "som `biv budget --on DATUM`"),
    "disbursements.csv": ("Utbetalningar", "varje utbetalning, även återtagna, bredvid kommunens "
                          "finansieringsbeslut som täcker den; markerar en som saknar beslut"),
    "report_by_year.csv": ("Rapport per år", "rapportens siffror för varje avtalsår från "
                           "avtalets start, som `biv report --from --to`"),
    "follow_ups.csv": ("Uppföljningar", "varje uppföljning: period, sista dag, status, "
                       "inlämnad, avslutad"),
    "follow_up_figures.csv": ("Uppföljning siffror", "varje uppföljnings siffror som de lämnades "
                              "bredvid dagens (`biv report --follow-up REF`)"),
    "follow_up_changes.csv": ("Uppföljning ändringar", "vad som ändrats sedan inlämningen"),
    "workbook.xlsx": (None, "alla tabeller ovan, en flik var, och fliken Kontrollsumma"),
    "funding.png": (None, "diagram: finansiering per budgetår och part"),
    "participation.png": (None, "diagram: deltagande barn och träffar per månad"),
    "digest.txt": (None, "kedjans huvud, som `biv audit digest` skriver det"),
    "verification.json": (None, "genomgången av kedjan, som `biv audit verify --json` skriver den"),
    "manifest.json": (None, "ärendet, datum, kontrollsumman och varje fils SHA-256"),
    "revisionsrapport.pdf": (None, "rapporten för läsning, A4 (PDF/A-3b): avtalet, besluten, "
                             "budget, utbetalningar, rapport per år, uppföljningar, raderingar, "
                             "kedjans kontroll och kontrollsumma, diagrammen"),
}  # fmt: skip

MANIFEST_WHAT_EN = "the case, on, the digest and each file's SHA-256"

# Column names: English is the key itself; Swedish below. A dotted figure name
# (`targets.children_per_year.met`) is translated part by part.
HEADERS_SV: dict[str, str] = {
    "chain_position": "position i kedjan",
    "recorded_at": "registrerad (UTC)",
    "effective_on": "gäller från",
    "type": "händelse",
    "aggregate": "avser",
    "version": "version",
    "actor": "registrerad av",
    "decided_on": "beslutsdatum",
    "decided_by": "beslutande organ",
    "decision_ref": "diarienummer beslut",
    "data": "uppgifter (JSON)",
    "fiscal_year": "budgetår",
    "party": "part",
    "source": "finansieringskälla",
    "start": "från",
    "end": "till",
    "amount": "belopp (kr)",
    "in_year": "del av budgetåret (kr)",
    "note": "anteckning",
    "municipality": "kommunen (kr)",
    "partner": "partnern (kr)",
    "total": "totalt (kr)",
    "paid_on": "utbetald",
    "status": "status",
    "retraction_reason": "skäl för återtagande",
    "covering_decisions": "täckande beslut",
    "covering_amount": "täckande belopp (kr)",
    "flag": "anmärkning",
    "from": "från",
    "to": "till",
    "groups": "grupper",
    "parent_groups": "föräldragrupper",
    "sessions": "träffar",
    "parent_sessions": "föräldraträffar",
    "participants": "deltagande barn",
    "parents": "föräldrar",
    "by_gender": "per kön",
    "girl": "flickor",
    "boy": "pojkar",
    "by_age_band": "per åldersgrupp",
    "targets": "mål",
    "children_per_year": "barn per år",
    "groups_per_year": "grupper per år",
    "yearly": "per år",
    "expected": "förväntat",
    "actual": "utfall",
    "met": "uppfyllt",
    "as_known_at": "känt per",
    "follow_up_ref": "uppföljning",
    "due_on": "sista dag",
    "submitted_on": "inlämnad",
    "submitted_late": "inlämnad för sent",
    "closed_on": "avslutad",
    "assessment": "bedömning",
    "changes": "ändringar",
    "figure": "uppgift",
    "submitted": "inlämnat",
    "current": "nu",
    "changed": "ändrad",
    "now": "nu",
    "what": "vad",
    "value": "värde",
    "illustrative": "illustrativ (påhittad)",
    "support_minutes": "stödminuter",
    "support_minutes_assumed": "varav antagna minuter",
    "counts_from": "räknas från",
    "nothing_recorded": "inga uppgifter registrerade",
}

SHEET_DIGEST = {"sv": "Kontrollsumma", "en": "Digest"}

# Chart and note texts. {case} and {on} are filled in.
TEXTS: Words = {
    "funding_title": {
        "sv": "Finansiering per budgetår, {case} (beslut kända {on})",
        "en": "Funding per fiscal year, {case} (decided by {on})",
    },
    "funding_ylabel": {"sv": "kronor", "en": "kronor (SEK)"},
    "funding_xlabel": {"sv": "budgetår", "en": "fiscal year"},
    "municipality": {"sv": "kommunen", "en": "municipality"},
    "partner": {"sv": "partnern", "en": "partner"},
    "missing": {"sv": "saknas i underlagen", "en": "not in the documents"},
    "participation_title": {
        "sv": "Barngrupper per månad, {case}",
        "en": "Children's groups per month, {case}",
    },
    "participation_ylabel": {"sv": "antal", "en": "number"},
    "participation_xlabel": {"sv": "månad", "en": "month"},
    "sessions": {"sv": "träffar", "en": "sessions"},
    "children": {"sv": "deltagande barn", "en": "children attending"},
    "no_sessions": {"sv": "inga träffar registrerade", "en": "no sessions recorded"},
    "illustrative": {"sv": "illustrativa uppgifter", "en": "illustrative data"},
    "illustrative_note": {
        "sv": "Innehåller illustrativa uppgifter: påhittade för demonstrationen, "
        "inte ur underlagen.",
        "en": "Contains illustrative data: invented for the demonstration, not from the documents.",
    },
}


def word(words: Words, lang: Lang, key: str, **values: object) -> str:
    """The text of `key` in `lang` from a table of words, its placeholders filled in."""
    return words[key][lang].format(**values)


def text(lang: Lang, key: str, **values: object) -> str:
    return word(TEXTS, lang, key, **values)


def header(lang: Lang, name: str) -> str:
    """A column's name in `lang`: English keeps the key; Swedish translates each dotted part."""
    if lang == "en":
        return name
    return ".".join(HEADERS_SV.get(part, part) for part in name.split("."))


def sheet_name(lang: Lang, file: str, english: str | None) -> str | None:
    if lang == "en":
        return english
    return FILES_SV.get(file, (english, ""))[0]


def what(lang: Lang, file: str, english: str) -> str:
    return english if lang == "en" else FILES_SV.get(file, (None, english))[1]


def amount_text(lang: Lang, value: float) -> str:
    """Whole kronor with thousands separators: "225 375" in Swedish, "225,375" in English."""
    grouped = f"{value:,.0f}"
    return grouped.replace(",", " ").replace("-", "\N{MINUS SIGN}") if lang == "sv" else grouped


# How the data marks what is invented: the demo's illustrative year
# (linkoping_illustrative_2023.jsonl) names its groups, participants and
# follow-ups "ILL-…" and begins its notes with "Illustrative".
ILLUSTRATIVE = re.compile(r"\bILL-|\bIllustrative\b")


def is_illustrative(value: object) -> bool:
    """Whether a value, or any text inside it, is marked as illustrative."""
    if isinstance(value, str):
        return ILLUSTRATIVE.search(value) is not None
    if isinstance(value, dict):
        return any(is_illustrative(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(is_illustrative(v) for v in value)
    return False
