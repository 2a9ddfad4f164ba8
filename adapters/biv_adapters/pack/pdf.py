"""The auditor's report (revisionsrapport.pdf): the pack made for reading on A4 paper.

One document for kommunrevisionen: the agreement and its decisions, the budget by
fiscal year, the payments against the decisions, the yearly report, the
follow-ups, the erasures of children's data (how many, when, on what decision;
never whom), the chain's verification and digest, and the pack's two charts. The
case number and the page number are on every page; no text is smaller than 9 pt.
Swedish by default, values too (statuses, parties, sources, flags, ja/nej);
English with `lang="en"`.

Made with WeasyPrint from HTML and CSS, as PDF/A-3b (an archival PDF: fonts
embedded, no outside resources), so that an E-ARK package can hold it as is.
`audit_report_pdf` returns the bytes; `write_audit_report` writes a file.
"""

from __future__ import annotations

import base64
import html
import tempfile
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from pathlib import Path

from biv_adapters.demo_stages import demo_mark
from biv_adapters.pack.charts import periods, printed, write_charts
from biv_adapters.pack.labels import Lang, word
from biv_adapters.pack.pdf_words import WORDS
from biv_adapters.pack.words import value_text
from biv_domain.ledger import Ledger
from biv_domain.ledger.bookkeeping import ParticipantErased
from biv_domain.ledger.subjects import ERASED_PREFIX
from biv_domain.model.agreement import AgreementState
from biv_domain.model.group import GroupState
from biv_domain.projections.budget import Budget, budget, payments_against_decisions
from biv_domain.projections.report import report_view

FILE = "revisionsrapport.pdf"

CSS = """
@page {
  size: A4 portrait;
  margin: 22mm 18mm 20mm 18mm;
  @top-left { content: string(case); font-size: 9pt; color: #333; }
  @top-right { content: "%(title)s"; font-size: 9pt; color: #333; }
  @bottom-center { content: "%(page)s " counter(page) " %(of)s " counter(pages);
                   font-size: 9pt; color: #333; }
}
html { font-family: "DejaVu Sans", sans-serif; font-size: 10pt; color: #111; }
h1 { font-size: 18pt; margin: 0 0 4pt 0; string-set: case attr(data-case); }
h2 { font-size: 13pt; margin: 14pt 0 4pt 0; break-after: avoid; }
p { margin: 3pt 0; }
table { border-collapse: collapse; width: 100%%; margin: 4pt 0 8pt 0; font-size: 9pt; }
th, td { border: 0.5pt solid #888; padding: 2pt 4pt; text-align: left; vertical-align: top; }
th { background: #e8e8e8; }
td.n, th.n { text-align: right; white-space: nowrap; }
td.d, span.d { white-space: nowrap; }
tr { break-inside: avoid; }
.note { border: 1pt solid #8a5a00; background: #fff6e0; padding: 4pt 6pt; margin: 6pt 0; }
@page charts { size: A4 landscape; }
section.charts { page: charts; }
img { width: 254mm; }
figure { margin: 6pt 0; break-inside: avoid; }
figcaption { font-size: 9pt; }
"""


def _t(lang: Lang, key: str, **values: object) -> str:
    return html.escape(word(WORDS, lang, key, **values))


