"""The Merkle tree over the chain, exactly as RFC 9162 §2.1 defines it: hashes, proofs, checks.

Pure: no store is read here. A tree is kept as its *perfect nodes*: the node at
`(level, index)` is the hash of the 2**level leaves from `index * 2**level` on,
stored once all of them exist and never changed after (the tree only grows). Any
subtree of any earlier tree, and so every proof at every size, is a fold of a
few such nodes (`decompose`), so a store answers a proof with one read of at
most about 2·log2(size) nodes.

Leaf i (0-based) of the biv ledger's tree is the fact at chain position i+1;
its leaf data is the 32 raw bytes of that fact's chain hash. Seals and the
ledger's bookkeeping are leaves like any other fact.

Names follow the RFC: MTH is `root`, PATH is `inclusion_ranges`, PROOF is
`consistency_ranges`; the checks are §2.1.3.2 and §2.1.4.2 step by step.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence

NodeId = tuple[int, int]
"""A perfect node: (level, index); it covers leaves [index·2**level, (index+1)·2**level)."""

Range = tuple[int, int]
"""Leaves [begin, end) of a subtree of the RFC's tree."""

NodeReader = Callable[[Iterable[NodeId]], Mapping[NodeId, bytes]]
"""Reads the stored perfect nodes asked for (all of them must exist)."""

EMPTY_ROOT = hashlib.sha256(b"").digest()
"""MTH({}) = SHA-256() : the root of the empty tree (RFC 9162 §2.1.1)."""


def leaf_hash(data: bytes) -> bytes:
    """MTH({d}) = SHA-256(0x00 || d)."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """An interior node: SHA-256(0x01 || left || right)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """k, the largest power of two smaller than n (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def root(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH(D[n]) of the leaves' hashes, by the RFC's recursion (for small trees and tests)."""
    n = len(leaf_hashes)
    if n == 0:
        return EMPTY_ROOT
    if n == 1:
        return leaf_hashes[0]
    k = _split(n)
    return node_hash(root(leaf_hashes[:k]), root(leaf_hashes[k:]))


# --- The tree as perfect nodes ----------------------------------------------------------------


def decompose(begin: int, end: int) -> list[NodeId]:
    """The perfect nodes that make up the subtree [begin, end), left to right.

    The subtree must be one of the RFC's (as every range a proof names is): its
    begin is a multiple of a power of two at least its size. Then MTH(D[begin:end])
    is the fold of these nodes from the right (`fold`).
    """
    nodes: list[NodeId] = []
    while begin < end:
        level = (end - begin).bit_length() - 1
        nodes.append((level, begin >> level))
        begin += 1 << level
    return nodes


def fold(hashes: Sequence[bytes]) -> bytes:
    """The root of a subtree from its perfect nodes' hashes, left to right (see `decompose`)."""
    if not hashes:
        return EMPTY_ROOT
    acc = hashes[-1]
    for left in reversed(hashes[:-1]):
        acc = node_hash(left, acc)
    return acc


def frontier(size: int) -> list[NodeId]:
    """The perfect nodes of the tree of `size` leaves: what a new leaf may complete; its root."""
    return decompose(0, size)


def appended(
    size: int, frontier_hashes: Sequence[bytes], new_leaf_hashes: Iterable[bytes]
) -> list[tuple[NodeId, bytes]]:
    """The perfect nodes that appending leaves to a tree of `size` leaves completes.

    `frontier_hashes` are the hashes of `frontier(size)`, left to right. Every
    returned node is new (nothing stored changes); the leaves themselves are
    nodes of level 0.
    """
    stack = list(zip(frontier(size), frontier_hashes, strict=True))
    added: list[tuple[NodeId, bytes]] = []
    for digest in new_leaf_hashes:
        node: NodeId = (0, size)
        added.append((node, digest))
        # Merge while the new node completes a pair with the node to its left.
        while stack and stack[-1][0][0] == node[0]:
            (level, left_index), left_hash = stack.pop()
            digest = node_hash(left_hash, digest)
            node = (level + 1, left_index >> 1)
            added.append((node, digest))
        stack.append((node, digest))
        size += 1
    return added


def tree_root(size: int, read: NodeReader) -> bytes:
    """MTH of the first `size` leaves, from stored perfect nodes."""
    nodes = frontier(size)
    found = read(nodes)
    return fold([found[node] for node in nodes])


# --- Proofs: which subtrees they name (RFC 9162 §2.1.3.1, §2.1.4.1) ---------------------------


