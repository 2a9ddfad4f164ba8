"""Every query's JSON document, built in one place for the command line and the HTTP service.

`biv … --json` prints these documents and `biv serve` answers with them, so a
program gets the same keys and values whichever way it asks. Each function
takes what the caller parsed (dates, moments, options) and raises `UsageError`
where the options do not go together, a `Refused` where the ledger refuses.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from biv_adapters.arguments import UsageError
from biv_adapters.demo_stages import demo_mark
from biv_domain.converter import document
from biv_domain.errors import InvalidValue
from biv_domain.ledger import Ledger, LineRefused
from biv_domain.model.dates import Period
from biv_domain.model.follow_up import FollowUpStandings
from biv_domain.projections.budget import Split, budget

if TYPE_CHECKING:  # each loads with the one document that needs it: a budget needs none
    from biv_domain.ledger.verification import Digest, Verification
    from biv_domain.projections.report import ReportView

Document = dict[str, Any]


def marked(ledger: Ledger, body: Document) -> Document:
    """The document, with the key `demo` when the store holds the demo's simulated history."""
    mark = demo_mark(ledger)
    return {**body, "demo": mark.document()} if mark else body


def known(figures: object, as_known_at: datetime | None) -> Document:
    """A document of figures, with the moment they are known at."""
    return {**document(figures), "as_known_at": document(as_known_at)}


def agreements_document(ledger: Ledger, as_known_at: datetime | None = None) -> Document:
    """`GET /agreements`: every agreement's case number, title, municipality and partner."""
    rows = ledger.funding_rows(as_known_at)
    agreements = [document(row) for _, row in sorted(rows.agreements.items())]
    return {"agreements": agreements, "as_known_at": document(as_known_at)}


def budget_document(
    ledger: Ledger,
    case_number: str,
    on: date,
    split: Split = Split.MONTHS,
    as_known_at: datetime | None = None,
) -> Document:
    """`biv budget CASE --on DATE --json`."""
    state = ledger.agreement(case_number, as_known_at)
    return marked(ledger, known(budget(state, on, split), as_known_at))


def fiscal_year_document(
    ledger: Ledger,
    year: int,
    split: Split = Split.MONTHS,
    municipality: str | None = None,
    as_known_at: datetime | None = None,
) -> Document:
    """`biv budget --fiscal-year YEAR --json`."""
    return marked(
        ledger, known(ledger.fiscal_year(year, split, municipality, as_known_at), as_known_at)
    )


def report_window(start: date | None, end: date | None) -> Period:
    """The window from --from and --to; a usage error when either is missing or reversed."""
    if not (start and end):
        raise UsageError("give --from and --to, or --follow-up")
    try:
        return Period(start, end)
    except InvalidValue as reversed_window:  # the options are wrong, not the store's data
        raise UsageError(f"--to: {reversed_window.reason}") from None


def report_document(
    ledger: Ledger,
    case_number: str,
    window: Period,
    as_known_at: datetime | None = None,
    *,
    public: bool = False,
    threshold: int | None = None,
) -> Document:
    """`biv report CASE --from --to [--public --threshold N] --json`.

    Each target carries `met` (None when nothing was recorded for the window, with
    `reason`) and `counts_from`; `nothing_recorded` says the window holds no group or session.
    """
    from biv_domain.projections.report import PUBLIC_THRESHOLD, for_publication, report_view

    state = ledger.agreement(case_number, as_known_at)  # NotFound unless known then
    groups = ledger.groups(case_number, as_known_at, overlapping=window)
    view = report_view(state, groups, window)
    if not public:
        return marked(ledger, with_assessments(known(view.figures, as_known_at), view))
    try:
        published = for_publication(
            view.figures, PUBLIC_THRESHOLD if threshold is None else threshold
        )
    except InvalidValue as refused:  # an option's value: a usage error, naming the option
        raise UsageError(f"--threshold: {refused.reason}") from None
    return marked(ledger, with_assessments(known(published, as_known_at), view))


def with_assessments(body: Document, view: ReportView) -> Document:
    """The report's targets judged as `view` judges them (each target's `actual` stays the
    body's own, which a report for publication may withhold)."""
    judged = {t.target.value: t for t in view.targets}
    targets = [
        {
            **target,
            "met": judged[target["target"]].met,
            "counts_from": document(judged[target["target"]].counts_from),
            "reason": judged[target["target"]].reason,
        }
        for target in body["targets"]
    ]
    return {**body, "targets": targets, "nothing_recorded": view.nothing_recorded}


