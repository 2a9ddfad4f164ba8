"""The log's commands (issue 21): keys, checkpoints, proofs, receipts and witnesses.

- `biv audit keygen NAME [--witness]` prints a signer key and its verifier key.
- `biv audit checkpoint [--json]` prints the log's signed checkpoint (C2SP note).
- `biv audit prove POSITION [--size N]`, `biv audit consistency M [N]`: RFC 9162 proofs.
- `biv audit check-receipt FILE --key VKEY [--store URL]` checks an import's receipt.
- `biv witness --log URL --key KEY --log-key VKEY --state FILE` co-signs the log's checkpoint.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from biv_adapters.arguments import UsageError
from biv_adapters.stores.registry import open_ledger, redact, require_existing, store_failures
from biv_adapters.witness import log_at, witness
from biv_domain.converter import document, json_text, parse_json
from biv_domain.errors import Refused
from biv_domain.ledger import Ledger, utc_now
from biv_domain.ledger.log import LogRefused
from biv_domain.ledger.note import COSIGNATURE_V1, ED25519, Checkpoint, Signer, Verifier
from biv_domain.ledger.receipts import (
    check_consistency,
    check_receipt,
    read_receipt,
    signed_checkpoint,
)

# --- Running them ---------------------------------------------------------------------------


def _verifier(text: str, field: str = "key") -> Verifier:
    return Verifier.parse(text, field)


def run_witness(args: argparse.Namespace) -> int:
    """`biv witness`: a witness's round, against the service or a store it opens itself."""
    return _offline(_witness, args)


def run_keygen(args: argparse.Namespace) -> int:
    """`biv audit keygen NAME [--witness]`: a key made needs no store."""
    return _offline(_keygen, args)


def run_check_receipt(args: argparse.Namespace) -> int:
    """`biv audit check-receipt FILE --key VKEY [--store URL]`."""
    return _offline(_check_receipt, args)


def _offline(run: Callable[[argparse.Namespace], int], args: argparse.Namespace) -> int:
    """A log's command that needs no store of its own, its refusals each in one line."""
    try:
        return run(args)
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


def _keygen(args: argparse.Namespace) -> int:
    signer = Signer.generate(args.name, COSIGNATURE_V1 if args.witness else ED25519)
    print(signer)
    print(signer.verifier)
    return 0


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


def run_checkpoint(args: argparse.Namespace, ledger: Ledger) -> int:
    """`biv audit checkpoint [--json]`."""
    note = ledger.checkpoint()
    if args.json:
        cp = Checkpoint.from_text(note.text)
        print(json_text({"origin": cp.origin, "size": cp.size, "root": cp.root.hex()}))
    else:
        sys.stdout.write(str(note))
    return 0


def run_prove(args: argparse.Namespace, ledger: Ledger) -> int:
    """`biv audit prove POSITION [--size N]`."""
    proof = ledger.inclusion_proof(args.position, args.size)
    print(json_text(document(proof), indent=not args.json))
    return 0


def run_consistency(args: argparse.Namespace, ledger: Ledger) -> int:
    """`biv audit consistency M [N]`."""
    proof = ledger.consistency_proof(args.old, args.new)
    print(json_text(document(proof), indent=not args.json))
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
