"""The exchange format: JSON Lines of commands, read into ledger lines.

One JSON object a line, `"command"` naming what to do, an optional `"id"` that
makes the line idempotent. Blank lines are passed over. A line that cannot be
read refuses the whole file with its line number, field and reason. (A JSON
float never gets through: the converter takes amounts only as strings and
counts only as integers.)
"""

from __future__ import annotations

from collections.abc import Iterable

from biv_domain.converter import parse_json, structure_command
from biv_domain.errors import InvalidValue, Refused
from biv_domain.ledger import Line, LineRefused


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
    line_id = data.get("id")
    if line_id is not None and (not isinstance(line_id, str) or not line_id.strip()):
        raise LineRefused(
            number, InvalidValue("id", f"must be a non-empty string, got {line_id!r}")
        )
    try:
        return Line(number=number, command=structure_command(data), line_id=line_id)
    except Refused as refusal:
        raise LineRefused(number, refusal) from None


def read_lines(lines: Iterable[str]) -> list[Line]:
    """Every line of an exchange file, or LineRefused for the first that cannot be read.

    The hook for a tool that writes exchange files: its lines become `Line`s for
    `Ledger.execute_all`, which applies them all or none.

    >>> lines = read_lines(['{"command": "give_notice", "case_number": "Dnr 2016-292",'
    ...                     ' "party": "partner", "given_on": "2023-09-01"}'])
    >>> lines[0].number, type(lines[0].command).__name__
    (1, 'GiveNotice')
    >>> read_lines(['{"command": "give_notice"}'])
    Traceback (most recent call last):
    biv_domain.ledger.application.LineRefused: line 1: ...
    """
    result = []
    for number, text in enumerate(lines, start=1):
        # A byte-order mark (what Excel writes before UTF-8) is not part of the first line.
        line = read_line(number, text.removeprefix("\ufeff") if number == 1 else text)
        if line is not None:
            result.append(line)
    return result
