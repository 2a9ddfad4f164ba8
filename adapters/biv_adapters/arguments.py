"""The words both interfaces read: days, moments, years and counts as users write them, and
usage errors.

The command line's argument types (`cli`) and the HTTP service's parameters (`http.params`)
read them alike; `documents` refuses options that do not go together with `UsageError`.
"""

from __future__ import annotations

import argparse
import re
from datetime import UTC, date, datetime, time


class UsageError(Exception):
    """The command line itself is wrong (exit 2)."""


def parse_day(text: str) -> date:
    from biv_domain.model.dates import parse_iso_date  # the domain loads when a day is read

    try:
        return parse_iso_date(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def parse_moment(text: str) -> datetime:
    """An ISO 8601 time; without a zone it is UTC; a bare date means the end of that day."""
    try:
        if re.fullmatch(r"[0-9]{4}-?[0-9]{2}-?[0-9]{2}", text):
            return datetime.combine(date.fromisoformat(text), time.max, tzinfo=UTC)
        moment = datetime.fromisoformat(text)
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except (ValueError, OverflowError):
        raise argparse.ArgumentTypeError(
            f"expected an ISO 8601 time such as 2023-10-31T12:00:00Z, got {text!r}"
        ) from None


def parse_year(text: str) -> int:
    """A calendar year, 1 to 9998 (a fiscal year's end must be a date too)."""
    if not re.fullmatch(r"[0-9]{1,4}", text.strip()) or not 1 <= int(text) <= 9998:
        raise argparse.ArgumentTypeError(f"expected a year such as 2023, got {text[:40]!r}")
    return int(text)


def parse_count(text: str) -> int:
    """A whole number from 1 to 1,000,000."""
    if not re.fullmatch(r"[0-9]{1,7}", text.strip()) or not 1 <= int(text) <= 1_000_000:
        raise argparse.ArgumentTypeError(
            f"expected a whole number from 1 to 1000000, got {text[:40]!r}"
        )
    return int(text)
