"""`biv store info`: what an operator asks before an upgrade.

The store's format and this code's, the facts by type and version of their
shape, the chain's head, whether this code reads every fact, and whether the
store is encrypted.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the ledger loads when the command runs, not for --help
    from biv_domain.ledger import Ledger


def add_store_commands(commands: Any, store: argparse.ArgumentParser) -> None:
    group = commands.add_parser("store", help="the store itself: its format and its facts")
    verbs = group.add_subparsers(dest="store_command", required=True, metavar="STORE_COMMAND")
    info = verbs.add_parser(
        "info",
        parents=[store],
        help="the store's format, its facts by type and version, its chain head",
        epilog="example: biv store info --store sqlite:iop.sqlite3 --json",
    )
    info.add_argument("--json", action="store_true", help="one JSON object on standard output")
    info.set_defaults(run=run_store)


def run_store(args: argparse.Namespace, ledger: Ledger) -> int:
    from biv_adapters.demo_stages import demo_line
    from biv_adapters.documents import store_info_document
    from biv_domain.converter import json_text

    body = store_info_document(ledger)
    print(json_text(body) if args.json else demo_line(body) + info_text(body))
    return 0


def info_text(d: dict[str, Any]) -> str:
    rows = [[c["type"], c["version"], c["current_version"], c["facts"]] for c in d["by_type"]]
    from biv_adapters.cli.render import table

    readable = "yes" if d["readable"] else "NO: upgrade biv-domain first"
    return "\n".join(
        [
            f"store format {d['store_format']}, this biv-domain writes format {d['code_format']}",
            f"{d['facts']} facts; chain head {d['chain_head'] or '(empty)'}",
            f"readable by this version: {readable}; encrypted: {'yes' if d['encrypted'] else 'no'}",
            "",
            table(["type", "stored as version", "read as version", "facts"], rows),
        ]
    )
