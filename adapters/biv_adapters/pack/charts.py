"""The pack's two charts, each built as a matplotlib Figure before it is saved.

`funding_figure` and `participation_figure` return the Figure, so that a test
can read back its title, axis labels, tick labels and legend; `write_charts`
saves them as PNG. Amounts carry thousands separators ("225 375" in Swedish),
every chart has a y label, a fiscal year with no recorded funding decision is
drawn as a hatched gap labelled "saknas i underlagen" (not as a zero bar), and
a chart that draws on illustrative data says so in its title and beneath it.
matplotlib draws with Agg: no display is needed.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date
from pathlib import Path
from textwrap import fill
from typing import TYPE_CHECKING

from biv_adapters.pack.labels import Lang, amount_text, is_illustrative, text
from biv_domain.model.agreement import AgreementState
from biv_domain.model.dates import Period, add_months, day_before
from biv_domain.model.group import GroupState
from biv_domain.model.vocabulary import GroupKind, Party
from biv_domain.projections.budget import Budget
from biv_domain.projections.report import report

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def periods(start: date, end: date, months: int) -> list[Period]:
    """Back-to-back periods of `months` from `start`, the last one cut at `end`."""
    result = []
    while start <= end:
        result.append(Period(start, min(day_before(add_months(start, months)), end)))
        start = add_months(start, months)
    return result


# A chart's size in inches: (8, 4.5) in the pack; the PDF report draws its own at the
# printed page's width (`printed`), so that its text prints at its size.
FIGURE_SIZE: ContextVar[tuple[float, float]] = ContextVar("FIGURE_SIZE", default=(8, 4.5))


@contextmanager
def printed(width: float, height: float, font_size: float) -> Iterator[None]:
    """Charts drawn inside are `width` × `height` inches, their text `font_size` points
    (the smallest, "small", five sixths of it), titles no larger."""
    import matplotlib

    token = FIGURE_SIZE.set((width, height))
    try:
        with matplotlib.rc_context({"font.size": font_size, "axes.titlesize": "medium"}):
            yield
    finally:
        FIGURE_SIZE.reset(token)


def _figure() -> Figure:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=FIGURE_SIZE.get())
    FigureCanvasAgg(figure)
    return figure


def _mark_illustrative(figure: Figure, lang: Lang) -> None:
    figure.text(
        0.5, 0.01, text(lang, "illustrative_note"), ha="center", fontsize="small", color="C3"
    )


def _title(lang: Lang, key: str, illustrative: bool, **values: object) -> str:
    title = text(lang, key, **values)
    return f"{title}\n({text(lang, 'illustrative')})" if illustrative else title


def funding_figure(
    state: AgreementState, figures: Budget, lang: Lang, *, illustrative: bool = False
) -> Figure:
    """Funding per fiscal year, municipality beside partner; years without a decision as gaps."""
    from matplotlib.ticker import FuncFormatter

    figure = _figure()
    axes = figure.subplots()
    known = figures.by_fiscal_year
    years = list(range(min(known), max(known) + 1)) if known else []
    slots = [i for i, y in enumerate(years) if y in known]
    for offset, party in ((-0.2, Party.MUNICIPALITY), (0.2, Party.PARTNER)):
        amounts = [getattr(known[years[i]], party.value).ore / 100 for i in slots]
        label = text(lang, party.value)
        axes.bar([i + offset for i in slots], amounts, width=0.4, label=label)
    missing = text(lang, "missing")
    for number, i in enumerate(i for i, y in enumerate(years) if y not in known):
        axes.axvspan(
            i - 0.45, i + 0.45, facecolor="none", edgecolor="gray", hatch="//",
            label=missing if number == 0 else None,
        )  # fmt: skip
        axes.text(
            i, 0.5, missing, rotation=90, ha="center", va="center", color="dimgray",
            transform=axes.get_xaxis_transform(),
        )  # fmt: skip
    wrapped = fill(missing, 11)
    ticks = [str(y) if y in known else f"{y}\n{wrapped}" for y in years]
    axes.set_xticks(range(len(years)), ticks, fontsize="small")
    axes.yaxis.set_major_formatter(FuncFormatter(lambda value, _: amount_text(lang, value)))
    axes.set_ylabel(text(lang, "funding_ylabel"))
    axes.set_xlabel(text(lang, "funding_xlabel"))
    title = _title(lang, "funding_title", illustrative, case=state.case_number, on=figures.on)
    axes.set_title(title)
    if not known:
        axes.text(0.5, 0.5, missing, ha="center", transform=axes.transAxes)
    axes.set_ylim(0, axes.get_ylim()[1] * 1.3)  # room for the legend above the bars
    axes.legend(loc="upper center", ncols=3)
    figure.tight_layout(rect=(0, 0.04, 1, 1))
    if illustrative:
        _mark_illustrative(figure, lang)
    return figure


def participation_figure(state: AgreementState, groups: list[GroupState], lang: Lang) -> Figure:
    """Children attending and sessions of children's groups per month."""
    from matplotlib.ticker import FuncFormatter

    children = [g for g in groups if g.plan.kind is GroupKind.CHILDREN]
    held = [s.held_on for g in children for s in g.sessions]
    illustrative = _illustrative(children)
    months = periods(min(held).replace(day=1), max(held), 1) if held else []
    counts = [report(state, groups, month) for month in months]
    labels = [f"{m.start:%Y-%m}" for m in months]
    figure = _figure()
    axes = figure.subplots()
    sessions, attending = text(lang, "sessions"), text(lang, "children")
    axes.bar(labels, [c.sessions for c in counts], color="lightgray", label=sessions)
    axes.plot(labels, [c.participants for c in counts], marker="o", label=attending)
    axes.set_title(_title(lang, "participation_title", illustrative, case=state.case_number))
    axes.set_ylabel(text(lang, "participation_ylabel"))
    axes.set_xlabel(text(lang, "participation_xlabel"))
    axes.yaxis.set_major_formatter(FuncFormatter(lambda value, _: amount_text(lang, value)))
    if not months:
        axes.text(0.5, 0.5, text(lang, "no_sessions"), ha="center", transform=axes.transAxes)
    axes.tick_params(axis="x", labelrotation=45)
    axes.legend()
    figure.tight_layout(rect=(0, 0.04, 1, 1))
    if illustrative:
        _mark_illustrative(figure, lang)
    return figure


def _illustrative(groups: list[GroupState]) -> bool:
    return any(is_illustrative(g.group_ref) for g in groups if g.sessions)


def write_charts(
    out: Path, state: AgreementState, groups: list[GroupState], figures: Budget, lang: Lang
) -> dict[str, bool]:
    """Saves funding.png and participation.png into `out`; says which draw illustrative data."""
    invented = any(is_illustrative(line.note) for line in figures.funding)
    funding = funding_figure(state, figures, lang, illustrative=invented)
    funding.savefig(out / "funding.png", dpi=100)
    participation_figure(state, groups, lang).savefig(out / "participation.png", dpi=100)
    children = [g for g in groups if g.plan.kind is GroupKind.CHILDREN]
    return {"funding.png": invented, "participation.png": _illustrative(children)}
