"""Writes the illustrative year of activity that `biv demo` records.

The documents report no groups or participants, so the year 2023-04-01 –
2024-03-31 is invented, deterministically (a fixed seed), to show what the
ledger does with one: six children's groups of six children (the group target
met, the 40-children target missed, as the documents predict), two parents'
groups, two payments and two half-year follow-ups.

Run it from the repository's root to rewrite the data file:

    python examples/generate_illustrative_year.py
"""

from __future__ import annotations

import json
import random
from datetime import date, timedelta
from pathlib import Path
from typing import Any

CASE = "Dnr 2016-292"
OUT = Path("src/biv_domain/data/linkoping_illustrative_2023.jsonl")
HOLIDAYS = {date(2023, 12, 25), date(2024, 1, 1)}

# (group ref, area, first session, ages, track, language)
CHILDREN_GROUPS = [
    ("ILL-2023-RYD-1", "Ryd", date(2023, 4, 12), (7, 9), "starting", "somali"),
    ("ILL-2023-SKG-1", "Skäggetorp", date(2023, 4, 13), (10, 12), "starting", "arabic"),
    ("ILL-2023-BER-1", "Berga", date(2023, 8, 21), (13, 15), "waiting", "dari"),
    ("ILL-2023-RYD-2", "Ryd", date(2023, 8, 23), (10, 12), "starting", "arabic"),
    ("ILL-2023-SKG-2", "Skäggetorp", date(2023, 11, 6), (16, 20), "waiting", "somali"),
    ("ILL-2023-BER-2", "Berga", date(2023, 12, 4), (7, 9), "starting", "dari"),
]
PARENT_GROUPS = [
    ("ILL-2023-SKG-P1", "Skäggetorp", date(2023, 4, 13), 5, "arabic"),
    ("ILL-2023-BER-P1", "Berga", date(2023, 8, 21), 6, "dari"),
]


def weekly(first: date, count: int, every: int = 7) -> list[date]:
    days: list[date] = []
    day = first
    while len(days) < count:
        if day not in HOLIDAYS:
            days.append(day)
        day += timedelta(days=every)
    return days


def main() -> None:
    rng = random.Random(20230401)
    lines: list[dict[str, Any]] = []

    def add(command: str, **fields: Any) -> None:
        lines.append(
            {"id": f"linkoping/illustrative/{len(lines) + 1:03d}", "command": command, **fields}
        )

    add(
        "record_disbursement",
        case_number=CASE,
        amount="150250",
        paid_on="2023-04-20",
        note="Illustrative: the first half of the municipality's 300 500 kr.",
    )
    add(
        "record_disbursement",
        case_number=CASE,
        amount="150250",
        paid_on="2023-10-20",
        note="Illustrative: the second half of the municipality's 300 500 kr.",
    )
    add(
        "schedule_follow_up",
        follow_up_ref="ILL-2023-H1",
        case_number=CASE,
        start="2023-04-01",
        end="2023-09-30",
        due_on="2023-10-31",
    )
    add(
        "schedule_follow_up",
        follow_up_ref="ILL-2023-H2",
        case_number=CASE,
        start="2023-10-01",
        end="2024-03-31",
        due_on="2024-04-30",
    )

    child_number = 0
    for ref, area, first, (low, high), track, language in CHILDREN_GROUPS:
        add(
            "plan_group",
            group_ref=ref,
            case_number=CASE,
            kind="children",
            area=area,
            starts_on=first.isoformat(),
            track=track,
            planned_sessions=14,
            language=language,
        )
        children = []
        for _ in range(6):
            child_number += 1
            child = f"ILL-C{child_number:03d}"
            children.append(child)
            add(
                "enroll_participant",
                group_ref=ref,
                participant_ref=child,
                enrolled_on=(first - timedelta(days=7)).isoformat(),
                gender=rng.choice(["girl", "boy"]),
                age=rng.randint(low, high),
                status="asylum_seeker" if track == "waiting" else "residence_permit",
            )
        leaver = children[-1] if ref == "ILL-2023-BER-1" else None
        for number, day in enumerate(weekly(first, 14), start=1):
            if leaver and number == 6:
                add(
                    "withdraw_participant",
                    group_ref=ref,
                    participant_ref=leaver,
                    on=day.isoformat(),
                )
                children.remove(leaver)
            attendees = [c for c in children if rng.random() < 0.9] or children[:1]
            add("hold_session", group_ref=ref, held_on=day.isoformat(), attendees=attendees)
        add("complete_group", group_ref=ref, on=weekly(first, 14)[-1].isoformat())

    parent_number = 0
    for ref, area, first, size, language in PARENT_GROUPS:
        add(
            "plan_group",
            group_ref=ref,
            case_number=CASE,
            kind="parents",
            area=area,
            starts_on=first.isoformat(),
            planned_sessions=7,
            language=language,
        )
        parents = []
        for _ in range(size):
            parent_number += 1
            parent = f"ILL-V{parent_number:03d}"
            parents.append(parent)
            add(
                "enroll_participant",
                group_ref=ref,
                participant_ref=parent,
                enrolled_on=(first - timedelta(days=7)).isoformat(),
                gender=rng.choice(["woman", "woman", "man"]),
            )
        for day in weekly(first, 7, every=14):
            attendees = [p for p in parents if rng.random() < 0.85] or parents[:1]
            add("hold_session", group_ref=ref, held_on=day.isoformat(), attendees=attendees)
        add("complete_group", group_ref=ref, on=weekly(first, 7, every=14)[-1].isoformat())

    add(
        "submit_report",
        follow_up_ref="ILL-2023-H1",
        submitted_on="2023-10-20",
        experience="Illustrative: the children valued most the work on their picture of the future.",  # noqa: E501
        information={"municipality": True, "partner": True},
    )
    add(
        "close_follow_up",
        follow_up_ref="ILL-2023-H1",
        on="2023-11-08",
        assessment="Illustrative: the partnership works well; recruitment meets demand.",
    )
    add(
        "submit_report",
        follow_up_ref="ILL-2023-H2",
        submitted_on="2024-04-22",
        experience="Illustrative: the older group asked for more sessions on school and work.",
        information={"municipality": True, "partner": True},
    )

    OUT.write_text("".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines))
    print(f"wrote {len(lines)} lines to {OUT}")


if __name__ == "__main__":
    main()
