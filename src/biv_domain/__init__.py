"""biv-domain: the event-sourced ledger of an idea-based public partnership (IOP).

The first case is Linköping's partnership with Linköpings domkyrkopastorat for
"Barn i väntan / Barn i start". Start with `Ledger` (record commands, ask
questions) and the commands in `biv_domain.model.commands`.
"""

from typing import TYPE_CHECKING

from biv_domain._lazy import loaded_when_asked
from biv_domain._version import __version__

if TYPE_CHECKING:
    from biv_domain.errors import AlreadyExists, InvalidValue, NotFound, Refused, RuleBroken
    from biv_domain.ledger import Ledger, Line, LineRefused, Receipt, WriteConflict
    from biv_domain.model.agreement import AgreementState, AgreementStatus
    from biv_domain.model.fact import Fact
    from biv_domain.model.figures import ReportFigures
    from biv_domain.model.follow_up import FollowUpState
    from biv_domain.model.group import GroupState
    from biv_domain.model.money import Money
    from biv_domain.projections.budget import Budget, Split, budget
    from biv_domain.projections.report import report

# Where each name lives. Each loads when first asked for, so that importing one module of
# the package (`biv --version` reads `_version`) never loads the rest, and importing the
# pure domain never loads the ledger and `eventsourcing`.
__getattr__ = loaded_when_asked(
    globals(),
    {
        "biv_domain.errors": ("AlreadyExists", "InvalidValue", "NotFound", "Refused", "RuleBroken"),
        "biv_domain.ledger": ("Ledger", "Line", "LineRefused", "Receipt", "WriteConflict"),
        "biv_domain.model.agreement": ("AgreementState", "AgreementStatus"),
        "biv_domain.model.fact": ("Fact",),
        "biv_domain.model.figures": ("ReportFigures",),
        "biv_domain.model.follow_up": ("FollowUpState",),
        "biv_domain.model.group": ("GroupState",),
        "biv_domain.model.money": ("Money",),
        "biv_domain.projections.budget": ("Budget", "Split", "budget"),
        "biv_domain.projections.report": ("report",),
    },
)


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
    "__version__",
    "budget",
    "report",
]
