"""The service's endpoints, declared once: path, parameters, roles and the query behind each.

The app routes them, the OpenAPI schema and the docs page are generated from
them, and each query's document comes from `biv_adapters.documents`, as
`--json` prints it.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

from attrs import frozen

from biv_adapters import documents
from biv_adapters.documents import Document
from biv_adapters.http.auth import EVERY_ROLE, Caller
from biv_adapters.http.guard import JSON_LINES
from biv_adapters.http.params import READERS, BadParameter, Param
from biv_adapters.http.responses import (
    AgreementList,
    AssessedTarget,
    ChainDigest,
    ImportReceipt,
    Returns,
    known,
    marked,
)
from biv_adapters.http.tokens import Role
from biv_domain.errors import InvalidValue
from biv_domain.ledger import Ledger
from biv_domain.ledger.store_info import StoreInfo
from biv_domain.ledger.verification import VerificationDocument
from biv_domain.model.figures import PublishedFigures, ReportFigures
from biv_domain.model.follow_up import FollowUpStandings
from biv_domain.projections.budget import Budget, Split
from biv_domain.projections.fiscal_year import FiscalYear
from biv_domain.projections.history import History
from biv_domain.projections.replay import Replay, ReplayDiff
from biv_domain.projections.report import PUBLIC_THRESHOLD, SubmittedComparison

AUDITOR = frozenset({Role.AUDITOR})
WRITER = frozenset({Role.WRITER})


AS_KNOWN_AT = Param("as_known_at", "moment", "count only what was recorded by then")
# Before the 2022 extension was recorded: the example that shows what as_known_at does.
BEFORE_EXTENSION = Param("as_known_at", "moment", AS_KNOWN_AT.description, "2022-10-31")


@frozen
class Call:
    ledger: Ledger
    args: Mapping[str, Any]
    caller: Caller
    body: bytes = b""


@frozen
class Endpoint:
    name: str
    method: str
    path: str
    summary: str
    run: Callable[[Call], Document]
    params: tuple[Param, ...] = ()
    roles: frozenset[Role] = EVERY_ROLE
    compact: bool = False  # printed on one line, as the CLI prints it
    cli: str | None = None  # the command whose --json this is
    returns: Returns | None = None  # its document's type (or media type): the schema's truth
    accepts: tuple[str, ...] = JSON_LINES  # a POST's body types (JSON Lines: no form can send it)
    body: Mapping[str, Any] | None = None  # a POST body's OpenAPI requestBody, if not JSON Lines

    def read(self, query: Mapping[str, list[str]], path: Mapping[str, str]) -> dict[str, Any]:
        """The parameters read by kind; BadParameter for an unknown, repeated or malformed one."""
        known = {p.name: p for p in self.params}
        for name, values in query.items():
            if name not in known or known[name].where != "query":
                takes = ", ".join(p.name for p in self.params if p.where == "query") or "none"
                raise BadParameter(name, f"is not a parameter here (this endpoint takes {takes})")
            if len(values) > 1:
                raise BadParameter(name, "is given more than once")
        args: dict[str, Any] = {}
        for param in self.params:
            given = path.get(param.name) if param.where == "path" else None
            if param.where == "query" and param.name in query:
                given = query[param.name][0]
            if given is None:
                if param.required:
                    raise BadParameter(param.name, "is required")
                args[param.name] = None
                continue
            try:
                args[param.name] = READERS[param.kind][0](given)
            except (ValueError, argparse.ArgumentTypeError) as error:
                raise BadParameter(param.name, str(error)) from None
        return args


def _case(example: str = "Dnr 2016-292") -> Param:
    return Param("case_number", "text", "the agreement's case number", example, True, "path")


def _agreements(call: Call) -> Document:
    return documents.agreements_document(call.ledger, call.args["as_known_at"])


def _budget(call: Call) -> Document:
    a = call.args
    return documents.budget_document(
        call.ledger, a["case_number"], a["on"], a["split"] or Split.MONTHS, a["as_known_at"]
    )


def _fiscal_year(call: Call) -> Document:
    a = call.args
    return documents.fiscal_year_document(
        call.ledger, a["year"], a["split"] or Split.MONTHS, a["municipality"], a["as_known_at"]
    )


def _report(call: Call) -> Document:
    a = call.args
    if a["to"] < a["from"]:  # named as the URL names them, not as the CLI's options
        raise InvalidValue("to", f"{a['to']} is before from {a['from']}")
    window = documents.report_window(a["from"], a["to"])
    public = bool(a["public"]) or not call.caller.auditor
    threshold = a["threshold"] or PUBLIC_THRESHOLD
    if not call.caller.auditor:  # a reader sees what may be published, never less withheld
        threshold = max(threshold, PUBLIC_THRESHOLD)
    return documents.report_document(
        call.ledger, a["case_number"], window, a["as_known_at"], public=public, threshold=threshold
    )


def _follow_up_report(call: Call) -> Document:
    a = call.args
    return documents.follow_up_report_document(
        call.ledger, a["case_number"], a["follow_up_ref"], a["as_known_at"]
    )


def _follow_ups(call: Call) -> Document:
    a = call.args
    on: date = a["on"] or date.today()
    return documents.follow_ups_document(call.ledger, a["case_number"], on, a["as_known_at"])


def _history(call: Call) -> Document:
    return documents.history_document(
        call.ledger, call.args["case_number"], call.args["as_known_at"]
    )


def _replay(call: Call) -> Document:
    a = call.args
    return documents.replay_document(call.ledger, a["case_number"], a["as_known_at"], a["on"])


def _diff(call: Call) -> Document:
    a = call.args
    if a["as_known_at"] is not None and a["as_known_at"] < a["since"]:
        raise InvalidValue(
            "as_known_at",
            f"{a['as_known_at'].isoformat()} is before since {a['since'].isoformat()}",
        )
    return documents.diff_document(
        call.ledger, a["case_number"], a["since"], a["as_known_at"], a["on"]
    )


def _import(call: Call) -> Document:
    receipt = bool(call.args.get("receipt"))  # the batch's receipt too (issue 21)
    return documents.import_document(
        call.ledger, call.body, call.caller.actor, with_receipt=receipt
    )


ON = Param("on", "day", "the day statuses are judged on", "2023-10-01")
ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint(
        "agreements",
        "GET",
        "/agreements",
        "Every agreement the store knows: case number, title and parties (for choosing one)",
        _agreements,
        (AS_KNOWN_AT,),
        returns=Returns(AgreementList),
    ),
    Endpoint(
        "budget",
        "GET",
        "/agreements/{case_number}/budget",
        "The agreement's money on a date: status, end, funding lines, split by fiscal year",
        _budget,
        (
            _case(),
            Param("on", "day", "the date of the budget", "2023-10-01", True),
            Param("split", "split", "months or days", "months"),
            BEFORE_EXTENSION,
        ),
        cli="budget CASE --on DATE",
        returns=known(Budget),
    ),
    Endpoint(
        "fiscal_year",
        "GET",
        "/fiscal-years/{year}/budget",
        "Every agreement's funding in a fiscal (calendar) year, by agreement, party and source",
        _fiscal_year,
        (
            Param("year", "year", "the fiscal year", "2023", True, "path"),
            Param("split", "split", "months or days", "months"),
            Param("municipality", "text", "only that municipality's agreements"),
            AS_KNOWN_AT,
        ),
        cli="budget --fiscal-year YEAR",
        returns=known(FiscalYear),
    ),
    Endpoint(
        "report",
        "GET",
        "/agreements/{case_number}/report",
        "Report figures for a window; without the auditor's role always for publication "
        "(counts of people under 5 withheld)",
        _report,
        (
            _case(),
            Param("from", "day", "the window's first day", "2023-04-01", True),
            Param("to", "day", "the window's last day", "2024-03-31", True),
            Param(
                "public",
                "flag",
                "withhold small counts of people (forced without the auditor's role)",
                "false",
            ),
            Param(
                "threshold",
                "count",
                "with public: the smallest count shown (at least 5 without the auditor's role)",
            ),
            AS_KNOWN_AT,
        ),
        cli="report CASE --from DATE --to DATE [--public]",
        returns=known(
            ReportFigures | PublishedFigures,
            targets=tuple[AssessedTarget, ...],
            nothing_recorded=bool,
        ),
    ),
    Endpoint(
        "follow_up_report",
        "GET",
        "/agreements/{case_number}/follow-ups/{follow_up_ref}/report",
        "The follow-up's window, with the figures frozen when its report was submitted",
        _follow_up_report,
        (
            _case(),
            Param(
                "follow_up_ref", "text", "the follow-up's reference", "ILL-2023-H1", True, "path"
            ),
            AS_KNOWN_AT,
        ),
        roles=AUDITOR,
        cli="report CASE --follow-up REF",
        returns=known(ReportFigures, "FollowUpReport", follow_up=SubmittedComparison),
    ),
    Endpoint(
        "follow_ups",
        "GET",
        "/agreements/{case_number}/follow-ups",
        "Each follow-up's window, due date and status on a day",
        _follow_ups,
        (
            _case(),
            Param("on", "day", "the day they are judged on (default today)", "2023-10-01"),
            AS_KNOWN_AT,
        ),
        cli="follow-ups CASE --on DATE",
        returns=marked(FollowUpStandings),
    ),
    Endpoint(
        "history",
        "GET",
        "/agreements/{case_number}/history",
        "Every recorded fact about the agreement, in recorded order",
        _history,
        (_case(), AS_KNOWN_AT),
        roles=AUDITOR,
        cli="history CASE",
        returns=marked(History),
    ),
    Endpoint(
        "replay",
        "GET",
        "/agreements/{case_number}/replay",
        "The agreement, its groups and follow-ups as the ledger knew them at as_known_at "
        "(the CLI's --until)",
        _replay,
        (_case(), ON, BEFORE_EXTENSION),
        roles=AUDITOR,
        cli="audit replay CASE --until T",
        returns=marked(Replay),
    ),
    Endpoint(
        "diff",
        "GET",
        "/agreements/{case_number}/diff",
        "What changed between since and as_known_at (the CLI's --until), and which facts did it",
        _diff,
        (
            _case(),
            Param("since", "moment", "the earlier moment", "2022-10-31", True),
            ON,
            Param(
                "as_known_at",
                "moment",
                "the later moment (default: everything recorded)",
                "2022-12-31",
            ),
        ),
        roles=AUDITOR,
        cli="audit replay CASE --since T1 --until T2 --diff",
        returns=marked(ReplayDiff),
    ),
    Endpoint(
        "verify",
        "GET",
        "/audit/verify",
        "The walk of the store's chain of facts: whether it holds, and where it breaks",
        lambda call: documents.verify_document(call.ledger, call.args["digest"]),
        (Param("digest", "digest", "a digest kept earlier: the history up to it is unchanged"),),
        roles=AUDITOR,
        cli="audit verify",
        returns=Returns(VerificationDocument),
    ),
    Endpoint(
        "digest",
        "GET",
        "/audit/digest",
        "The chain's head, POSITION:SHA256, for an auditor to keep outside the system",
        lambda call: documents.digest_document(call.ledger),
        compact=True,
        cli="audit digest",
        returns=Returns(ChainDigest),
    ),
    Endpoint(
        "store_info",
        "GET",
        "/store/info",
        "The store's format and this code's, its facts by type and version, the chain head "
        "(auditor: how many facts of each kind, erasures too, is more than a reader may see)",
        lambda call: documents.store_info_document(call.ledger),
        roles=AUDITOR,
        cli="store info",
        returns=marked(StoreInfo),
    ),
    Endpoint(
        "import",
        "POST",
        "/imports",
        "Apply an exchange file (JSON Lines body), all or nothing; lines with an id applied "
        "before are skipped. The actor is the caller: token:NAME, or the local user",
        _import,
        (Param("receipt", "flag", "true: add the batch's receipt (needs the log's key)"),),
        roles=WRITER,
        compact=True,
        cli="import FILE",
        returns=Returns(ImportReceipt),
    ),
)
