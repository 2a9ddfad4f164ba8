"""The validators of commands' fields: one home for each rule about a single value.

Each names the field it refuses and says why; attrs runs them when a command
is made, so a malformed value never reaches a decider.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from attrs import Attribute

from biv_domain.errors import InvalidValue
from biv_domain.model.money import MAX_ORE, Money


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


NAME_LIMIT = 200
"""The most characters of a name or reference (case number, party, source, area, refs, ...)."""
FREE_TEXT_LIMIT = 1000
"""The most characters of free text (note, reason, experience, assessment)."""
COUNT_LIMIT = 100_000
"""The largest count, age, number of months or target a command may carry."""
ATTENDEES_LIMIT = 1000
"""The most attendees one session may list."""
FREE_TEXT = frozenset({"note", "reason", "experience", "assessment"})


FREE_TEXT_CONTROLS = frozenset("\t\n\r")
"""The only control characters free text may hold: tab and line breaks."""
INVISIBLE = frozenset({"Cf", "Zl", "Zp", "Zs", "Cs"})
"""Unicode categories a name or reference may not hold: format (zero-width, bidi controls),
line and paragraph separators, spaces but the plain one, surrogates."""


def text_refusal(value: str, *, reference: bool) -> str | None:
    """Why a text cannot be stored as it is, or None. The same on every store.

    No text holds a control character (NUL, which PostgreSQL cannot store, and the
    rest) but free text's tab and line breaks. A name or reference (a case number,
    a group's, a party's) must also look like what it is: no invisible character
    (zero-width, bidi controls, a line separator, a space other than the plain
    one), and in Unicode's composed form (NFC), so that "Dnr P-1" and "Dnr P-1" plus
    a zero-width space, or "é" and "e" plus an accent, are never two agreements.
    """
    if value.isprintable():  # the common case: no control, format or separator character
        if reference and not value.isascii() and not unicodedata.is_normalized("NFC", value):
            return "must be in Unicode's composed form (NFC): retype the accented letters"
        return None
    for char in value:
        if char.isprintable() or (not reference and char in FREE_TEXT_CONTROLS):
            continue
        code = f"U+{ord(char):04X}"
        category = unicodedata.category(char)
        if category == "Cc":
            return f"must not hold a control character ({code})"
        if reference and category in INVISIBLE:
            named = f"{code} {unicodedata.name(char, '')}".strip()
            if category == "Zs":
                return f"must not hold a space other than the plain one ({named})"
            return f"must not hold an invisible character ({named})"
    return None


def _text_limit(limit: int, reference: bool = False) -> Any:
    def check(_instance: object, attribute: Attribute[Any], value: object) -> None:
        if isinstance(value, str):
            if len(value) > limit:
                raise InvalidValue(
                    attribute.name, f"must be at most {limit} characters, got {len(value)}"
                )
            refusal = text_refusal(value, reference=reference)
            if refusal is not None:
                raise InvalidValue(attribute.name, refusal)

    return check


def _count_limit(_instance: object, attribute: Attribute[Any], value: object) -> None:
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > COUNT_LIMIT:
        raise InvalidValue(attribute.name, f"must be at most {COUNT_LIMIT}, got {value}")


def _money_limit(_instance: object, attribute: Attribute[Any], value: object) -> None:
    if isinstance(value, Money) and abs(value.ore) > MAX_ORE:
        raise InvalidValue(attribute.name, f"must be at most {Money(MAX_ORE)} kronor, got {value}")


def _refs_limit(_instance: object, attribute: Attribute[Any], value: object) -> None:
    if not isinstance(value, tuple):
        return
    if len(value) > ATTENDEES_LIMIT:
        raise InvalidValue(attribute.name, f"must list at most {ATTENDEES_LIMIT}, got {len(value)}")
    for ref in value:
        if isinstance(ref, str) and len(ref) > NAME_LIMIT:
            raise InvalidValue(
                attribute.name,
                f"a participant reference must be at most {NAME_LIMIT} characters",
            )
        refusal = text_refusal(ref, reference=True) if isinstance(ref, str) else None
        if refusal is not None:
            raise InvalidValue(attribute.name, f"a participant reference {refusal}")


def _both(first: Any, then: Any) -> Any:
    """Two validators, the first before the second: a plain function, called on every
    command a line makes (attrs' `and_` costs a method call and a loop more)."""

    def check(instance: object, attribute: Attribute[Any], value: object) -> None:
        first(instance, attribute, value)
        then(instance, attribute, value)

    return check


def _limits(_cls: type, fields: list[Attribute[Any]]) -> list[Attribute[Any]]:
    """Adds the limit that fits each field's type: one place for every command's bounds.

    The limits are checked before the field's own validator, so that a huge value
    is refused by its size before anything else looks at it.
    """
    bounded = []
    for attribute in fields:
        kind = str(attribute.type)
        limit: Any = None
        if kind in ("str", "str | None"):
            free = attribute.name in FREE_TEXT
            limit = _text_limit(FREE_TEXT_LIMIT if free else NAME_LIMIT, reference=not free)
        elif kind in ("int", "int | None"):
            limit = _count_limit
        elif kind == "Money":
            limit = _money_limit
        elif kind == "tuple[str, ...]":
            limit = _refs_limit
        if limit is not None:
            validator = limit if attribute.validator is None else _both(limit, attribute.validator)
            attribute = attribute.evolve(validator=validator)
        bounded.append(attribute)
    return bounded
