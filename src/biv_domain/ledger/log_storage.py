"""Where a store keeps the log (issue 21): the tree's perfect nodes, its signed checkpoints,
the witnesses' cosignatures and the log's verifier key.

A node `(level, index)` never changes once stored (`biv_domain.ledger.merkle`),
so the tree is only ever added to. Level 0 keeps the leaf's *data* (the fact's
32-byte chain hash), from which its leaf hash is taken on reading: a proof names
the fact's hash without a read of the fact. Levels 1 to 3 are not stored: each
such node is folded from its (at most 8) leaves when read. A batch's nodes (and its signed
checkpoint) are written by the store's recorder in the batch's own transaction
(`LogAppend`), like the participants' keys; a store that cannot does it right
after (`committed`). This module holds the behaviour and the in-memory storage;
SQL stores supply theirs (`biv_adapters.stores.log`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from eventsourcing.application import Application

from biv_domain.ledger.merkle import NodeId, leaf_hash, node_hash

Node = tuple[NodeId, bytes]
DENSE = 4
"""Nodes of level 0 (leaf data) and from this level up are stored; those between are folded
from their leaves when read. (SQL stores keep a batch's leaf data in runs, a row for up to 60
leaves: `biv_adapters.stores.log`; so a batch writes about 0.08 rows a fact, not 2.)"""


def _perfect(hashes: list[bytes]) -> bytes:
    """The root of a perfect subtree from its leaf hashes (a power of two of them)."""
    while len(hashes) > 1:
        hashes = [node_hash(hashes[i], hashes[i + 1]) for i in range(0, len(hashes), 2)]
    return hashes[0]


class LogAppend:
    """A batch's part of the log, written by the store's recorder in the batch's transaction:
    the nodes the batch completes (level 0: leaf data), the checkpoint signed after it
    (if the log's key was given) and the log's verifier key (if the store kept none yet)."""

    def __init__(
        self,
        write: Callable[[Any, LogAppend], None],
        nodes: Sequence[Node],
        size: int,
        checkpoint: str | None = None,
        verifier: str | None = None,
        statement: Callable[[LogAppend], tuple[Any, tuple[Any, ...]] | None] | None = None,
    ) -> None:
        self._write, self._statement = write, statement
        self.nodes, self.size = nodes, size
        self.checkpoint, self.verifier = checkpoint, verifier
        self.written = False

    def __call__(self, cursor: Any) -> None:
        """Called by the recorder with its cursor, after the batch's facts, in its transaction
        (nothing left to do when the recorder sent `statement()` with the facts)."""
        if not self.written:
            self._write(cursor, self)
            self.written = True

    def statement(self) -> tuple[Any, tuple[Any, ...]] | None:
        """The batch's part as SQL the recorder may send in its own statement of the facts
        (PostgreSQL: common table expressions, one round trip fewer a batch), and its
        parameters; None when the store has none. The recorder that sends it marks it
        `written`."""
        return self._statement(self) if self._statement is not None else None


class LogStorage(ABC):
    """The log of one store."""

    def __init__(self, ledger: Application[str]) -> None:
        self.ledger = ledger

    # --- What each store provides -------------------------------------------------------------

    @abstractmethod
    def read_stored(self, nodes: Iterable[NodeId]) -> dict[NodeId, bytes]:
        """The stored nodes asked for, as stored (level 0: leaf data); missing ones left out."""

    @abstractmethod
    def _write(self, cursor: Any, append: LogAppend) -> None:
        """Writes a batch's part (`cursor` is the batch's; None: a transaction of its own)."""

    @abstractmethod
    def add_nodes(self, nodes: Sequence[Node]) -> None:
        """Adds nodes in a transaction of their own, keeping any already stored (a backfill)."""

    @abstractmethod
    def verifier(self) -> str | None:
        """The log's verifier key the store keeps, NAME+KEYID+BASE64, if any."""

    @abstractmethod
    def keep_verifier(self, key: str) -> None:
        """Keeps the log's verifier key, unless the store keeps one already."""

    @abstractmethod
    def checkpoint_at(self, size: int) -> str | None:
        """The signed checkpoint note of this size the store keeps, if any."""

    @abstractmethod
    def keep_checkpoint(self, size: int, note: str) -> None:
        """Keeps a signed checkpoint note, unless one of this size is kept already."""

    @abstractmethod
    def cosignatures_at(self, size: int) -> dict[str, str]:
        """The cosignature lines kept for the checkpoint of this size, by witness key."""

    @abstractmethod
    def keep_cosignature(self, size: int, witness: str, line: str) -> None:
        """Keeps (or replaces) a witness's cosignature line of the checkpoint of this size."""

    # --- Shared behaviour ---------------------------------------------------------------------

    def checkpoint_at_size(self, size: int) -> tuple[str | None, dict[str, str]]:
        """The kept checkpoint of this size and its cosignatures (a store may read both at once)."""
        return self.checkpoint_at(size), self.cosignatures_at(size)

    def read(self, nodes: Iterable[NodeId]) -> dict[NodeId, bytes]:
        """The nodes' hashes (a `merkle.NodeReader`): leaf data read back as leaf hashes."""
        return self.read_with_leaves(nodes, ())[0]

    def read_with_leaves(
        self, nodes: Iterable[NodeId], leaves: Iterable[int]
    ) -> tuple[dict[NodeId, bytes], dict[int, bytes]]:
        """The nodes' hashes and these leaves' data, in one read.

        Levels 1 to DENSE-1 are not stored (half the rows a fact): such a node is
        folded from its 2**level leaves (at most 8), read in the same query."""
        wanted, leaves = set(nodes), list(leaves)
        derived = {n for n in wanted if 0 < n[0] < DENSE}
        reads = (wanted - derived) | {(0, i) for i in leaves}
        for level, index in derived:
            reads.update((0, i) for i in range(index << level, (index + 1) << level))
        found = self.read_stored(reads)
        hashes = {n: leaf_hash(v) if n[0] == 0 else v for n, v in found.items() if n in wanted}
        for level, index in derived:
            span = range(index << level, (index + 1) << level)
            if all((0, i) in found for i in span):
                hashes[(level, index)] = _perfect([leaf_hash(found[(0, i)]) for i in span])
        return hashes, {i: found[(0, i)] for i in leaves if (0, i) in found}

    def append(
        self,
        nodes: Sequence[Node],
        size: int,
        checkpoint: str | None = None,
        verifier: str | None = None,
    ) -> LogAppend:
        """The batch's part, for the recorder to write in the batch's transaction."""
        return LogAppend(self._write, nodes, size, checkpoint, verifier, self._statement)

    def _statement(self, append: LogAppend) -> tuple[Any, tuple[Any, ...]] | None:
        """The batch's part as SQL for the recorder's own statement, if the store has one."""
        return None

    def committed(self, append: LogAppend) -> None:
        """After the batch: a recorder that did not write its part (memory) has it written."""
        if not append.written:
            self._write(None, append)


