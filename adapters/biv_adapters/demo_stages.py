"""The demo's history recorded in the stages its documents imply, and the demo store's mark.

`biv demo` records each line of the Linköping history at a recorded time of its
stage, through the ledger's clock, so that "as known at" has something to show:

- the 2017 agreement, its money and its target, on 2017-04-10;
- the extension to 2023-03-31 ("förlängts i omgångar"), on 2019-04-15;
- the 2022-10-19 decision (extension to 2024-03-31, its money, the groups target), on 2022-11-02;
- the illustrative 2023–24 year in monthly rounds: each entry on the 5th of the month after
  the earliest date it names (a session held in May is entered on 5 June), never before an
  earlier entry about the same group or follow-up.

These recorded times are simulated, and the 2023–24 figures invented; a store that
holds them says so wherever it is shown (`demo_mark`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, time
from typing import Any

from attrs import frozen

from biv_domain.converter import parse_json
from biv_domain.ledger import Ledger
from biv_domain.ledger.bookkeeping import line_stream

DOCUMENT_STAGES = {
    "linkoping/documents/01": datetime(2017, 4, 10, 9, tzinfo=UTC),
    "linkoping/documents/02": datetime(2017, 4, 10, 9, tzinfo=UTC),
    "linkoping/documents/03": datetime(2017, 4, 10, 9, tzinfo=UTC),
    "linkoping/documents/04": datetime(2019, 4, 15, 9, tzinfo=UTC),
}
DECISION_2022 = datetime(2022, 11, 2, 9, tzinfo=UTC)  # documents 05–09
FIRST_LINE = "linkoping/documents/01"
INVENTED_LINE = "linkoping/illustrative/001"
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@frozen
class DemoMark:
    """What a store holding the demo is: its recorded times simulated, its 2023–24 year invented."""

    simulated_recorded_times: bool
    invented_figures: bool

    def document(self) -> dict[str, Any]:
        return {
            "simulated_recorded_times": self.simulated_recorded_times,
            "invented_figures": self.invented_figures,
            "note": self.sentence("en"),
        }

    def sentence(self, lang: str = "en") -> str:
        parts = []
        if lang == "sv":
            if self.simulated_recorded_times:
                parts.append("registreringstiderna är simulerade")
            if self.invented_figures:
                parts.append("uppgifterna för 2023–24 är påhittade (illustrativa)")
            return "Demonstrationsdata: " + " och ".join(parts) + "."
        if self.simulated_recorded_times:
            parts.append("its recorded times are simulated")
        if self.invented_figures:
            parts.append("its 2023–24 figures are invented (illustrative)")
        return "Demo store: " + " and ".join(parts) + "."


def _month_round(day: date) -> datetime:
    """The 5th of the month after `day`, 09:00 UTC: when a month's entries are made."""
    year, month = (day.year + 1, 1) if day.month == 12 else (day.year, day.month + 1)
    return datetime.combine(date(year, month, 5), time(9), tzinfo=UTC)


def _earliest_date(fields: dict[str, Any]) -> date:
    days = [
        date.fromisoformat(v) for v in fields.values() if isinstance(v, str) and ISO_DATE.match(v)
    ]
    return min(days)


def stage_of_lines(texts: Sequence[str]) -> list[datetime]:
    """Each line's simulated recorded time, in the lines' order.

    A line is never recorded before an earlier line about the same group or follow-up,
    the only lines it can depend on (the agreement's come years before).
    """
    stages: list[datetime] = []
    last_of: dict[str, datetime] = {}
    for text in texts:
        fields = parse_json(text)
        assert isinstance(fields, dict)
        line_id = str(fields.get("id", ""))
        if line_id in DOCUMENT_STAGES:
            moment = DOCUMENT_STAGES[line_id]
        elif line_id.startswith("linkoping/documents/"):
            moment = DECISION_2022
        else:
            moment = _month_round(_earliest_date(fields))
            subject = str(fields.get("group_ref") or fields.get("follow_up_ref") or "")
            if subject:
                moment = max(moment, last_of.get(subject, moment))
                last_of[subject] = moment
        stages.append(moment)
    return stages


def staged_batches(texts: Sequence[str]) -> list[tuple[datetime, list[str]]]:
    """The lines grouped into batches of one recorded time, in time order (a stable sort:
    within a batch, the file's order)."""
    batches: list[tuple[datetime, list[str]]] = []
    timed = sorted(zip(stage_of_lines(texts), texts, strict=True), key=lambda pair: pair[0])
    for moment, text in timed:
        if batches and batches[-1][0] == moment:
            batches[-1][1].append(text)
        else:
            batches.append((moment, [text]))
    return batches


def record_in_stages(ledger: Ledger, texts: Sequence[str], actor: str) -> tuple[int, int]:
    """Records the lines at their stages' times; returns the lines applied and skipped.

    Only a store that holds nothing else is written in stages (or one whose staged
    demo was interrupted): a store with facts of its own gets the demo at the
    ledger's own time, since a recorded time never goes back.
    """
    from biv_adapters.exchange import read_lines  # the demo's writes: a query's mark needs none

    first = ledger.last_fact(line_stream(FIRST_LINE))
    staged = ledger.digest() is None or (
        first is not None and first.recorded_at == DOCUMENT_STAGES[FIRST_LINE]
    )
    if not staged:
        receipt = ledger.execute_all(read_lines(list(texts)), actor=actor)
        return receipt.applied, receipt.skipped
    real: Callable[[], datetime] = ledger.clock
    applied = skipped = 0
    try:
        for moment, batch in staged_batches(texts):
            ledger.clock = _fixed(moment)
            receipt = ledger.execute_all(read_lines(batch), actor=actor)
            applied += receipt.applied
            skipped += receipt.skipped
    finally:
        ledger.clock = real
    return applied, skipped


def _fixed(moment: datetime) -> Callable[[], datetime]:
    return lambda: moment


def demo_mark(ledger: Ledger) -> DemoMark | None:
    """The mark of a store holding the demo's history, or None for any other store."""
    invented = ledger.last_fact(line_stream(INVENTED_LINE)) is not None
    first = ledger.last_fact(line_stream(FIRST_LINE))
    simulated = first is not None and first.recorded_at == DOCUMENT_STAGES[FIRST_LINE]
    if not (invented or simulated):
        return None
    return DemoMark(simulated_recorded_times=simulated, invented_figures=invented)


def demo_line(body: dict[str, Any]) -> str:
    """The demo's mark as the first line of a query's human output, or nothing."""
    mark = body.get("demo")
    return f"{mark['note']}\n" if isinstance(mark, dict) else ""
