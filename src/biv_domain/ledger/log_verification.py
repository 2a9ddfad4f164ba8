"""`biv audit verify --checkpoint`: the store still extends a checkpoint kept outside (issue 21).

The checkpoint's signature is checked with the log's verifier key; then the
tree of the store's first SIZE facts is made again from their stored chain
hashes, in one pass, and its root compared with the checkpoint's. A store that
holds fewer facts was shortened; a root that differs means a history forked or
rewritten at or before SIZE, and the first position whose fact differs from the
tree as the log recorded it is named (its type, stream and version).
"""

from __future__ import annotations

from attrs import frozen
from eventsourcing.persistence import Notification

from biv_domain.converter import parse_json
from biv_domain.ledger.application import Ledger
from biv_domain.ledger.merkle import fold, leaf_hash, node_hash
from biv_domain.ledger.note import Checkpoint, Verifier
from biv_domain.ledger.receipts import signed_checkpoint


@frozen
class CheckpointVerification:
    checkpoint: Checkpoint
    holds: bool
    problem: str | None = None


class _Tree:
    """The root of a growing list of leaves, kept as its frontier (O(log n) memory)."""

    def __init__(self) -> None:
        self.stack: list[tuple[int, bytes]] = []
        self.size = 0

    def add(self, data: bytes) -> None:
        level, digest = 0, leaf_hash(data)
        while self.stack and self.stack[-1][0] == level:
            digest = node_hash(self.stack.pop()[1], digest)
            level += 1
        self.stack.append((level, digest))
        self.size += 1

    def root(self) -> bytes:
        return fold([digest for _level, digest in self.stack])


def verify_checkpoint(ledger: Ledger, text: str, key: Verifier) -> CheckpointVerification:
    """Whether the store's first SIZE facts make the signed checkpoint's root (one pass)."""
    checkpoint = signed_checkpoint(text, key)
    tree, named = _Tree(), list[Notification]()
    for row in ledger.rows():
        if tree.size == checkpoint.size:
            break
        chain = parse_json(row.state)["chain"]
        if chain["position"] != tree.size + 1:
            problem = (
                f"position {tree.size + 1} is missing: row {row.id} ({_row(row)}) holds "
                f"position {chain['position']}"
            )
            return CheckpointVerification(checkpoint, False, problem)
        tree.add(bytes.fromhex(chain["hash"]))
        named.append(row)
    if tree.size < checkpoint.size:
        problem = (
            f"the store holds {tree.size} facts, the checkpoint {checkpoint.size}: the history "
            f"was shortened, position {tree.size + 1} is the first that differs"
        )
        return CheckpointVerification(checkpoint, False, problem)
    if tree.root() == checkpoint.root:
        return CheckpointVerification(checkpoint, True)
    return CheckpointVerification(checkpoint, False, _first_difference(ledger, checkpoint, named))


def _row(row: Notification) -> str:
    kind = row.topic.rsplit(":", 1)[-1].rsplit(".", 1)[-1]
    return f"{kind}, stream {row.originator_id} v{row.originator_version}"


def _first_difference(ledger: Ledger, checkpoint: Checkpoint, rows: list[Notification]) -> str:
    """The first position whose fact is not the log's recorded leaf, where the log's own tree
    still makes the checkpoint's root; else that the history up to SIZE was rewritten."""
    size = checkpoint.size
    try:
        recorded = ledger.log_storage.read_stored([(0, i) for i in range(size)])
        intact = len(recorded) == size and ledger.log_root(size) == checkpoint.root
    except Exception:
        intact = False
    if intact:
        for i, row in enumerate(rows):
            data = bytes.fromhex(parse_json(row.state)["chain"]["hash"])
            if recorded[(0, i)] != data:
                return (
                    f"position {i + 1} differs from the checkpoint of {size} facts: "
                    f"{_row(row)} is not the fact the log recorded there (forked or rewritten)"
                )
    return (
        f"the store's first {size} facts do not make the checkpoint's root: the history up "
        f"to position {size} was forked or rewritten"
    )