class MemoryLog(LogStorage):
    """The log of a `memory:` store, which lives as long as the process."""

    def __init__(self, ledger: Application[str]) -> None:
        super().__init__(ledger)
        self._nodes: dict[NodeId, bytes] = {}
        self._verifier: str | None = None
        self._checkpoints: dict[int, str] = {}
        self._cosignatures: dict[int, dict[str, str]] = {}

    def read_stored(self, nodes: Iterable[NodeId]) -> dict[NodeId, bytes]:
        return {node: self._nodes[node] for node in nodes if node in self._nodes}

    def _write(self, cursor: Any, append: LogAppend) -> None:
        self.add_nodes(append.nodes)
        if append.verifier is not None:
            self.keep_verifier(append.verifier)
        if append.checkpoint is not None:
            self.keep_checkpoint(append.size, append.checkpoint)

    def add_nodes(self, nodes: Sequence[Node]) -> None:
        for node, value in nodes:
            self._nodes.setdefault(node, value)

    def verifier(self) -> str | None:
        return self._verifier

    def keep_verifier(self, key: str) -> None:
        self._verifier = self._verifier or key

    def checkpoint_at(self, size: int) -> str | None:
        return self._checkpoints.get(size)

    def keep_checkpoint(self, size: int, note: str) -> None:
        self._checkpoints.setdefault(size, note)

    def cosignatures_at(self, size: int) -> dict[str, str]:
        return dict(self._cosignatures.get(size, {}))

    def keep_cosignature(self, size: int, witness: str, line: str) -> None:
        self._cosignatures.setdefault(size, {})[witness] = line


LogFactory = Callable[[Application[str]], LogStorage]
