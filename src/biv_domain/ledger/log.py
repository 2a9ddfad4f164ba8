"""The log over the chain (issue 21): its tree's size and root, proofs, signed checkpoints.

Leaf i (0-based) of the tree is the fact at chain position i+1; its leaf data
is the 32 raw bytes of that fact's stored chain hash (RFC 9162 §2.1, see
`merkle`). The tree's size is the chain head's position. The nodes are written
with each batch, in its transaction (`Ledger._store`, `log_storage.LogAppend`);
a store written before the log gets its tree once, from its facts' stored
hashes, the first time it is asked (no fact changes, so every digest kept stays
valid). A checkpoint is a C2SP signed note (`note`): the log's signer key is
given in `BIV_LOG_KEY`, the store keeps only its verifier key.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from attrs import frozen

from biv_domain.converter import parse_json
from biv_domain.errors import Refused
from biv_domain.ledger.log_storage import DENSE, LogAppend, LogStorage, MemoryLog, Node
from biv_domain.ledger.merkle import (
    consistency_ranges,
    decompose,
    fold,
    frontier,
    inclusion_ranges,
    tree_root,
)
from biv_domain.ledger.reading import LedgerReads
from biv_domain.ledger.store import MEMORY, Store
from biv_domain.model.fact import Fact

if TYPE_CHECKING:
    # cryptography loads when the log's key is first used; the signed notes and the proofs
    # when the log is signed or asked (a query, which opens a ledger and its log, needs none)
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from biv_domain.ledger.note import Cosignature, Note, Signature, Signer, Verifier
    from biv_domain.model.log_proofs import ConsistencyProof, InclusionProof

BACKFILL_PAGE = 10_000


Span = tuple[int, str | None, int, int]
"""An applied line of a batch being decided: its number, id and the range of its pending facts."""


@frozen
class AppliedLine:
    """An applied line of a batch: its number, its id and its facts' chain positions."""

    number: int
    line_id: str | None
    positions: tuple[int, ...]


def applied_lines(spans: Sequence[Span], facts: Sequence[Fact]) -> tuple[AppliedLine, ...]:
    """Each applied line's facts: a batch's pending facts are stored in order, first."""
    return tuple(
        AppliedLine(number, line_id, tuple(f.position for f in facts[start:end]))
        for number, line_id, start, end in spans
    )


class LogRefused(Refused):
    """A question of the log that cannot be answered (a size beyond the tree, no key), or a
    log that does not hold together; names the parameter or the store."""


def log_key(text: str | None) -> Signer | None:
    """The log's signer key as `biv audit keygen` prints it (`BIV_LOG_KEY`), or None."""
    if text is None or not text.strip():
        return None
    from biv_domain.ledger.note import Signer

    return Signer.parse(text, "BIV_LOG_KEY")


