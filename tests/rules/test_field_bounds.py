"""Every value a command carries is bounded by the validator its field declares (issue 20).

The bounds were once added by matching each field's annotation as text (`"str | None"`),
so a field spelled `Optional[str]` silently got none. Now each field names its validator
(`validators.name`, `free_text`, `count`, `amount`, `references`, ...), and this test reads
every field's type the way Python resolves it, whatever its spelling, and offers its
validator a value too large for any store: each must refuse it, naming the field.
"""

from __future__ import annotations

import types
import typing
from datetime import date
from typing import Any, Optional

import attrs
import pytest
from attrs import field, frozen

from biv_domain.errors import InvalidValue
from biv_domain.model import validators as check
from biv_domain.model.commands import COMMANDS, HoldSession, Information
from biv_domain.model.money import MAX_ORE, Money
from biv_domain.model.validators import (
    ATTENDEES_LIMIT,
    COUNT_LIMIT,
    FREE_TEXT_LIMIT,
    MAX_SESSION_MINUTES,
)

# A value of each bounded kind that no field may take.
TOO_LARGE: dict[Any, object] = {
    str: "x" * (FREE_TEXT_LIMIT + 1),
    int: COUNT_LIMIT + 1,
    Money: Money(MAX_ORE + 1),
    tuple[str, ...]: ("p",) * (ATTENDEES_LIMIT + 1),
}


def refuses(attribute: attrs.Attribute[Any], value: object) -> bool:
    """Whether the field's validator refuses the value, naming the field."""
    if attribute.validator is None:
        return False
    try:
        attribute.validator(None, attribute, value)
    except InvalidValue as refused:
        return refused.field == attribute.name
    return False


def unbounded(cls: type) -> list[str]:
    """The fields of `cls` whose declared validator lets a value too large for a store pass."""
    hints = typing.get_type_hints(cls)
    found = []
    for attribute in attrs.fields(cls):
        hint = hints[attribute.name]
        union = typing.get_origin(hint) in (typing.Union, types.UnionType)
        kinds = typing.get_args(hint) if union else (hint,)
        if any(kind in TOO_LARGE and not refuses(attribute, TOO_LARGE[kind]) for kind in kinds):
            found.append(attribute.name)
    return found


@frozen
class Spelled:
    """A field as a newcomer might spell it, without a validator and with one."""

    language: Optional[str] = None  # noqa: UP045 - the spelling the old matching missed
    area: Optional[str] = field(default=None, validator=check.bounded_name)  # noqa: UP045


def test_a_field_is_bounded_by_its_validator_whatever_its_annotation_s_spelling() -> None:
    # Given a class with two `Optional[str]` fields, one declaring its bound, one not
    # When its fields are read as Python resolves their types
    # Then the one without a validator is found, and the one with it holds
    assert unbounded(Spelled) == ["language"]
    with pytest.raises(InvalidValue) as refused:
        Spelled(area="x" * 201)
    assert (refused.value.field, refused.value.reason) == (
        "area",
        "must be at most 200 characters, got 201",
    )


@pytest.mark.parametrize("cls", [*COMMANDS.values(), Information], ids=lambda c: c.__name__)
def test_every_field_of_every_command_declares_its_bound(cls: type) -> None:
    # Given a command (or a value a command carries); when each field's validator is offered
    # a text, number, amount or list too large for a store; then each refuses it by name
    assert unbounded(cls) == []


def test_a_bound_is_checked_before_the_field_s_own_rule() -> None:
    # Given a session's length, which must also be 1 to 600 minutes
    # When it is far too large; then its size is what is refused
    with pytest.raises(InvalidValue, match=f"must be at most {COUNT_LIMIT}"):
        HoldSession("G", date(2024, 1, 1), ("p",), 10**9)
    # And a length over the session's rule but under the bound is refused by the rule
    with pytest.raises(InvalidValue, match=f"1 to {MAX_SESSION_MINUTES} minutes"):
        HoldSession("G", date(2024, 1, 1), ("p",), MAX_SESSION_MINUTES + 1)
