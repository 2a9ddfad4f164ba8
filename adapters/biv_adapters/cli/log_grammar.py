"""The log's command-line grammar (issue 21): its verbs, options and examples.

Apart from `log_commands`, which runs them, so that `biv --help` reads the grammar without
loading the ledger, cryptography or the network (tests/test_fast_start.py).
"""

from __future__ import annotations

import argparse
from typing import Any

from biv_adapters.arguments import parse_count

LOG_COMMANDS = frozenset({"checkpoint", "prove", "consistency"})
OFFLINE = frozenset({"keygen", "check-receipt"})
EXAMPLES = {
    "audit keygen": "biv audit keygen linkoping.se/biv > log.keys"
    "   # line 1 goes to BIV_LOG_KEY (the vault), line 2 to the auditors",
    "audit checkpoint": 'BIV_LOG_KEY="$(head -1 log.keys)" biv audit checkpoint > checkpoint.txt',
    "audit prove": "biv audit prove 372 --size 376 --json",
    "audit consistency": "biv audit consistency 300 376 --json",
    "audit check-receipt": 'BIV_LOG_KEY="$(head -1 log.keys)" biv import decisions.jsonl '
    "--actor Eva --receipt kvitto.json\n"
    '  biv audit check-receipt kvitto.json --key "$(tail -1 log.keys)"',
    "witness": "biv audit keygen kommunrevisionen.example --witness > witness.keys\n"
    '  biv witness --log sqlite:biv.sqlite3 --key "$(head -1 witness.keys)" '
    '--log-key "$(tail -1 log.keys)" --state witness.json',
}


def is_offline(args: argparse.Namespace) -> bool:
    """Whether the command is one of the log's that needs no store of its own (a key made, a
    receipt checked, a witness's round): the command line runs it before opening a store."""
    audit = getattr(args, "audit_command", None)
    return bool(args.command == "witness" or (args.command == "audit" and audit in OFFLINE))


def add_log_commands(verbs: Any, store: argparse.ArgumentParser) -> None:
    """The log's `biv audit` verbs."""
    keygen = verbs.add_parser(
        "keygen",
        help="make a key to sign the log's checkpoints (or, --witness, to co-sign them)",
        description="Prints two lines: the signer key PRIVATE+KEY+NAME+KEYID+BASE64 (keep it in "
        "the vault: BIV_LOG_KEY) and the verifier key NAME+KEYID+BASE64 (give it to auditors).",
    )
    keygen.add_argument("name", metavar="NAME", help="the log's name, its checkpoints' origin")
    keygen.add_argument(
        "--witness", action="store_true", help="a witness's key (cosignature/v1, type 0x04)"
    )
    checkpoint = verbs.add_parser(
        "checkpoint", parents=[store], help="the log's signed checkpoint (needs BIV_LOG_KEY)"
    )
    checkpoint.add_argument("--json", action="store_true", help="origin, size and root (hex)")
    prove = verbs.add_parser(
        "prove", parents=[store], help="the inclusion proof of the fact at a chain position"
    )
    prove.add_argument("position", type=parse_count, metavar="POSITION")
    prove.add_argument(
        "--size", type=parse_count, metavar="N", help="the tree's size (default: now)"
    )
    prove.add_argument("--json", action="store_true")
    consistency = verbs.add_parser(
        "consistency", parents=[store], help="the proof that the tree of M is a prefix of N"
    )
    consistency.add_argument("old", type=parse_count, metavar="M")
    consistency.add_argument("new", type=parse_count, metavar="N", nargs="?")
    consistency.add_argument("--json", action="store_true")
    receipt = verbs.add_parser(
        "check-receipt",
        help="check an import's receipt: the log's signature, every proof, and (--store) "
        "that the log today extends it",
    )
    receipt.add_argument("file", metavar="FILE")
    receipt.add_argument("--key", required=True, metavar="VKEY", help="the log's verifier key")
    receipt.add_argument(
        "--store", metavar="URL", help="a store, or the service (https://…), to ask"
    )
    receipt.add_argument("--json", action="store_true")


def add_checkpoint_options(verify: argparse.ArgumentParser) -> None:
    verify.add_argument(
        "--checkpoint", metavar="FILE", help="a signed checkpoint kept outside: prove it extended"
    )
    verify.add_argument("--key", metavar="VKEY", help="with --checkpoint: the log's verifier key")


def add_witness_command(commands: Any) -> None:
    parser = commands.add_parser(
        "witness",
        help="co-sign the log's checkpoint if it extends the one this witness saw",
    )
    parser.add_argument("--log", required=True, metavar="URL", help="the service or the store")
    parser.add_argument("--key", required=True, metavar="KEY", help="the witness's signer key")
    parser.add_argument("--log-key", required=True, metavar="VKEY", help="the log's verifier key")
    parser.add_argument("--state", required=True, metavar="FILE", help="the witness's state")


def add_receipt_option(imp: argparse.ArgumentParser) -> None:
    imp.add_argument(
        "--receipt",
        metavar="OUT.json",
        help="write the batch's receipt: the signed checkpoint and each line's proofs",
    )