def follow_up_report_document(
    ledger: Ledger, case_number: str, follow_up_ref: str, as_known_at: datetime | None = None
) -> Document:
    """`biv report CASE --follow-up REF --json`."""
    figures, submitted = ledger.follow_up_report(case_number, follow_up_ref, as_known_at)
    return marked(ledger, {**known(figures, as_known_at), "follow_up": document(submitted)})


def follow_ups_document(
    ledger: Ledger, case_number: str, on: date, as_known_at: datetime | None = None
) -> Document:
    """`biv follow-ups CASE --on DATE --json`."""
    follow_ups = ledger.follow_ups(case_number, as_known_at)
    standings = FollowUpStandings(
        case_number, on, as_known_at, tuple(f.standing(on) for f in follow_ups)
    )
    body: Document = document(standings)
    return marked(ledger, body)


def history_document(
    ledger: Ledger, case_number: str, as_known_at: datetime | None = None
) -> Document:
    """`biv history CASE --json`."""
    from biv_domain.projections.history import History  # this document's alone

    facts = ledger.history(case_number, as_known_at)
    body: Document = document(History.of(case_number, facts, as_known_at))
    return marked(ledger, body)


def replay_document(
    ledger: Ledger, case_number: str, until: datetime | None, on: date | None
) -> Document:
    """`biv audit replay CASE [--until T] [--on DATE] --json`."""
    day = on or (until or ledger.clock()).date()
    body: Document = document(ledger.replay(case_number, until, day))
    return marked(ledger, body)


def diff_document(
    ledger: Ledger,
    case_number: str,
    since: datetime | None,
    until: datetime | None,
    on: date | None,
) -> Document:
    """`biv audit replay CASE --since T1 [--until T2] --diff --json`."""
    since = diff_window(since, until)
    day = on or (until or ledger.clock()).date()
    body: Document = document(ledger.diff(case_number, since, until, day))
    return marked(ledger, body)


def diff_window(since: datetime | None, until: datetime | None) -> datetime:
    """A diff's two moments: `since` given, and `until` (if given) not before it."""
    if since is None:
        raise UsageError("--diff compares two moments: give --since TIMESTAMP (and --until)")
    if until is not None and until < since:
        raise UsageError(f"--until {until.isoformat()} is before --since {since.isoformat()}")
    return since


def verify_document(ledger: Ledger, digest: Digest | None = None) -> Document:
    """`biv audit verify [--digest D] --json` (its `intact` says whether the chain holds)."""
    return verification_document(ledger.verify_chain(digest))


def verification_document(result: Verification) -> Document:
    """A walk of the chain as `biv audit verify --json` prints it."""
    body: Document = document(result.document())
    return body


def digest_document(ledger: Ledger) -> Document:
    """`biv audit digest --json`."""
    head = ledger.digest()
    where = {"position": head.position, "hash": head.hash} if head else {}
    return {"digest": str(head) if head else None, **where}


def store_info_document(ledger: Ledger) -> Document:
    """`biv store info --json`."""
    from biv_domain.ledger.store_info import store_info

    body: Document = document(store_info(ledger))
    return marked(ledger, body)


def import_document(
    ledger: Ledger, data: bytes, actor: str | None = None, *, with_receipt: bool = False
) -> Document:
    """`biv import FILE --json`: the exchange file applied all or nothing, lines by id once;
    with `receipt`, the batch's receipt too (issue 21: needs the log's key)."""
    from biv_adapters.exchange import read_lines  # a write's: a query reads no exchange line

    if with_receipt:
        ledger.require_log_key()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise LineRefused(line, InvalidValue("line", "is not UTF-8 text")) from None
    lines: Sequence[str] = text.splitlines()
    commands = read_lines(lines)
    if not commands:  # an empty body is a mistake (a wrong file, a cut upload), not a no-op
        raise InvalidValue("body", "has no lines: an exchange file holds one command a line")
    receipt = ledger.execute_all(commands, actor=actor)
    counts: Document = {"applied": receipt.applied, "skipped": receipt.skipped}
    if receipt.erased:  # only a batch that erased says so: the shape programs know stays
        counts["erased"] = receipt.erased
    if with_receipt:
        from biv_domain.ledger.receipts import receipt_of

        counts["receipt"] = document(receipt_of(ledger, receipt))
    return counts
