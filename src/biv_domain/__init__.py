"""biv-domain: the event-sourced ledger of an idea-based public partnership (IOP).

The first case is Linköping's partnership with Linköpings domkyrkopastorat for
"Barn i väntan / Barn i start". Start with `Ledger` (record commands, ask
questions) and the commands in `biv_domain.model.commands`.
"""

from typing import TYPE_CHECKING

from biv_domain.errors import AlreadyExists, InvalidValue, NotFound, Refused, RuleBroken
from biv_domain.model.agreement import AgreementState, AgreementStatus
from biv_domain.model.fact import Fact
from biv_domain.model.figures import ReportFigures
from biv_domain.model.follow_up import FollowUpState
from biv_domain.model.group import GroupState
from biv_domain.model.money import Money
from biv_domain.projections.budget import Budget, Split, budget
from biv_domain.projections.report import report

if TYPE_CHECKING:
    from biv_domain.ledger import Ledger, Line, LineRefused, Receipt, WriteConflict

_LEDGER = ("Ledger", "Line", "LineRefused", "Receipt", "WriteConflict")


def __getattr__(name: str) -> object:
    # The ledger (and with it `eventsourcing`) loads only when asked for, so that
    # importing the pure domain never pulls in the infrastructure.
    if name in _LEDGER:
        from biv_domain import ledger

        return getattr(ledger, name)
    raise AttributeError(f"module 'biv_domain' has no attribute {name!r}")


__all__ = [
    "AgreementState",
    "AgreementStatus",
    "AlreadyExists",
    "Budget",
    "Fact",
    "FollowUpState",
    "GroupState",
    "InvalidValue",
    "Ledger",
    "Line",
    "LineRefused",
    "Money",
    "NotFound",
    "Receipt",
    "Refused",
    "ReportFigures",
    "RuleBroken",
    "Split",
    "WriteConflict",
    "budget",
    "report",
]
