"""`biv demo`: record the Linköping history in the store and show what a user asks first.

The history is two exchange files shipped inside `biv_domain`: what the two
source documents state, and an illustrative year of activity (invented, and
labelled so everywhere). Every line has an id, so running the demo again
stores nothing twice.
"""

from __future__ import annotations

from datetime import date
from importlib.resources import files
from typing import Any

from biv_adapters.cli import render
from biv_adapters.demo_stages import demo_mark, record_in_stages
from biv_domain.converter import document, json_text
from biv_domain.ledger import Ledger
from biv_domain.model.dates import Period
from biv_domain.projections.budget import budget

CASE_NUMBER = "Dnr 2016-292"
DATA_FILES = ("linkoping_documents.jsonl", "linkoping_illustrative_2023.jsonl")
BUDGET_ON = date(2023, 10, 1)
YEAR = Period(date(2023, 4, 1), date(2024, 3, 31))
HALF_YEAR = Period(date(2023, 4, 1), date(2023, 9, 30))


def linkoping_lines() -> list[str]:
    """The Linköping history as exchange-format lines."""
    data = files("biv_domain") / "data"
    return [line for name in DATA_FILES for line in (data / name).read_text("utf-8").splitlines()]


DEMO_ACTOR = "biv demo"


def record_linkoping(ledger: Ledger) -> tuple[int, int]:
    """Records the history in its stages (`demo_stages`); returns the lines applied and skipped.

    The facts name the ledger's actor, or "biv demo" when it has none, so that
    no one takes the demo's facts for a person's entries.
    """
    return record_in_stages(ledger, linkoping_lines(), ledger.actor or DEMO_ACTOR)


def run_demo(ledger: Ledger, *, as_json: bool = False) -> int:
    applied, skipped = record_linkoping(ledger)
    state = ledger.agreement(CASE_NUMBER)
    today = date.today()
    mark = demo_mark(ledger)
    summary: dict[str, Any] = {
        "recorded": {"applied": applied, "skipped": skipped},
        "demo": mark.document() if mark else None,
        "case_number": CASE_NUMBER,
        "title": state.terms.title,
        "parties": [state.terms.municipality, state.terms.partner],
        "today": {"on": today.isoformat(), "status": state.status_on(today).value},
        "budget": document(budget(state, BUDGET_ON)),
        "year": document(ledger.report(CASE_NUMBER, YEAR)),
        "half_year": document(ledger.report(CASE_NUMBER, HALF_YEAR)),
        "follow_ups": document([f.standing(today) for f in ledger.follow_ups(CASE_NUMBER)]),
    }
    if as_json:
        print(json_text(summary))
        return 0
    print(
        f"{summary['title']}, {CASE_NUMBER}\n"
        f"{state.terms.municipality} with {state.terms.partner}\n"
        f"Recorded {applied} lines ({skipped} were already in the store).\n"
        f"{mark.sentence() + chr(10) if mark else ''}"
        f"Today, {today}, the agreement is {summary['today']['status'].replace('_', ' ')}.\n"
    )
    print(render.budget_table(summary["budget"]))
    print(
        "\nThe year below is ILLUSTRATIVE: the documents report no groups, so the demo "
        "invents one year\nof activity (six children's groups of six) to show the figures.\n"
    )
    print(render.report_table(summary["year"]))
    print()
    print(render.report_table(summary["half_year"]))
    print("\nFollow-ups:")
    print(
        render.table(
            ["follow-up", "window", "due", "submitted", "closed"],
            [
                [
                    f["follow_up_ref"],
                    f"{f['start']} – {f['end']}",
                    f["due_on"],
                    f["submitted_on"],
                    f["closed_on"],
                ]
                for f in summary["follow_ups"]
            ],
        )
    )
    return 0
