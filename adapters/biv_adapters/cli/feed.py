"""`biv facts` and `biv history --after --limit`: the change feed's grammar and its running.

The grammar loads nothing but argparse, so that `biv --help` stays quick; the
ledger and the documents (`biv_adapters.feed`) load when a command runs.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from biv_adapters.arguments import UsageError

if TYPE_CHECKING:
    from biv_domain.ledger import Ledger
    from biv_domain.projections.feed import FeedFact

Document = dict[str, Any]


def add_feed_commands(commands: Any, query: argparse.ArgumentParser) -> None:
    """`biv facts`: the change feed at the command line."""
    facts = commands.add_parser(
        "facts",
        parents=[query],
        help="the partnership's facts in chain order after a position (the change feed)",
        description="Prints the facts after chain position --after, one JSON object a line "
        "(with --json), each with its chain_position and hash; --follow keeps printing "
        "new facts as they are stored. Resume after the last chain_position you handled.",
    )
    facts.add_argument("--after", type=_position, default=0, metavar="N")
    facts.add_argument("--limit", type=_position, default=None, metavar="K")
    facts.add_argument("--follow", action="store_true", help="wait for new facts, for ever")
    facts.add_argument("--poll", type=float, default=0.5, metavar="SECONDS", help=argparse.SUPPRESS)
    facts.set_defaults(run=run_facts)


def add_history_paging(history: argparse.ArgumentParser) -> None:
    """`biv history CASE --after N --limit K`."""
    history.add_argument(
        "--after", type=_position, default=None, metavar="N", help="a page: after chain position N"
    )
    history.add_argument(
        "--limit", type=_position, default=None, metavar="K", help="a page: at most K facts"
    )


def _position(text: str) -> int:
    if not text.isdigit() or len(text) > 18:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text[:20]!r}")
    return int(text)


def run_facts(args: argparse.Namespace, ledger: Ledger) -> int:
    """`biv facts`: JSON Lines with --json, else one line a fact for a person."""
    from biv_adapters.feed import check_limit
    from biv_domain.ledger.feed import DEFAULT_LIMIT
    from biv_domain.projections.feed import FeedFact

    if args.as_known_at is not None:
        raise UsageError("--as-known-at: the feed is of what is stored; use --after")
    if args.limit is not None:
        check_limit(args.limit)
    if args.follow:
        limit = args.limit or DEFAULT_LIMIT
        for fact in ledger.follow(after=args.after, poll=args.poll, limit=check_limit(limit)):
            _print(FeedFact.of(fact), as_json=args.json)
        return 0  # pragma: no cover - follows for ever
    after, left = args.after, args.limit
    while left is None or left > 0:
        page = ledger.facts_after(after, min(left or DEFAULT_LIMIT, DEFAULT_LIMIT))
        for fact in page:
            _print(FeedFact.of(fact), as_json=args.json)
        if not page:
            break
        after = page[-1].position
        left = None if left is None else left - len(page)
    return 0


def _print(fact: FeedFact, *, as_json: bool) -> None:
    from biv_domain.converter import document, json_text

    if as_json:
        print(json_text(document(fact), indent=False), flush=True)
        return
    effective = fact.effective_on.isoformat() if fact.effective_on else "-"
    print(
        f"{fact.chain_position}\t{fact.recorded_at.isoformat()}\t{effective}\t{fact.type}"
        f"\t{fact.aggregate}\t{fact.actor or '-'}",
        flush=True,
    )


def run_history_page(args: argparse.Namespace, ledger: Ledger) -> Document | None:
    """The page `biv history` asks for, or None when it asks for the whole history."""
    from biv_adapters.feed import history_page_document
    from biv_domain.ledger.feed import DEFAULT_LIMIT

    if args.after is None and args.limit is None:
        return None
    return history_page_document(
        ledger,
        args.case_number,
        args.as_known_at,
        args.after or 0,
        DEFAULT_LIMIT if args.limit is None else args.limit,
    )
