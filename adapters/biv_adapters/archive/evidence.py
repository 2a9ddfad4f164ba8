"""What the archive keeps to prove its facts without the store: their stored content, the
chain's hashes, a checkpoint of the log (RFC 9162 tree over every chain hash) and each
archived fact's inclusion proof against it.

The store's rows are read once (`read_chain`); `log_evidence` is the one place that
asks the ledger's log (issue 21: `Ledger.checkpoint()`, `Ledger.inclusion_proofs()`) for
the checkpoint and the proofs. The proof documents are the log's: inclusion
`{"tree_size", "leaf_index", "leaf", "hashes"}`, hashes in lowercase hex.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Iterable, Iterator, Mapping

from attrs import frozen
from eventsourcing.persistence import Notification

from biv_domain.converter import parse_json
from biv_domain.errors import InvalidValue
from biv_domain.ledger import Ledger
from biv_domain.ledger.envelope import read_envelope, stored_content
from biv_domain.ledger.merkle import leaf_hash, verify_inclusion
from biv_domain.ledger.note import Checkpoint, Note, Signer
from biv_domain.ledger.verification import Verification, verify

ORIGIN = "biv-domain"  # the checkpoint's origin when no signer key names the log
LOG_KEY = "BIV_LOG_KEY"


@frozen
class StoredFact:
    """One row of the chain as stored: its place, its hash and the exact bytes hashed."""

    position: int
    hash: str
    previous: str
    content: bytes  # canonical JSON, SHA-256 of it is `hash` (kept for archived facts only)


@frozen
class Chain:
    """Every row of the store's chain, by position (1 to the head's), read once."""

    facts: Mapping[int, StoredFact]

    @property
    def size(self) -> int:
        return len(self.facts)

    def leaves(self) -> list[bytes]:
        """Leaf data of the log: each position's chain hash, 32 raw bytes, in order."""
        return [bytes.fromhex(self.facts[p].hash) for p in range(1, self.size + 1)]


def read_chain(ledger: Ledger, keep: Collection[int]) -> tuple[Chain, Verification]:
    """Walks every stored row once, as `biv audit verify` does (envelopes only): the walk's
    result, every position's hash, and the stored content of the positions in `keep`."""
    facts: dict[int, StoredFact] = {}

    def walked() -> Iterator[Notification]:
        for row in ledger.rows():
            yield row  # verify checks it first, and stops at a row that does not hold
            place = parse_json(row.state)["chain"]  # checked already: its three fields only
            position, previous = int(place["position"]), str(place["previous"])
            body = b""
            if position in keep:
                envelope = read_envelope(row)
                body = stored_content(
                    str(row.originator_id), row.originator_version, row.topic, envelope
                )
            facts[position] = StoredFact(position, str(place["hash"]), previous, body)

    verification = verify(walked())
    return Chain(facts), verification


@frozen
class InclusionProof:
    """A leaf's inclusion proof in the log's document shape (hashes in lowercase hex)."""

    tree_size: int
    leaf_index: int  # the chain position less one
    leaf: str  # the leaf data: the fact's chain hash
    hashes: tuple[str, ...]

    def document(self) -> dict[str, object]:
        return {
            "tree_size": self.tree_size,
            "leaf_index": self.leaf_index,
            "leaf": self.leaf,
            "hashes": list(self.hashes),
        }

    def holds(self, root: bytes) -> bool:
        """Whether the proof leads from its leaf to `root` (RFC 9162 §2.1.3.2)."""
        leaf = leaf_hash(bytes.fromhex(self.leaf))
        path = [bytes.fromhex(h) for h in self.hashes]
        return verify_inclusion(self.leaf_index, self.tree_size, leaf, path, root)


@frozen
class LogEvidence:
    """The log's checkpoint (a signed note when `BIV_LOG_KEY` is set) and inclusion proofs."""

    size: int
    root: bytes
    note: str  # the checkpoint note; unsigned: its text alone
    signed_by: str | None
    proofs: Mapping[int, InclusionProof]  # by chain position


def log_evidence(
    ledger: Ledger, chain: Chain, positions: Iterable[int], signer: Signer | None = None
) -> LogEvidence:
    """The log's checkpoint of the chain as read and the inclusion proof of each position asked,
    from the tree the ledger keeps with the chain (issue 21), in one read of its nodes.

    The tree's size is the chain's as read. The signer is `signer`, else `BIV_LOG_KEY`
    when set (refused in one line naming it when it is no key, or not this store's);
    at the store's current size the checkpoint is the ledger's own, with the witnesses'
    cosignatures it keeps; without a key the checkpoint is its text alone, unsigned.
    Each proof's leaf must be the chain hash read: a tree that disagrees with the chain
    is refused, not archived.
    """
    size = chain.size
    root = ledger.log_root(size)
    key = signer or _signer_from_env()
    if key is not None and size == ledger.log_size():
        note = str(ledger.checkpoint(key))
    elif key is not None:
        note = str(Note(Checkpoint(key.name, size, root).text, ()).signed_by(key))
    else:
        note = Checkpoint(ORIGIN, size, root).text
    asked = sorted(set(positions))
    proofs: dict[int, InclusionProof] = {}
    for position, proof in zip(asked, ledger.inclusion_proofs(asked, size), strict=True):
        if proof.leaf != chain.facts[position].hash:
            raise InvalidValue(
                "store",
                f"the log's leaf at position {position} is not the chain's hash there: "
                "run `biv audit verify`",
            )
        proofs[position] = InclusionProof(size, proof.leaf_index, proof.leaf, proof.hashes)
    return LogEvidence(size, root, note, key.name if key else None, proofs)


def _signer_from_env() -> Signer | None:
    text = os.environ.get(LOG_KEY)
    return Signer.parse(text, LOG_KEY) if text else None
