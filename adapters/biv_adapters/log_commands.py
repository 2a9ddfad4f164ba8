"""The log's commands (issue 21): keys, checkpoints, proofs, receipts and witnesses.

- `biv audit keygen NAME [--witness]` prints a signer key and its verifier key.
- `biv audit checkpoint [--json]` prints the log's signed checkpoint (C2SP note).
- `biv audit prove POSITION [--size N]`, `biv audit consistency M [N]`: RFC 9162 proofs.
- `biv audit check-receipt FILE --key VKEY [--store URL]` checks an import's receipt.
- `biv audit verify --checkpoint FILE --key VKEY`: the store still extends the checkpoint.
- `biv witness --log URL --key KEY --log-key VKEY --state FILE` co-signs the log's checkpoint.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from biv_adapters.arguments import UsageError, parse_count
from biv_adapters.stores import open_ledger, redact, require_existing, store_failures
from biv_adapters.witness import log_at, witness
from biv_domain.converter import document, json_text, parse_json
from biv_domain.errors import Refused
from biv_domain.ledger import Ledger, utc_now
from biv_domain.ledger.log import LogRefused
from biv_domain.ledger.log_verification import verify_checkpoint
from biv_domain.ledger.note import COSIGNATURE_V1, ED25519, Checkpoint, Signer, Verifier
from biv_domain.ledger.receipts import (
    check_consistency,
    check_receipt,
    read_receipt,
    signed_checkpoint,
)

LOG_COMMANDS = frozenset({"checkpoint", "prove", "consistency"})
OFFLINE = frozenset({"keygen", "check-receipt"})
EXAMPLES = {
    "audit keygen": "biv audit keygen linkoping.se/biv   # the first line goes to BIV_LOG_KEY",
    "audit checkpoint": "biv audit checkpoint > checkpoint-2024-01-31.txt",
    "audit prove": "biv audit prove 372 --size 376 --json",
    "audit consistency": "biv audit consistency 300 376 --json",
    "audit check-receipt": 'biv audit check-receipt kvitto.json --key "$(cat log.vkey)"',
    "witness": 'biv witness --log https://biv.example --key "$WITNESS_KEY" '
    '--log-key "$(cat log.vkey)" --state witness.json',
}


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


# --- Running them ---------------------------------------------------------------------------


def _verifier(text: str, field: str = "key") -> Verifier:
    return Verifier.parse(text, field)


def run_offline(args: argparse.Namespace) -> int | None:
    """The log's commands that need no store of their own; None for every other command."""
    audit = getattr(args, "audit_command", None)
    if not (args.command == "witness" or (args.command == "audit" and audit in OFFLINE)):
        return None
    try:
        if args.command == "witness":
            return _witness(args)
        if audit == "keygen":
            kind = COSIGNATURE_V1 if args.witness else ED25519
            signer = Signer.generate(args.name, kind)
            print(signer)
            print(signer.verifier)
            return 0
        return _check_receipt(args)
    except Refused as refusal:
        print(f"biv: refused: {_one_line(str(refusal))}", file=sys.stderr)
        return 1
    except UsageError as error:
        print(f"biv: {error}", file=sys.stderr)
        return 2
    except store_failures() as failure:
        print(f"biv: the store cannot be used: {redact(_one_line(str(failure)))}", file=sys.stderr)
        return 2


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _read(path: str) -> str:
    try:
        return Path(path).read_text("utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise UsageError(
            f"cannot read {path}: {getattr(error, 'strerror', None) or error}"
        ) from None


def _open(url: str) -> Ledger:
    if not url.startswith(("http://", "https://")):
        require_existing(url)
    return open_ledger(url)


def _witness(args: argparse.Namespace) -> int:
    signer = Signer.parse(args.key, "key")
    log_key = _verifier(args.log_key, "log-key")
    log = log_at(args.log, _open)
    try:
        checkpoint = witness(log, signer, log_key, Path(args.state), utc_now())
    finally:
        log.close()
    print(f"co-signed {checkpoint.origin}'s checkpoint of {checkpoint.size} facts as {signer.name}")
    return 0