class LogReads(LedgerReads):
    """The ledger's questions of its log; the write side (`Ledger`) keeps it with each batch."""

    def __init__(self, store: Store = MEMORY, *, log_key: Signer | None = None, **kwargs: Any):
        super().__init__(store, **kwargs)
        self.log_key = log_key
        factory = store.log or MemoryLog
        self.log_storage: LogStorage = factory(self.app)
        # The frontier's hashes at a size, as the chain head is kept: a batch reads them
        # only when another process stored since (perfect nodes never change).
        self._frontier: tuple[int, list[bytes]] = (0, [])
        self._next_frontier: tuple[int, list[bytes]] | None = None
        self._kept_verifier: str | None = None
        self._signing: tuple[Signer, bytes, Ed25519PrivateKey] | None = None
        self._checked: tuple[Signer, str] | None = None  # a signer found to be the store's

    # --- The tree -------------------------------------------------------------------------------

    def log_size(self) -> int:
        """The tree's size: the chain head's position (its tree made first, if it has none)."""
        size = self.chain_head().position
        self._frontier_hashes(size)
        return size

    def _size(self, size: int | None, name: str = "size") -> int:
        if size is not None and 0 < size <= self._frontier[0]:
            return size  # within a tree this process saw stored (it only grows): no read
        current = self.log_size()
        if size is None:
            return current
        if not 0 < size <= current:
            raise LogRefused(name, f"must be from 1 to the tree's size {current}, got {size}")
        return size

    def log_root(self, size: int | None = None) -> bytes:
        """MTH of the first `size` leaves (default: the whole tree)."""
        return tree_root(self._size(size), self.log_storage.read)

    def inclusion_proof(self, position: int, size: int | None = None) -> InclusionProof:
        """RFC 9162 §2.1.3's proof that the fact at `position` is in the tree of `size`."""
        return self.inclusion_proofs([position], size)[0]

    def inclusion_proofs(
        self, positions: Sequence[int], size: int | None = None
    ) -> list[InclusionProof]:
        """The proofs of several positions in the tree of `size`, in one read of the nodes."""
        from biv_domain.model.log_proofs import InclusionProof

        tree = self._size(size)
        for position in positions:
            if not 0 < position <= tree:
                raise LogRefused(
                    "position", f"must be from 1 to the tree's size {tree}, got {position}"
                )
        paths = [inclusion_ranges(p - 1, tree) for p in positions]
        parts = {r: decompose(*r) for path in paths for r in path}
        wanted = {n for nodes in parts.values() for n in nodes}
        found, data = self.log_storage.read_with_leaves(wanted, [p - 1 for p in positions])
        return [
            InclusionProof(
                tree,
                p - 1,
                data[p - 1].hex(),
                tuple(fold([found[n] for n in parts[r]]).hex() for r in path),
            )
            for p, path in zip(positions, paths, strict=True)
        ]

    def consistency_proof(self, old: int, new: int | None = None) -> ConsistencyProof:
        """RFC 9162 §2.1.4's proof that the tree of `old` is a prefix of the tree of `new`."""
        from biv_domain.model.log_proofs import ConsistencyProof

        to = self._size(new, "to")
        if not 0 < old <= to:
            raise LogRefused("from", f"must be from 1 to {to} (the proof's 'to'), got {old}")
        ranges = consistency_ranges(old, to)
        parts = [decompose(*r) for r in ranges]
        found = self.log_storage.read({n for nodes in parts for n in nodes})
        hashes = tuple(fold([found[n] for n in nodes]).hex() for nodes in parts)
        return ConsistencyProof(old, to, hashes)

    def leaf_data(self, position: int) -> bytes:
        """The leaf data of the fact at `position`: its chain hash, as the log holds it."""
        self._size(position, "position")
        return self.log_storage.read_with_leaves((), [position - 1])[1][position - 1]

    def _frontier_hashes(self, size: int) -> list[bytes]:
        if self._frontier[0] == size:
            return self._frontier[1]
        nodes = frontier(size)
        found = self.log_storage.read(nodes)
        if len(found) < len(nodes):
            self._backfill(size)
            found = self.log_storage.read(nodes)
            if len(found) < len(nodes):
                raise LogRefused("store", f"the log's tree does not reach the chain's head {size}")
        hashes = [found[node] for node in nodes]
        self._frontier = (size, hashes)
        return hashes

    def _backfill(self, size: int) -> None:
        """The tree of a store written before the log, from its facts' stored hashes (read
        from their envelopes): a page of nodes at a time, each kept if already there."""
        done, hashes, page = 0, list[bytes](), list[bytes]()
        for row in self.rows(BACKFILL_PAGE):
            chain = parse_json(row.state)["chain"]
            if chain["position"] != done + len(page) + 1:
                raise LogRefused(
                    "store",
                    f"the chain's position {done + len(page) + 1} is missing or out of order "
                    f"(row {row.id} holds {chain['position']}): `biv audit verify` says where",
                )
            page.append(bytes.fromhex(chain["hash"]))
            if len(page) == BACKFILL_PAGE:
                done, hashes = self._add_leaves(done, hashes, page)
                page = []
        if page:
            self._add_leaves(done, hashes, page)

    def _add_leaves(
        self, size: int, hashes: list[bytes], data: list[bytes]
    ) -> tuple[int, list[bytes]]:
        nodes, after = self._nodes(size, hashes, data)
        self.log_storage.add_nodes(nodes)
        return size + len(data), after

    @staticmethod
    def _nodes(
        size: int, hashes: list[bytes], data: Sequence[bytes]
    ) -> tuple[list[Node], list[bytes]]:
        """The nodes that leaves with this data complete (level 0 holding the data), and the
        frontier's hashes after them."""
        # `merkle.appended`, unrolled (a batch's hot path): the stack is the frontier, each new
        # leaf merged with the perfect nodes to its left of its own level.
        stack = list(zip(frontier(size), hashes, strict=True))
        stored: list[Node] = []
        sha256 = hashlib.sha256
        for index, leaf in enumerate(data, start=size):
            stored.append(((0, index), leaf))
            digest, level, at = sha256(b"\x00" + leaf).digest(), 0, index
            while stack and stack[-1][0][0] == level:
                digest = sha256(b"\x01" + stack.pop()[1] + digest).digest()
                level, at = level + 1, at >> 1
                if level >= DENSE:
                    stored.append(((level, at), digest))
            stack.append(((level, at), digest))
        return stored, [digest for _node, digest in stack]

    def _log_part(self, placed: Sequence[Fact], size: int) -> LogAppend:
        """A batch's part of the log: its nodes and, with the log's key, its checkpoint."""
        if [f.position for f in placed] != list(range(size + 1, size + 1 + len(placed))):
            raise ValueError("a batch's facts must follow the chain's head, in order")
        nodes, after = self._nodes(
            size, self._frontier_hashes(size), [bytes.fromhex(f.hash) for f in placed]
        )
        new_size = size + len(placed)
        self._next_frontier = (new_size, after)
        if self.log_key is None:
            return self.log_storage.append(nodes, new_size)
        from biv_domain.ledger.note import Checkpoint

        verifier = self._check_key(self.log_key)
        text = Checkpoint(self.log_key.name, new_size, fold(after)).text
        return self.log_storage.append(nodes, new_size, str(self._signed(text)), verifier)

    def _signed(self, text: str) -> Note:
        """The note signed with the log's key, its private key made once (not once a batch)."""
        from biv_domain.ledger.note import Note, Signature

        assert self.log_key is not None
        if self._signing is None or self._signing[0] is not self.log_key:
            from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

            key = Ed25519PrivateKey.from_private_bytes(self.log_key.seed)
            self._signing = (self.log_key, self.log_key.verifier.id, key)
        _signer, key_id, private = self._signing
        signature = Signature(self.log_key.name, key_id + private.sign(text.encode()))
        return Note(text, (signature,))

    @contextmanager
    def appending(self, placed: Sequence[Fact], size: int) -> Iterator[LogAppend]:
        """A batch's part of the log, for its recorder; once the batch is stored, kept."""
        part = self._log_part(placed, size)
        yield part
        self._logged(part)

    def _logged(self, part: LogAppend) -> None:
        """The batch is stored: its part of the log too, and its frontier is known."""
        self.log_storage.committed(part)
        if self._next_frontier is not None and self._next_frontier[0] == part.size:
            self._frontier = self._next_frontier
        if part.verifier is not None:
            self._kept_verifier = part.verifier

    # --- Checkpoints ------------------------------------------------------------------------------

    def log_verifier(self) -> Verifier | None:
        """The log's verifier key the store keeps (from the first checkpoint it signed)."""
        from biv_domain.ledger.note import Verifier

        kept = self._kept_verifier or self.log_storage.verifier()
        self._kept_verifier = kept
        return Verifier.parse(kept, "store") if kept else None

    def _check_key(self, signer: Signer) -> str | None:
        """The signer's verifier key to keep when the store keeps none; refused when the store
        keeps another's."""
        checked = self._checked
        if checked is not None and checked[0] is signer and checked[1] == self._kept_verifier:
            return None  # this signer was checked against the key the store keeps
        kept = self.log_verifier()
        mine = str(signer.verifier)
        if kept is None:
            return mine
        self._checked = (signer, mine)
        if str(kept) != mine:
            self._checked = None
            raise LogRefused(
                "BIV_LOG_KEY", f"is not this store's log key: the store's verifier key is {kept}"
            )
        return None

    def checkpoint(self, signer: Signer | None = None) -> Note:
        """The signed checkpoint of the current size, with the witnesses' cosignatures kept.

        Signed with `signer` (default: the ledger's `log_key`); without one, the
        checkpoint the store kept when it signed the last batch, if it is of this size.
        """
        from biv_domain.ledger.note import Checkpoint, Note

        size = self.log_size()
        signer = signer or self.log_key
        kept, cosigned = self.log_storage.checkpoint_at_size(size) if size else (None, {})
        if signer is not None:
            verifier = self._check_key(signer)  # refused unless the store's key
            if verifier is not None:
                self.log_storage.keep_verifier(verifier)
                self._kept_verifier = verifier
        if kept is not None:
            note = Note.parse(kept, "store")  # signed when its batch was stored
        elif signer is not None:
            text = Checkpoint(signer.name, size, tree_root(size, self.log_storage.read)).text
            note = (
                self._signed(text) if signer is self.log_key else Note(text, ()).signed_by(signer)
            )
            if size:
                self.log_storage.keep_checkpoint(size, str(note))
        else:
            raise LogRefused(
                "BIV_LOG_KEY",
                f"no checkpoint of the tree's size {size} is kept: set BIV_LOG_KEY to the "
                "log's signer key (`biv audit keygen NAME` makes one) to sign it",
            )
        lines = [_signature(line) for _key, line in sorted(cosigned.items())]
        return Note(note.text, (*note.signatures, *lines))

    def require_log_key(self) -> Signer:
        """The log's signer key, checked to be the store's; refused naming BIV_LOG_KEY."""
        if self.log_key is None:
            raise LogRefused(
                "BIV_LOG_KEY",
                "a receipt holds a checkpoint the log signs: set BIV_LOG_KEY to the log's "
                "signer key (`biv audit keygen NAME` makes one)",
            )
        self._check_key(self.log_key)
        return self.log_key

    def checkpoint_of(self, size: int) -> Note:
        """The signed checkpoint of an earlier size: the one kept, else signed with the log's
        key (a receipt's, when another batch came since)."""
        from biv_domain.ledger.note import Checkpoint, Note

        kept = self.log_storage.checkpoint_at(size)
        if kept is not None:
            return Note.parse(kept, "store")
        if self.log_key is None or size == self.log_size():
            return self.checkpoint()
        self._check_key(self.log_key)
        text = Checkpoint(self.log_key.name, size, self.log_root(size)).text
        return Note(text, ()).signed_by(self.log_key)

    def cosigners(self) -> list[tuple[Verifier, Cosignature]]:
        """Who co-signed the current checkpoint and when (their cosignatures verified)."""
        from biv_domain.ledger.note import Note, Verifier, cosignatures

        size = self.log_size()
        kept = self.log_storage.checkpoint_at(size) if size else None
        if kept is None:
            return []
        note = Note.parse(kept, "store")
        found: list[tuple[Verifier, Cosignature]] = []
        for key, line in sorted(self.log_storage.cosignatures_at(size).items()):
            witness = Verifier.parse(key, "store")
            cosigned = Note(note.text, (_signature(line),))
            found.extend((witness, c) for c in cosignatures(cosigned, [witness]))
        return found

    def add_cosignature(self, cosigned: str, witness_key: str) -> Cosignature:
        """Keeps a witness's cosignature of a checkpoint of this log (`POST /log/cosignatures`).

        The note must carry the log's signature and the witness's cosignature, both
        verifying, and be a checkpoint of this log (its root the tree's at its size).
        """
        from biv_domain.ledger.note import Checkpoint, Note, NoteRefused, Verifier, cosignatures

        note = Note.parse(cosigned, "note")
        checkpoint = Checkpoint.from_text(note.text, "note")
        verifier = self.log_verifier()
        if verifier is None:
            raise LogRefused("note", "this store has signed no checkpoint yet: nothing to co-sign")
        note.verify(verifier, "note")
        size = self.log_size()
        if not 0 < checkpoint.size <= size or checkpoint.root != self.log_root(checkpoint.size):
            raise LogRefused("note", f"is not a checkpoint of this log (its size is {size})")
        witness = Verifier.parse(witness_key, "key")
        found = cosignatures(note, [witness])
        if not found:
            raise NoteRefused("note", f"carries no cosignature of the witness {witness.name}")
        line = next(s for s in note.signatures if s.name == witness.name and s.id == witness.id)
        ours = Note(note.text, tuple(s for s in note.signatures if s.id == verifier.id))
        if self.log_storage.checkpoint_at(checkpoint.size) is None:
            self.log_storage.keep_checkpoint(checkpoint.size, str(ours))
        self.log_storage.keep_cosignature(checkpoint.size, str(witness), str(line).rstrip("\n"))
        return found[0]


def _signature(line: str) -> Signature:
    """A signature line as kept (without its newline), read back."""
    from biv_domain.ledger.note import Note

    return Note.parse(f"x\n\n{line}\n", "store").signatures[0]
