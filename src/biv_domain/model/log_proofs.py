"""The log's proofs and receipts as documents (issue 21): what a partner or an auditor keeps.

Pure values, hashes in lowercase hex. An inclusion proof shows that the fact at
a chain position is leaf `leaf_index` (= position - 1) of the tree of `tree_size`
leaves (RFC 9162 §2.1.3); a consistency proof shows the tree of `start` leaves a
prefix of the tree of `end` leaves (§2.1.4; in JSON `from` and `to`). A receipt
(kvitto) is what an import gives the partner: the signed checkpoint after the
batch, and for each applied line its facts' positions, each with an inclusion
proof against that checkpoint.
"""

from __future__ import annotations

from attrs import frozen


@frozen
class InclusionProof:
    """`{"tree_size", "leaf_index", "leaf", "hashes"}`: `leaf` is the fact's chain hash."""

    tree_size: int
    leaf_index: int
    leaf: str
    hashes: tuple[str, ...]


@frozen
class ConsistencyProof:
    """`{"from", "to", "hashes"}`: the tree of `start` leaves is a prefix of the one of `end`."""

    start: int
    end: int
    hashes: tuple[str, ...]


@frozen
class ReceiptFact:
    """One fact of an applied line: its chain position and its inclusion proof."""

    position: int
    proof: InclusionProof


@frozen
class ReceiptLine:
    """An applied line of the batch: its number in the file, its id (if given), its facts."""

    line: int
    id: str | None
    facts: tuple[ReceiptFact, ...]


@frozen
class ImportReceipt:
    """A receipt (kvitto) of an import: the checkpoint signed after the batch, and its lines."""

    checkpoint: str
    lines: tuple[ReceiptLine, ...]
