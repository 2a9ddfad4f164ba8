"""Which stored case number (diarienummer) a mistyped one most likely means.

A case number is typed by hand from a document: "dnr 2016-292", "Dnr  2016-292",
"2016-292" or "Dnr 2016-29" all mean "Dnr 2016-292". Case and spacing are ignored,
and the prefix "Dnr"; a near miss of a character or two is found by similarity.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable

# How alike two normalised case numbers must be for the one to be suggested for the other.
SIMILAR = 0.85


def normalised(case_number: str) -> str:
    """Without case, spaces or the prefix "Dnr": "dnr 2016-292" -> "2016-292"."""
    text = re.sub(r"\s+", "", case_number).casefold()
    return text.removeprefix("dnr").lstrip(".:")


def closest_case_number(case_number: str, known: Iterable[str]) -> str | None:
    """The stored case number `case_number` most likely means, or None."""
    by_form: dict[str, str] = {}
    for candidate in known:
        by_form.setdefault(normalised(candidate), candidate)
    form = normalised(case_number)
    if form in by_form and by_form[form] != case_number:
        return by_form[form]
    near = difflib.get_close_matches(form, list(by_form), n=1, cutoff=SIMILAR)
    return by_form[near[0]] if near and by_form[near[0]] != case_number else None
