"""The validators of commands' fields: one home for each rule about a single value.

Each names the field it refuses and says why; attrs runs them when a command
is made, so a malformed value never reaches a decider.
"""

from __future__ import annotations

from typing import Any

from attrs import Attribute

from biv_domain.errors import InvalidValue
from biv_domain.model.money import Money


def _text(_instance: object, attribute: Attribute[Any], value: str) -> None:
    if not value.strip():
        raise InvalidValue(attribute.name, "must not be empty")


def _positive(_instance: object, attribute: Attribute[Any], value: int) -> None:
    if value < 1:
        raise InvalidValue(attribute.name, f"must be 1 or more, got {value}")


def _not_negative(_instance: object, attribute: Attribute[Any], value: int) -> None:
    if value < 0:
        raise InvalidValue(attribute.name, f"must not be negative, got {value}")


def _money_not_negative(_instance: object, attribute: Attribute[Any], value: Money) -> None:
    if value.ore < 0:
        raise InvalidValue(attribute.name, f"must not be negative, got {value}")


MAX_SESSION_MINUTES = 600  # ten hours: more is a typing error, not a session


def _optional_minutes(_instance: object, attribute: Attribute[Any], value: int | None) -> None:
    if value is not None and not 1 <= value <= MAX_SESSION_MINUTES:
        raise InvalidValue(
            attribute.name, f"must be 1 to {MAX_SESSION_MINUTES} minutes, got {value}"
        )


def _optional_text(_instance: object, attribute: Attribute[Any], value: str | None) -> None:
    if value is not None and not value.strip():
        raise InvalidValue(attribute.name, "must not be empty when given")