def inclusion_ranges(index: int, size: int) -> list[Range]:
    """PATH(m, D[n]): the subtrees whose roots prove leaf `index` in the tree of `size`,
    in the RFC's order (nearest the leaf first)."""
    if not 0 <= index < size:
        raise ValueError(f"leaf index {index} is outside a tree of {size} leaves")
    path: list[Range] = []
    begin, end = 0, size
    while end - begin > 1:
        k = _split(end - begin)
        if index < begin + k:
            path.append((begin + k, end))
            end = begin + k
        else:
            path.append((begin, begin + k))
            begin += k
    path.reverse()
    return path


def consistency_ranges(old_size: int, new_size: int) -> list[Range]:
    """PROOF(m, D[n]): the subtrees whose roots prove the tree of `old_size` a prefix of the
    tree of `new_size`, in the RFC's order. Empty when m = n or m = 0."""
    if not 0 <= old_size <= new_size:
        raise ValueError(f"no consistency proof from size {old_size} to size {new_size}")
    if old_size in (0, new_size):
        return []
    proof: list[Range] = []
    begin, end, m, whole = 0, new_size, old_size, True
    # SUBPROOF(m, D[begin:end], whole), unrolled: the RFC appends after recursing, so the
    # ranges are collected outermost first and reversed at the end.
    while True:
        n = end - begin
        if m == n:
            if not whole:
                proof.append((begin, end))
            break
        k = _split(n)
        if m <= k:
            proof.append((begin + k, end))
            end = begin + k
        else:
            proof.append((begin, begin + k))
            begin += k
            m -= k
            whole = False
    proof.reverse()
    return proof


def proof_hashes(ranges: Sequence[Range], read: NodeReader) -> list[bytes]:
    """The roots of the proof's subtrees, from stored perfect nodes, in one read."""
    parts = [decompose(begin, end) for begin, end in ranges]
    found = read({node for nodes in parts for node in nodes})
    return [fold([found[node] for node in nodes]) for nodes in parts]


def inclusion_proof(index: int, size: int, read: NodeReader) -> list[bytes]:
    """The audit path of leaf `index` in the tree of `size` (RFC 9162 §2.1.3.1)."""
    return proof_hashes(inclusion_ranges(index, size), read)


def consistency_proof(old_size: int, new_size: int, read: NodeReader) -> list[bytes]:
    """The consistency proof from the tree of `old_size` to that of `new_size` (§2.1.4.1)."""
    return proof_hashes(consistency_ranges(old_size, new_size), read)


# --- Checking proofs (RFC 9162 §2.1.3.2, §2.1.4.2) --------------------------------------------


def _hashes(*values: bytes) -> bool:
    """Whether every value is a SHA-256 hash in size (a proof of other bytes is refused)."""
    return all(len(value) == hashlib.sha256().digest_size for value in values)


def root_from_inclusion(index: int, size: int, leaf: bytes, proof: Sequence[bytes]) -> bytes | None:
    """The root a leaf's inclusion proof leads to, or None when the proof cannot be one
    (§2.1.3.2, steps 1 to 5; step 6, comparing the root, is the caller's)."""
    if not 0 <= index < size or not _hashes(leaf, *proof):
        return None
    fn, sn = index, size - 1
    r = leaf
    for p in proof:
        if sn == 0:
            return None
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return r if sn == 0 else None


def verify_inclusion(
    index: int, size: int, leaf: bytes, proof: Sequence[bytes], expected_root: bytes
) -> bool:
    """Whether `proof` shows the leaf hash `leaf` at `index` in the tree of `size` whose root is
    `expected_root`."""
    return root_from_inclusion(index, size, leaf, proof) == expected_root


def verify_consistency(
    old_size: int,
    new_size: int,
    old_root: bytes,
    new_root: bytes,
    proof: Sequence[bytes],
) -> bool:
    """Whether `proof` shows the tree of `old_size` (root `old_root`) a prefix of the tree of
    `new_size` (root `new_root`), by §2.1.4.2.

    As in transparency-dev/merkle, a proof from the empty tree is refused: it says
    nothing (a witness that has seen nothing trusts its first checkpoint as given).
    """
    if not 0 < old_size <= new_size:
        return False
    if old_size == new_size:
        return not proof and old_root == new_root
    if not proof or not _hashes(old_root, new_root, *proof):
        return False
    path = list(proof)
    # Step 1: if the old tree is a perfect, left-most subtree, its root starts the path.
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    # Step 3: shift both right while fn's lowest bit is set.
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == old_root and sr == new_root and sn == 0
