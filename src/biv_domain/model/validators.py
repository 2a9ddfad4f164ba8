"""The validators of commands' fields: one home for each rule about a single value.

Each names the field it refuses and says why; attrs runs them when a command
is made, so a malformed value never reaches a decider. Every value a command
carries is bounded, so that every store can hold it: a field declares its bound
in its validator (`name`, `free_text`, `count`, `amount`, `references`, ...), each
of which checks the size first, so that a huge value is refused by its size
before anything else looks at it.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from attrs import Attribute

from biv_domain.errors import InvalidValue
from biv_domain.model.money import MAX_ORE, Money

if TYPE_CHECKING:
    Field = Attribute[Any]
else:  # pdoc reads the annotations at run time, where Attribute takes no parameter
    Field = Attribute
"""A command's field, as attrs gives it to a validator."""

Validator = Callable[[Any, Field, Any], None]
"""What attrs calls with the instance, the field and its value; raises `InvalidValue`."""

NAME_LIMIT = 200
"""The most characters of a name or reference (case number, party, source, area, refs, ...)."""
FREE_TEXT_LIMIT = 1000
"""The most characters of free text (note, reason, experience, assessment)."""
COUNT_LIMIT = 100_000
"""The largest count, age, number of months or target a command may carry."""
ATTENDEES_LIMIT = 1000
"""The most attendees one session may list."""


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
    if not value.isprintable():  # rare: a control, format or separator character, or one unassigned
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
    # Checked after the characters, whatever they are: a reference holding a character that
    # Unicode has not assigned yet was let through here uncomposed (hypothesis found it).
    if reference and not value.isascii() and not unicodedata.is_normalized("NFC", value):
        return "must be in Unicode's composed form (NFC): retype the accented letters"
    return None


def both(first: Validator, then: Validator) -> Validator:
    """Two validators, the first before the second: a plain function, called on every
    command a line makes (attrs' `and_` costs a method call and a loop more)."""

    def check(instance: object, attribute: Field, value: object) -> None:
        first(instance, attribute, value)
        then(instance, attribute, value)

    return check


# --- Bounds: what every store can hold ---------------------------------------------------------


def _bounded_text(limit: int, *, reference: bool) -> Validator:
    def check(_instance: object, attribute: Field, value: object) -> None:
        if isinstance(value, str):
            if len(value) > limit:
                raise InvalidValue(
                    attribute.name, f"must be at most {limit} characters, got {len(value)}"
                )
            refusal = text_refusal(value, reference=reference)
            if refusal is not None:
                raise InvalidValue(attribute.name, refusal)

    return check


bounded_name = _bounded_text(NAME_LIMIT, reference=True)
"""A name or reference (or None): at most `NAME_LIMIT` characters, as `text_refusal` allows."""
free_text = _bounded_text(FREE_TEXT_LIMIT, reference=False)
"""Free text (or None): at most `FREE_TEXT_LIMIT` characters, as `text_refusal` allows."""


def count(_instance: object, attribute: Field, value: object) -> None:
    """A whole number (or None) no larger than `COUNT_LIMIT` either way."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > COUNT_LIMIT:
        raise InvalidValue(attribute.name, f"must be at most {COUNT_LIMIT}, got {value}")


def amount(_instance: object, attribute: Field, value: object) -> None:
    """An amount of money no larger than the stores hold (`MAX_ORE`) either way."""
    if isinstance(value, Money) and abs(value.ore) > MAX_ORE:
        raise InvalidValue(attribute.name, f"must be at most {Money(MAX_ORE)} kronor, got {value}")


def references(_instance: object, attribute: Field, value: object) -> None:
    """Participants' references: at most `ATTENDEES_LIMIT`, each a bounded reference."""
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


# --- Rules about one value ---------------------------------------------------------------------


def not_blank(_instance: object, attribute: Field, value: str) -> None:
    if not value.strip():
        raise InvalidValue(attribute.name, "must not be empty")


def not_blank_when_given(_instance: object, attribute: Field, value: str | None) -> None:
    if value is not None and not value.strip():
        raise InvalidValue(attribute.name, "must not be empty when given")


def _positive(_instance: object, attribute: Field, value: int) -> None:
    if value < 1:
        raise InvalidValue(attribute.name, f"must be 1 or more, got {value}")


def _not_negative(_instance: object, attribute: Field, value: int) -> None:
    if value < 0:
        raise InvalidValue(attribute.name, f"must not be negative, got {value}")


def _money_not_negative(_instance: object, attribute: Field, value: Money) -> None:
    if value.ore < 0:
        raise InvalidValue(attribute.name, f"must not be negative, got {value}")


MAX_SESSION_MINUTES = 600  # ten hours: more is a typing error, not a session


def _minutes(_instance: object, attribute: Field, value: int | None) -> None:
    if value is not None and not 1 <= value <= MAX_SESSION_MINUTES:
        raise InvalidValue(
            attribute.name, f"must be 1 to {MAX_SESSION_MINUTES} minutes, got {value}"
        )


# --- Each kind of field: its bound, then its rule ----------------------------------------------

name = both(bounded_name, not_blank)
"""A name or reference that must be given (a case number, a party, a group's reference)."""
optional_name = both(bounded_name, not_blank_when_given)
"""None, or a name or reference as `name` (who decided, a decision's reference)."""
reason = both(free_text, not_blank)
"""Free text that must be given (why a correction, a cancellation, an erasure)."""
count_positive = both(count, _positive)
count_not_negative = both(count, _not_negative)
amount_not_negative = both(amount, _money_not_negative)
minutes = both(count, _minutes)
"""None, or a session's length: 1 to `MAX_SESSION_MINUTES` minutes."""