def _check_receipt(args: argparse.Namespace) -> int:
    try:
        receipt = read_receipt(parse_json(_read(args.file)))
    except ValueError as error:
        if isinstance(error, Refused):
            raise
        raise UsageError(f"{args.file} is not JSON") from None
    key = _verifier(args.key)
    checkpoint = check_receipt(receipt, key)
    facts = sum(len(line.facts) for line in receipt.lines)
    body: dict[str, Any] = {
        "origin": checkpoint.origin,
        "size": checkpoint.size,
        "root": checkpoint.root.hex(),
        "lines": len(receipt.lines),
        "facts": facts,
        "extended_by": None,
    }
    if args.store:
        log = log_at(args.store, _open)
        try:
            now = signed_checkpoint(log.checkpoint(), key, "store")
            if now.size < checkpoint.size:
                raise LogRefused(
                    "store",
                    f"holds {now.size} facts, fewer than the receipt's {checkpoint.size}: "
                    "it shrank",
                )
            check_consistency(checkpoint, now, log.consistency(checkpoint.size, now.size))
        finally:
            log.close()
        body["extended_by"] = {"size": now.size, "root": now.root.hex()}
    if args.json:
        print(json_text(body))
    else:
        print(
            f"the receipt holds: {len(receipt.lines)} lines, {facts} facts, each proved in "
            f"{checkpoint.origin}'s checkpoint of {checkpoint.size} facts"
        )
        if body["extended_by"]:
            print(f"the log today ({body['extended_by']['size']} facts) extends it")
    return 0


def run_log(args: argparse.Namespace, ledger: Ledger) -> int:
    if args.audit_command == "checkpoint":
        note = ledger.checkpoint()
        if args.json:
            cp = Checkpoint.from_text(note.text)
            print(json_text({"origin": cp.origin, "size": cp.size, "root": cp.root.hex()}))
        else:
            sys.stdout.write(str(note))
        return 0
    if args.audit_command == "prove":
        proof = ledger.inclusion_proof(args.position, args.size)
        print(json_text(document(proof), indent=not args.json))
        return 0
    proof_ = ledger.consistency_proof(args.old, args.new)
    print(json_text(document(proof_), indent=not args.json))
    return 0


def run_verify_checkpoint(args: argparse.Namespace, ledger: Ledger) -> int:
    """`biv audit verify --checkpoint FILE --key VKEY`: the store still extends the checkpoint."""
    if args.key is None:
        raise UsageError("--checkpoint needs --key VKEY, the log's verifier key")
    key = _verifier(args.key)
    result = verify_checkpoint(ledger, _read(args.checkpoint), key)
    if not result.holds:
        print(f"biv: {result.problem}", file=sys.stderr)
        return 1
    if not args.json:
        print(
            f"the store extends the checkpoint of {result.checkpoint.size} facts "
            f"signed by {key.name}: its first {result.checkpoint.size} facts make its root"
        )
    return 0


def write_receipt(args: argparse.Namespace, ledger: Ledger, data: bytes) -> int:
    """`biv import FILE --receipt OUT.json`: the import, and its receipt written to OUT.json."""
    from biv_adapters.documents import import_document

    body = import_document(ledger, data, with_receipt=True)
    receipt = body.pop("receipt")
    try:
        Path(args.receipt).write_text(json_text(receipt) + "\n", "utf-8")
    except OSError as error:
        raise UsageError(
            f"the lines are stored, but the receipt cannot be written to {args.receipt}: "
            f"{error.strerror}; `biv audit prove` gives each fact's proof"
        ) from None
    if args.json:
        print(json_text(body, indent=False))
    else:
        print(
            f"applied {body['applied']} lines, skipped {body['skipped']} already applied; "
            f"the receipt is in {args.receipt}"
        )
    return 0
