"""The exchange format: JSON Lines of commands, read into ledger lines.

One JSON object a line, `"command"` naming what to do, an optional `"id"` (at
most 200 characters, a reference: no invisible characters) that makes the line
idempotent. A key given twice in a line refuses it (JSON would keep the last).
Blank lines are passed over. A line that cannot be read refuses the whole file
with its line number, field and reason. (A JSON float never gets through: the
converter takes amounts only as strings and counts only as integers.)
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable

from biv_domain.converter import parse_json, structure_command
from biv_domain.errors import InvalidValue, Refused
from biv_domain.ledger import Line, LineRefused
from biv_domain.model.validators import NAME_LIMIT, text_refusal


def read_line(number: int, text: str) -> Line | None:
    """One exchange line as a ledger line, None for a blank line, or LineRefused."""
    if not text.strip():
        return None
    try:
        data = parse_json(text)
    except ValueError as error:
        reason = getattr(error, "msg", str(error))
        raise LineRefused(number, InvalidValue("line", f"is not JSON: {reason}")) from None
    if not isinstance(data, dict):
        raise LineRefused(number, InvalidValue("line", "must be a JSON object"))
    if _may_repeat_a_key(text, data):
        _refuse_repeated_keys(number, text)
    line_id = data.get("id")
    if line_id is not None and (not isinstance(line_id, str) or not line_id.strip()):
        raise LineRefused(
            number, InvalidValue("id", f"must be a non-empty string, got {line_id!r}")
        )
    if line_id is not None:
        refusal = (
            f"must be at most {NAME_LIMIT} characters, got {len(line_id)}"
            if len(line_id) > NAME_LIMIT
            else text_refusal(line_id, reference=True)
        )
        if refusal is not None:
            raise LineRefused(number, InvalidValue("id", refusal))
    try:
        return Line(number=number, command=structure_command(data), line_id=line_id)
    except Refused as refusal:
        raise LineRefused(number, refusal) from None


_KEY = re.compile(r'"\s*:')


def _keys(value: object) -> int:
    if isinstance(value, dict):
        return len(value) + sum(_keys(v) for v in value.values())
    if isinstance(value, list):
        return sum(_keys(v) for v in value)
    return 0


def _may_repeat_a_key(text: str, data: dict[str, object]) -> bool:
    """Whether the line might name a key twice (JSON allows it; the last would win silently).

    Every key in the text is a `"…":`, so a text with no more of them than the keys
    read holds no repeated key; more of them (a repeat, or `":` inside a string) is
    read again, slowly, to be sure.
    """
    return len(_KEY.findall(text)) > _keys(data)


def _refuse_repeated_keys(number: int, text: str) -> None:
    def pairs(items: list[tuple[str, object]]) -> dict[str, object]:
        seen: set[str] = set()
        for key, _ in items:
            if key in seen:
                raise LineRefused(number, InvalidValue(key, "is given twice in the line"))
            seen.add(key)
        return dict(items)

    json.loads(text, object_pairs_hook=pairs)


def read_lines(lines: Iterable[str]) -> list[Line]:
    """Every line of an exchange file, or LineRefused for the first that cannot be read.

    The hook for a tool that writes exchange files: its lines become `Line`s for
    `Ledger.execute_all`, which applies them all or none.

    >>> lines = read_lines(['{"command": "give_notice", "case_number": "Dnr 2016-292",'
    ...                     ' "party": "partner", "given_on": "2023-09-01"}'])
    >>> lines[0].number, type(lines[0].command).__name__
    (1, 'GiveNotice')
    >>> from biv_domain.ledger import LineRefused
    >>> try:
    ...     read_lines(['{"command": "give_notice"}'])
    ... except LineRefused as refused:  # one line naming the line and the field: print it
    ...     print(refused)
    line 1: ...
    """
    result = []
    for number, text in enumerate(lines, start=1):
        # A byte-order mark (what Excel writes before UTF-8) is not part of the first line.
        line = read_line(number, text.removeprefix("\ufeff") if number == 1 else text)
        if line is not None:
            result.append(line)
    return result
