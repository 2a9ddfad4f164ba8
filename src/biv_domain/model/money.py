"""Money in Swedish kronor, held exactly as a whole number of öre.

Amounts cross the boundary as strings of kronor with at most two decimals
("200500", "1234.50"); a float never gets in, because 0.1 kr is not a float.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from attrs import field, frozen

from biv_domain.errors import InvalidValue

MAX_ORE = 10**15
"""The largest amount the ledger takes, in öre: 10 000 000 000 000 kronor (10^15 öre).

Every store keeps an amount in a signed 64-bit integer (at most about 9.2 * 10^18),
so even thousands of amounts at the maximum still add up within that.
"""

_KRONOR = re.compile(r"(?P<kronor>[0-9]+)(?:\.(?P<ore>[0-9]{1,2}))?")


@frozen(order=True)
class Money:
    """An amount of Swedish kronor (belopp i kronor), exact to the öre."""

    ore: int = field()

    @ore.validator
    def _whole_ore(self, _attribute: object, value: int) -> None:
        if not isinstance(value, int) or isinstance(value, bool):
            raise TypeError(f"Money holds a whole number of öre, not {value!r}")

    @classmethod
    def parse(cls, text: object, field_name: str = "amount") -> Money:
        """Reads kronor written as a string, refusing anything inexact or negative."""
        if not isinstance(text, str):
            raise InvalidValue(
                field_name,
                f'must be a string of kronor such as "200500" or "1234.50", not {text!r}',
            )
        if text != text.strip():  # " 100 " is a typing slip, or a cell pasted with its padding
            raise InvalidValue(field_name, f"must not have spaces around it, got {text!r}")
        match = _KRONOR.fullmatch(text)
        if match is None:
            if text.strip().startswith("-"):
                raise InvalidValue(field_name, f"must not be negative, got {text!r}")
            raise InvalidValue(
                field_name,
                f'must be kronor with at most two decimals such as "1234.50", got {text!r}',
            )
        too_large = InvalidValue(
            field_name, f"must be at most {cls(MAX_ORE)} kronor, got {text.strip()[:40]!r}"
        )
        if len(match["kronor"].lstrip("0")) > len(str(MAX_ORE // 100)):
            raise too_large  # before int(), which refuses very long digit strings itself
        ore = (match["ore"] or "").ljust(2, "0")
        amount = cls(int(match["kronor"]) * 100 + int(ore or 0))
        if amount.ore > MAX_ORE:
            raise too_large
        return amount

    @classmethod
    def read(cls, text: str) -> Money:
        """An amount as `str` writes it ("1234.50"), as a store holds it; anything else is parsed.

        The inverse of `__str__`, without `parse`'s checks of what people write:
        a rebuild reads two amounts a fact, hundreds of thousands of them.
        """
        kronor, point, ore = text.partition(".")
        if point and len(ore) == 2 and (kronor + ore).isascii() and (kronor + ore).isdigit():
            return cls(int(kronor + ore))
        return cls.parse(text)

    @classmethod
    def kronor(cls, amount: int) -> Money:
        return cls(amount * 100)

    @classmethod
    def zero(cls) -> Money:
        return cls(0)

    def __add__(self, other: Money) -> Money:
        return Money(self.ore + other.ore)

    def __sub__(self, other: Money) -> Money:
        return Money(self.ore - other.ore)

    def __bool__(self) -> bool:
        return self.ore != 0

    def __str__(self) -> str:
        sign = "-" if self.ore < 0 else ""
        kronor, ore = divmod(abs(self.ore), 100)
        return f"{sign}{kronor}.{ore:02d}"

    def split(self, weights: Sequence[int]) -> list[Money]:
        """Splits the amount in proportion to whole-number weights.

        Largest remainder: each part is rounded down to the öre, and the öre
        left over go one each to the parts with the largest remainders (the
        earliest part wins a tie), so the parts always add up to the whole.
        """
        if not weights or any(w < 0 for w in weights) or sum(weights) == 0:
            raise ValueError(f"weights must be non-negative and not all zero: {weights!r}")
        total = sum(weights)
        quotients = [divmod(self.ore * w, total) for w in weights]
        parts = [q for q, _ in quotients]
        left_over = self.ore - sum(parts)
        by_remainder = sorted(range(len(weights)), key=lambda i: (-quotients[i][1], i))
        for i in by_remainder[:left_over]:
            parts[i] += 1
        return [Money(p) for p in parts]


def total(amounts: Sequence[Money]) -> Money:
    return Money(sum(a.ore for a in amounts))
