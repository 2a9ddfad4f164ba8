"""The log's command-line grammar (issue 21): its verbs, options and examples.

Apart from `cli.log`, which runs them, so that `biv --help` reads the grammar without
loading the ledger, cryptography or the network (tests/adapters/test_fast_start.py).
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from biv_adapters.arguments import parse_count

if TYPE_CHECKING:  # the ledger loads when a command runs, not for --help
    from biv_domain.ledger import Ledger

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


# What each command runs (`set_defaults`), loaded only then: `cli.log` brings the ledger,
# cryptography and the network. A key made, a receipt checked and a witness's round need no
# store of their own (`offline`); the command line opens none for them.


def _keygen(args: argparse.Namespace) -> int:
    from biv_adapters.cli.log import run_keygen

    return run_keygen(args)


def _check_receipt(args: argparse.Namespace) -> int:
    from biv_adapters.cli.log import run_check_receipt

    return run_check_receipt(args)


def _witness(args: argparse.Namespace) -> int:
    from biv_adapters.cli.log import run_witness

    return run_witness(args)


def _checkpoint(args: argparse.Namespace, ledger: Ledger) -> int:
    from biv_adapters.cli.log import run_checkpoint

    return run_checkpoint(args, ledger)


def _prove(args: argparse.Namespace, ledger: Ledger) -> int:
    from biv_adapters.cli.log import run_prove

    return run_prove(args, ledger)


def _consistency(args: argparse.Namespace, ledger: Ledger) -> int:
    from biv_adapters.cli.log import run_consistency

    return run_consistency(args, ledger)


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
    keygen.set_defaults(offline=_keygen)
    checkpoint = verbs.add_parser(
        "checkpoint", parents=[store], help="the log's signed checkpoint (needs BIV_LOG_KEY)"
    )
    checkpoint.add_argument("--json", action="store_true", help="origin, size and root (hex)")
    checkpoint.set_defaults(run=_checkpoint)
    prove = verbs.add_parser(
        "prove", parents=[store], help="the inclusion proof of the fact at a chain position"
    )
    prove.add_argument("position", type=parse_count, metavar="POSITION")
    prove.add_argument(
        "--size", type=parse_count, metavar="N", help="the tree's size (default: now)"
    )
    prove.add_argument("--json", action="store_true")
    prove.set_defaults(run=_prove)
    consistency = verbs.add_parser(
        "consistency", parents=[store], help="the proof that the tree of M is a prefix of N"
    )
    consistency.add_argument("old", type=parse_count, metavar="M")
    consistency.add_argument("new", type=parse_count, metavar="N", nargs="?")
    consistency.add_argument("--json", action="store_true")
    consistency.set_defaults(run=_consistency)
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
    receipt.set_defaults(offline=_check_receipt)


def add_witness_command(commands: Any) -> None:
    parser = commands.add_parser(
        "witness",
        help="co-sign the log's checkpoint if it extends the one this witness saw",
    )
    parser.add_argument("--log", required=True, metavar="URL", help="the service or the store")
    parser.add_argument("--key", required=True, metavar="KEY", help="the witness's signer key")
    parser.add_argument("--log-key", required=True, metavar="VKEY", help="the log's verifier key")
    parser.add_argument("--state", required=True, metavar="FILE", help="the witness's state")
    parser.set_defaults(offline=_witness)


def add_receipt_option(imp: argparse.ArgumentParser) -> None:
    imp.add_argument(
        "--receipt",
        metavar="OUT.json",
        help="write the batch's receipt: the signed checkpoint and each line's proofs",
    )
