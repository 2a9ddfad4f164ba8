"""Refusals: every rule the ledger enforces fails with one of these.

A refusal names the field at fault and says why, so that a person reading one
line on standard error knows what to change. Nothing is stored when a command
is refused.
"""

from __future__ import annotations


class Refused(Exception):
    """A command, or one of its values, was refused; nothing was stored."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(field, reason)
        self.field = field
        self.reason = reason

    def __str__(self) -> str:
        return f"{self.field}: {self.reason}"


class InvalidValue(Refused, ValueError):
    """A value is malformed or out of range (a bad date, amount, age, ...).

    Also a ValueError, as Python code expects of a value it cannot take.
    """


class RuleBroken(Refused):
    """The command is well formed but a rule of the partnership forbids it."""


class NotFound(Refused):
    """The command names an agreement, group or follow-up the ledger does not know."""


class AlreadyExists(Refused):
    """The command would create an agreement, group or follow-up a second time."""
