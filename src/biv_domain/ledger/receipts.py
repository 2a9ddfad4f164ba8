"""Receipts (kvitton) of imports, and their checks (issue 21).

A receipt gives the partner, for a batch: the checkpoint the log signed after
it, and for each applied line its number, id and its facts' chain positions,
each with an inclusion proof against that checkpoint. It holds hashes only (no
personal data) and stays valid for good: an erasure destroys a participant's
key, never a fact, so no leaf of the tree ever changes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from biv_domain.converter import converter
from biv_domain.errors import InvalidValue
from biv_domain.ledger.application import Ledger, Receipt
from biv_domain.ledger.log import LogRefused
from biv_domain.ledger.merkle import leaf_hash, verify_consistency, verify_inclusion
from biv_domain.ledger.note import Checkpoint, Note, Verifier
from biv_domain.model.log_proofs import (
    ConsistencyProof,
    ImportReceipt,
    InclusionProof,
    ReceiptFact,
    ReceiptLine,
)


def receipt_of(ledger: Ledger, receipt: Receipt) -> ImportReceipt:
    """The receipt of a batch just stored: its checkpoint, its lines' facts and their proofs."""
    size = max((f.position for f in receipt.facts), default=0) or ledger.log_size()
    note = ledger.checkpoint_of(size)
    positions = [p for line in receipt.lines for p in line.positions]
    proofs = dict(zip(positions, ledger.inclusion_proofs(positions, size), strict=True))
    lines = tuple(
        ReceiptLine(
            line.number,
            line.line_id,
            tuple(ReceiptFact(p, proofs[p]) for p in line.positions),
        )
        for line in receipt.lines
    )
    return ImportReceipt(str(note), lines)


def _hashes(field: str, values: Sequence[str]) -> list[bytes]:
    try:
        found = [bytes.fromhex(v) for v in values]
    except ValueError:
        raise InvalidValue(field, "must be SHA-256 hashes in lowercase hex") from None
    if any(len(h) != 32 or v != h.hex() for v, h in zip(values, found, strict=True)):
        raise InvalidValue(field, "must be SHA-256 hashes in lowercase hex")
    return found


def read_receipt(document: Any) -> ImportReceipt:
    """A receipt as JSON holds it, or InvalidValue naming the field that does not fit."""
    try:
        return converter.structure(document, ImportReceipt)
    except Exception:
        raise InvalidValue(
            "receipt", "is not a receipt of `biv import --receipt` (checkpoint, lines)"
        ) from None


def signed_checkpoint(text: str, key: Verifier, field: str = "checkpoint") -> Checkpoint:
    """The checkpoint of a note that the log's key signed, or refused naming `field`."""
    note = Note.parse(text, field)
    note.verify(key, field)
    checkpoint = Checkpoint.from_text(note.text, field)
    if checkpoint.origin != key.name:
        raise InvalidValue(field, f"names the log {checkpoint.origin!r}, not {key.name!r}")
    return checkpoint


def check_inclusion(proof: InclusionProof, checkpoint: Checkpoint, field: str) -> None:
    """Refuses an inclusion proof that does not lead to the checkpoint's root."""
    if proof.tree_size != checkpoint.size:
        raise InvalidValue(
            field, f"is a proof in a tree of {proof.tree_size}, not {checkpoint.size}"
        )
    leaf = _hashes(f"{field}.leaf", [proof.leaf])[0]
    path = _hashes(f"{field}.hashes", proof.hashes)
    if not verify_inclusion(
        proof.leaf_index, proof.tree_size, leaf_hash(leaf), path, checkpoint.root
    ):
        raise InvalidValue(field, "does not lead to the checkpoint's root")


def check_receipt(receipt: ImportReceipt, key: Verifier) -> Checkpoint:
    """Checks a receipt offline: the log's signature, and every proof against its checkpoint."""
    checkpoint = signed_checkpoint(receipt.checkpoint, key)
    for i, line in enumerate(receipt.lines):
        for j, fact in enumerate(line.facts):
            field = f"lines[{i}].facts[{j}].proof"
            if fact.proof.leaf_index != fact.position - 1:
                raise InvalidValue(field, f"is not the proof of position {fact.position}")
            check_inclusion(fact.proof, checkpoint, field)
    return checkpoint


def check_consistency(
    old: Checkpoint, new: Checkpoint, proof: ConsistencyProof, field: str = "log"
) -> None:
    """Refuses unless `proof` shows the tree of `old` a prefix of the tree of `new`."""
    if new.size < old.size:
        raise LogRefused(field, f"shrank: it holds {new.size} facts, {old.size} were seen")
    if (proof.start, proof.end) != (old.size, new.size):
        raise LogRefused(field, f"gave a proof from {proof.start} to {proof.end}")
    path = _hashes(f"{field}.hashes", proof.hashes)
    if not verify_consistency(old.size, new.size, old.root, new.root, path):
        raise LogRefused(
            field,
            f"does not extend the tree of {old.size} facts seen before: "
            "its history was forked or rewritten",
        )
