"""The parameters of the endpoints: how each kind is read from a query string, and its schema.

The readers are the command line's own (`biv_adapters.arguments`), so a date or
a moment means the same in a URL as in an option.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from attrs import frozen

from biv_adapters.arguments import UsageError, parse_count, parse_day, parse_moment, parse_year
from biv_adapters.feed import page_size
from biv_domain.ledger.feed import MAX_LIMIT
from biv_domain.ledger.verification import Digest
from biv_domain.model.validators import NAME_LIMIT
from biv_domain.projections.budget import Split


class BadParameter(UsageError):
    """A query parameter that cannot be read (400), naming it."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


def _digest(text: str) -> Digest:
    return Digest.parse(text)


def _split(text: str) -> Split:
    try:
        return Split(text)
    except ValueError:
        raise ValueError(f"must be months or days, got {text[:40]!r}") from None


def _flag(text: str) -> bool:
    if text not in ("true", "false"):
        raise ValueError(f"must be true or false, got {text[:40]!r}")
    return text == "true"


def _text(text: str) -> str:
    if not text.strip() or len(text) > NAME_LIMIT:
        raise ValueError(f"must be 1 to {NAME_LIMIT} characters")
    return text


def _limit(text: str) -> int:
    return page_size(parse_count(text))


def _position(text: str) -> int:
    if not text.isdigit() or len(text) > 18:
        raise ValueError(f"must be a chain position (a whole number), got {text[:20]!r}")
    return int(text)


DAY: dict[str, Any] = {"type": "string", "format": "date"}
READERS: dict[str, tuple[Callable[[str], Any], str, dict[str, Any]]] = {
    # kind: how it is read, and its OpenAPI schema: exactly what the reader accepts
    "moment": (
        parse_moment,
        "ISO 8601 time (UTC without a zone; a bare date is its end)",
        {"anyOf": [DAY, {"type": "string", "format": "date-time"}]},
    ),
    "day": (parse_day, "YYYY-MM-DD", DAY),
    "year": (parse_year, "a calendar year", {"type": "integer", "minimum": 1, "maximum": 9998}),
    "split": (
        _split,
        "months (default) or days",
        {"type": "string", "enum": ["months", "days"]},
    ),
    "flag": (_flag, "true or false", {"type": "boolean"}),
    "count": (
        parse_count,
        "a whole number",
        {"type": "integer", "minimum": 1, "maximum": 1_000_000},
    ),
    "digest": (
        _digest,
        "POSITION:SHA256 from /audit/digest",
        {"type": "string", "pattern": "^[0-9]{1,18}:[0-9a-f]{64}$"},
    ),
    "text": (
        _text,
        "text",
        {"type": "string", "minLength": 1, "maxLength": NAME_LIMIT, "pattern": "[^\\s]"},
    ),
    "limit": (
        _limit,
        f"a page's size, 1 to {MAX_LIMIT}",
        {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT},
    ),
    "position": (
        _position,
        "a chain position",
        {"type": "integer", "minimum": 0, "maximum": 999_999_999_999_999_999},
    ),
}


@frozen
class Param:
    name: str
    kind: str
    description: str
    example: str | None = None
    required: bool = False
    where: str = "query"  # or "path"
