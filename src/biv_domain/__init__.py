"""biv-domain: the event-sourced ledger of an idea-based public partnership (IOP).

The first case is Linköping's partnership with Linköpings domkyrkopastorat for
"Barn i väntan / Barn i start". Start with `Ledger` (record commands, ask
questions) and the commands in `biv_domain.commands`.
"""

from biv_domain.agreement import AgreementState, AgreementStatus
from biv_domain.budget import Budget, Split, budget
from biv_domain.errors import AlreadyExists, InvalidValue, NotFound, Refused, RuleBroken
from biv_domain.facts import Fact
from biv_domain.figures import ReportFigures
from biv_domain.follow_up import FollowUpState
from biv_domain.group import GroupState
from biv_domain.ledger import Ledger, Line, LineRefused, Receipt, WriteConflict
from biv_domain.money import Money
from biv_domain.report import report

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