def _table(headers: Sequence[tuple[str, str]], rows: Iterable[Sequence[str]]) -> str:
    """An HTML table; each header is (text, css class: "n" numbers, "d" dates, "" text)."""
    head = "".join(f'<th class="{c}">{h}</th>' for h, c in headers)
    classes = [c for _h, c in headers]
    body = "".join(
        "<tr>"
        + "".join(f'<td class="{c}">{cell}</td>' for c, cell in zip(classes, row, strict=True))
        + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _e(lang: Lang, value: object) -> str:
    """A value in the reader's words; a date never broken across lines."""
    text = html.escape(value_text(lang, value))
    return f'<span class="d">{text}</span>' if isinstance(value, date) else text


def _span(start: date, end: date) -> str:
    return f'<span class="d">{start}</span> – <span class="d">{end}</span>'


def _decisions(state: AgreementState, lang: Lang) -> str:
    terms = state.terms
    rows = [
        (
            _e(lang, "concluded"),
            _span(terms.start, terms.end),
            _e(lang, terms.decided_on),
            _e(lang, terms.decided_by),
            _e(lang, terms.decision_ref),
        )
    ]
    rows += [
        (_e(lang, "extension"), f"{e.previous_end} → {e.end}", _e(lang, e.decided_on),
         _e(lang, e.decided_by), _e(lang, e.decision_ref))
        for e in state.extensions
    ]  # fmt: skip
    rows += [
        (
            _e(lang, "funding"),
            f"{_e(lang, f.party)}, {_e(lang, f.source)}, {f.start} – {f.end}: {_e(lang, f.amount)}",
            _e(lang, f.decided_on),
            _e(lang, f.decided_by),
            _e(lang, f.decision_ref),
        )
        for f in state.funding
    ]
    rows += [
        (_e(lang, "target"), f"{_e(lang, t.target)}: {t.value}", _e(lang, t.decided_on),
         _e(lang, t.decided_by), _e(lang, t.decision_ref))
        for t in state.targets
    ]  # fmt: skip
    headers = [
        (_t(lang, "decision"), ""),
        (_t(lang, "what"), ""),
        (_t(lang, "decided_on"), "d"),
        (_t(lang, "decided_by"), ""),
        (_t(lang, "decision_ref"), ""),
    ]
    return _table(headers, rows)


def _budget(figures: Budget, state: AgreementState, lang: Lang) -> str:
    rows = [
        (str(year), _e(lang, sums.municipality), _e(lang, sums.partner), _e(lang, sums.total))
        for year, sums in figures.by_fiscal_year.items()
    ]
    headers = [
        (_t(lang, "year"), ""),
        (_t(lang, "municipality"), "n"),
        (_t(lang, "partner"), "n"),
        (_t(lang, "total"), "n"),
    ]
    out = _table(headers, rows)
    years = range(state.terms.start.year, figures.end.year + 1)
    missing = [str(y) for y in years if y not in figures.by_fiscal_year]
    if missing:
        out += f"<p>{_t(lang, 'missing_years', years=', '.join(missing))}</p>"
    return out


def _payments(state: AgreementState, on: date, lang: Lang) -> str:
    checks = payments_against_decisions(state, on)
    if not checks:
        return f"<p>{_t(lang, 'no_payments')}</p>"
    rows = [
        (
            _e(lang, c.payment.paid_on),
            _e(lang, c.payment.amount),
            _e(lang, "retracted" if c.retraction else "paid"),
            "; ".join(
                f"{_e(lang, line.source)} {_span(line.start, line.end)}, "
                f"{_e(lang, line.decided_on)}"
                for line in c.covering
            ),
            _e(lang, c.flag.value or None),
        )
        for c in checks
    ]
    headers = [
        (_t(lang, "paid_on"), "d"),
        (_t(lang, "amount"), "n"),
        ("Status", ""),
        (_t(lang, "covering"), ""),
        (_t(lang, "flag"), ""),
    ]
    return _table(headers, rows)


def _yearly(state: AgreementState, groups: list[GroupState], lang: Lang) -> str:
    rows = []
    for year in periods(state.terms.start, state.ends_on(), 12):
        view = report_view(state, groups, year)
        f = view.figures
        cells = {}
        for t in view.targets:
            judged = (
                _t(lang, "not_assessed")
                if t.met is None
                else f"{_t(lang, 'met')}: {_e(lang, t.met)}"
            )
            late = (
                f"; {_t(lang, 'counts_from', day=t.counts_from)}"
                if t.counts_from not in (None, year.start)
                else ""
            )
            cells[t.target.value] = f"{t.expected} / {t.actual} ({judged}{late})"
        rows.append(
            (
                _span(year.start, year.end),
                str(f.groups),
                str(f.sessions),
                str(f.participants),
                str(f.parents),
                cells.get("children_per_year", ""),
                cells.get("groups_per_year", ""),
            )
        )
    headers = [
        (_t(lang, "window"), ""),
        (_t(lang, "groups"), "n"),
        (_t(lang, "sessions"), "n"),
        (_t(lang, "children"), "n"),
        (_t(lang, "parents"), "n"),
        (_t(lang, "target_children"), ""),
        (_t(lang, "target_groups"), ""),
    ]
    return _table(headers, rows)


def _follow_ups(ledger: Ledger, case_number: str, on: date, lang: Lang) -> str:
    standings = [f.standing(on) for f in ledger.follow_ups(case_number)]
    if not standings:
        return f"<p>{_t(lang, 'no_follow_ups')}</p>"
    rows = [
        (
            html.escape(s.follow_up_ref),
            _span(s.start, s.end),
            _e(lang, s.due_on),
            _e(lang, s.status.value),
            _e(lang, s.submitted_on),
            _e(lang, s.submitted_late) if s.submitted_on else "",
            _e(lang, s.closed_on),
        )
        for s in standings
    ]
    headers = [
        (_t(lang, "follow_up"), ""),
        (_t(lang, "window"), ""),
        (_t(lang, "due_on"), "d"),
        ("Status", ""),
        (_t(lang, "submitted_on"), "d"),
        (_t(lang, "late"), ""),
        (_t(lang, "closed_on"), "d"),
    ]
    return _table(headers, rows)


def _erasures(ledger: Ledger, groups: list[GroupState], lang: Lang) -> str:
    """How many children's data was erased, when and on what decision; never whom."""
    erased = {
        p.ref.removeprefix(ERASED_PREFIX)
        for g in groups
        for p in g.participants
        if p.ref.startswith(ERASED_PREFIX)
    }
    if not erased:
        return f"<p>{_t(lang, 'no_erasures')}</p>"
    decisions: dict[tuple[date, str], int] = {}
    for fact in ledger.facts(topics=("ParticipantErased",)):
        event = fact.event
        if isinstance(event, ParticipantErased) and event.participant[:12] in erased:
            key = (event.decided_on, event.reason)
            decisions[key] = decisions.get(key, 0) + 1
    rows = [
        (_e(lang, day), html.escape(reason), str(n))
        for (day, reason), n in sorted(decisions.items())
    ]
    headers = [(_t(lang, "decided_on"), "d"), (_t(lang, "reason"), ""), ("n", "n")]
    return f"<p>{_t(lang, 'erasure_count', n=len(erased))}</p>" + _table(headers, rows)


def audit_report_html(
    ledger: Ledger,
    case_number: str,
    on: date,
    lang: Lang = "sv",
    charts: Path | None = None,
    at: datetime | None = None,
) -> str:
    """The report as HTML; `charts` is a folder holding funding.png and participation.png;
    `at` the moment the ledger is reported as it stood (default: the ledger's clock)."""
    state = ledger.agreement(case_number)
    groups = ledger.groups(case_number)
    figures = budget(state, on)
    verification = ledger.verify_chain()
    head = ledger.digest()
    terms = state.terms
    mark = demo_mark(ledger)
    now = (at or ledger.clock()).replace(microsecond=0).isoformat()
    parts = [
        f'<h1 data-case="{html.escape(case_number)}">{_t(lang, "title")}: '
        f"{html.escape(case_number)}</h1>",
        f"<p><strong>{html.escape(terms.title)}</strong></p>",
        f"<p>{_t(lang, 'basis', on=on, now=now)}</p>",
    ]
    if mark is not None:
        parts.append(f'<p class="note">{html.escape(mark.sentence(lang))}</p>')
    parts += [
        f"<p>{_t(lang, 'parties')}: {html.escape(terms.municipality)}; "
        f"{html.escape(terms.partner)}</p>",
        f"<p>{_t(lang, 'period')}: {terms.start} – {state.end_as_decided(on)}. "
        f"{_t(lang, 'status', on=on)}: {_e(lang, figures.status.value)}. "
        f"{_t(lang, 'notice')}: {figures.last_notice_day}.</p>",
        f"<h2>{_t(lang, 'agreement')}</h2>",
        _decisions(state, lang),
        f"<h2>{_t(lang, 'budget')}</h2>",
        _budget(figures, state, lang),
        f"<h2>{_t(lang, 'payments')}</h2>",
        _payments(state, on, lang),
        f"<h2>{_t(lang, 'yearly')}</h2>",
        _yearly(state, groups, lang),
        f"<h2>{_t(lang, 'follow_ups')}</h2>",
        _follow_ups(ledger, case_number, on, lang),
        f"<h2>{_t(lang, 'erasures')}</h2>",
        _erasures(ledger, groups, lang),
        f"<h2>{_t(lang, 'verification')}</h2>",
        f"<p>{_t(lang, 'intact', n=verification.facts)}</p>"
        if verification.intact
        else f"<p>{_t(lang, 'broken', where=verification.first_break)}</p>",
        f"<p>{_t(lang, 'digest')}: <code>{html.escape(str(head) if head else '-')}</code></p>",
        f"<p>{_t(lang, 'digest_note')}</p>",
    ]
    if charts is not None:
        parts.append(f'<section class="charts"><h2>{_t(lang, "charts")}</h2>')
        for name, alt in (
            ("funding.png", "funding_alt"),
            ("participation.png", "participation_alt"),
        ):
            if (charts / name).exists():
                # As a data URI: WeasyPrint names an image by its address, so a temporary
                # folder's name would make each PDF's bytes differ (a package's must not).
                image = base64.b64encode((charts / name).read_bytes()).decode("ascii")
                parts.append(
                    f'<figure><img src="data:image/png;base64,{image}" alt="{_t(lang, alt)}">'
                    f"<figcaption>{_t(lang, alt)}</figcaption></figure>"
                )
        parts.append("</section>")
    css = CSS % {
        "title": WORDS["title"][lang],
        "page": WORDS["page"][lang],
        "of": WORDS["of"][lang],
    }
    return (
        f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8">'
        f"<title>{_t(lang, 'title')} {html.escape(case_number)}</title>"
        f"<style>{css}</style></head><body>{''.join(parts)}</body></html>"
    )


# The charts are printed on landscape pages, drawn at the printed size (10 inches wide), so
# that an inch of chart is an inch of paper: at 11 pt their smallest text ("small") is 9.2 pt.
CHART_WIDTH, CHART_HEIGHT, CHART_FONT_SIZE = 10.0, 5.4, 11


def audit_report_pdf(
    ledger: Ledger,
    case_number: str,
    on: date,
    lang: Lang = "sv",
    charts: Path | None = None,
    at: datetime | None = None,
) -> bytes:
    """The report as PDF/A-3b bytes. Without `charts`, the charts are drawn for it. The same
    ledger, day and moment `at` give the same bytes (an archive package's report)."""
    try:
        from weasyprint import HTML  # the extra `pack`
    except OSError:  # WeasyPrint is installed, but not the system's pango it draws text with
        raise ImportError("pango", name="pango (Debian: apt install libpango-1.0-0)") from None

    if charts is None:
        with tempfile.TemporaryDirectory() as folder:
            state = ledger.agreement(case_number)
            groups = ledger.groups(case_number)
            with printed(CHART_WIDTH, CHART_HEIGHT, CHART_FONT_SIZE):
                write_charts(Path(folder), state, groups, budget(state, on), lang)
            return audit_report_pdf(ledger, case_number, on, lang, Path(folder), at)
    page = audit_report_html(ledger, case_number, on, lang, charts, at)
    html = HTML(string=page, base_url=str(charts))
    pdf: bytes = html.write_pdf(pdf_variant="pdf/a-3b")
    return pdf


def write_audit_report(
    ledger: Ledger, case_number: str, on: date, path: Path, lang: Lang = "sv"
) -> Path:
    """Writes the report to `path` (a file, or a folder to hold revisionsrapport.pdf)."""
    target = path / FILE if path.is_dir() else path
    target.write_bytes(audit_report_pdf(ledger, case_number, on, lang))
    return target
