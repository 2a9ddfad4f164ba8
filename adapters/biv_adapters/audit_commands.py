"""`biv audit …`: the auditor's commands (kommunrevision).

- `biv audit verify [--digest D]` walks the chain of stored facts and names the
  first row that does not fit; with a digest it also proves the history up to
  it unchanged. Exit 0 when the chain holds, 1 when it breaks.
- `biv audit digest` prints the chain's head, "position:hash", to keep outside.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from biv_domain.audit import Digest, Verification
from biv_domain.converter import converter
from biv_domain.ledger import Ledger


def add_audit_commands(
    commands: Any, store: argparse.ArgumentParser, query: argparse.ArgumentParser
) -> None:
    audit = commands.add_parser("audit", help="verify, replay and export the history for an audit")
    verbs = audit.add_subparsers(dest="audit_command", required=True, metavar="AUDIT_COMMAND")

    verify = verbs.add_parser(
        "verify", parents=[store], help="check that no stored fact was changed, removed or added"
    )
    verify.add_argument("--digest", type=_digest, help="POSITION:SHA256 from `biv audit digest`")
    verify.add_argument("--json", action="store_true")

    digest = verbs.add_parser("digest", parents=[store], help="the chain's head, to keep outside")
    digest.add_argument("--json", action="store_true")


def _digest(text: str) -> Digest:
    try:
        return Digest.parse(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def run_audit(args: argparse.Namespace, ledger: Ledger) -> int:
    if args.audit_command == "verify":
        return _verify(args, ledger)
    if args.audit_command == "digest":
        head = ledger.digest()
        if args.json:
            print(json.dumps({"digest": str(head) if head else None, **_digest_json(head)}))
        else:
            print(head if head else "the store is empty: nothing to digest")
        return 0
    raise ValueError(f"unknown audit command {args.audit_command!r}")  # pragma: no cover


def _digest_json(digest: Digest | None) -> dict[str, Any]:
    return {"position": digest.position, "hash": digest.hash} if digest else {}


def verification_json(result: Verification) -> dict[str, Any]:
    return {
        "intact": result.intact,
        "facts": result.facts,
        "head": str(result.head) if result.head else None,
        "digest": str(result.digest) if result.digest else None,
        "first_break": converter.unstructure(result.first_break) if result.first_break else None,
    }


def _verify(args: argparse.Namespace, ledger: Ledger) -> int:
    result = ledger.verify_chain(args.digest)
    if args.json:
        print(json.dumps(verification_json(result), ensure_ascii=False, indent=2))
    elif result.intact:
        print(f"the chain of {result.facts} facts holds; its head is {result.head}")
        if result.digest:
            extends = result.head.position - result.digest.position if result.head else 0
            print(
                f"the history up to {result.digest.position} is unchanged, "
                f"and the {extends} facts since extend it"
            )
    if not result.intact:
        print(f"biv: the chain breaks at {result.first_break}", file=sys.stderr)
        return 1
    return 0
