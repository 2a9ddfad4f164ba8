"""The Merkle tree of RFC 9162 §2.1 (`biv_domain.ledger.merkle`), checked three ways:

- against transparency-dev/merkle's proof vectors (tests/vectors/rfc9162), happy and modified;
- against the RFC's own recursive definitions, for every size up to a few hundred;
- by properties: for any sizes M ≤ N, every proof made from the perfect nodes verifies,
  and any change to it (a flipped bit, a hash added or dropped, another size or leaf) does not.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from biv_domain.ledger import merkle
from biv_domain.ledger.merkle import NodeId

VECTORS = Path(__file__).parents[1] / "vectors" / "rfc9162"


def _cases(kind: str) -> list[Path]:
    return sorted((VECTORS / kind).rglob("*.json"))


def _b64(value: str | None) -> bytes:
    return base64.b64decode(value) if value else b""


def _id(path: Path) -> str:
    return str(path.relative_to(VECTORS))


class Tree:
    """A tree kept as its perfect nodes, grown in batches as the ledger grows it."""

    def __init__(self) -> None:
        self.size = 0
        self.nodes: dict[NodeId, bytes] = {}

    def append(self, leaves: Iterable[bytes]) -> None:
        leaves = list(leaves)
        frontier = [self.nodes[node] for node in merkle.frontier(self.size)]
        for node, digest in merkle.appended(self.size, frontier, leaves):
            assert node not in self.nodes, "a perfect node, once stored, never changes"
            self.nodes[node] = digest
        self.size += len(leaves)

    def read(self, wanted: Iterable[NodeId]) -> Mapping[NodeId, bytes]:
        return {node: self.nodes[node] for node in wanted}


def _leaves(count: int, salt: bytes = b"") -> list[bytes]:
    return [
        merkle.leaf_hash(hashlib.sha256(salt + i.to_bytes(8, "big")).digest()) for i in range(count)
    ]


def _grown(leaves: list[bytes], batch: int = 3) -> Tree:
    tree = Tree()
    for start in range(0, len(leaves), batch):
        tree.append(leaves[start : start + batch])
    return tree


# --- transparency-dev/merkle's vectors --------------------------------------------------------


@pytest.mark.parametrize("path", _cases("inclusion"), ids=_id)
def test_inclusion_vector(path: Path) -> None:
    case: dict[str, Any] = json.loads(path.read_text())
    verified = merkle.verify_inclusion(
        case["leafIdx"],
        case["treeSize"],
        _b64(case["leafHash"]),
        [_b64(p) for p in case["proof"] or []],
        _b64(case["root"]),
    )
    assert verified is not case["wantErr"], case["desc"]


@pytest.mark.parametrize("path", _cases("consistency"), ids=_id)
def test_consistency_vector(path: Path) -> None:
    case: dict[str, Any] = json.loads(path.read_text())
    verified = merkle.verify_consistency(
        case["size1"],
        case["size2"],
        _b64(case["root1"]),
        _b64(case["root2"]),
        [_b64(p) for p in case["proof"] or []],
    )
    assert verified is not case["wantErr"], case["desc"]


def test_the_vectors_are_all_there() -> None:
    """Given the copied vectors, then both kinds hold happy paths and modified proofs."""
    inclusion, consistency = _cases("inclusion"), _cases("consistency")
    assert len(inclusion) > 80
    assert len(consistency) > 80
    wants = {json.loads(p.read_text())["wantErr"] for p in inclusion + consistency}
    assert wants == {True, False}


def test_our_proofs_match_the_vectors_happy_paths() -> None:
    """The vectors' happy paths use the RFC's 8 example leaves: our proofs are theirs, byte for
    byte."""
    leaves = [
        merkle.leaf_hash(bytes.fromhex(data))
        for data in (
            "",
            "00",
            "10",
            "2021",
            "3031",
            "40414243",
            "5051525354555657",
            "606162636465666768696a6b6c6d6e6f",
        )
    ]
    tree = _grown(leaves)
    for path in _cases("inclusion"):
        case = json.loads(path.read_text())
        if case["desc"] != "happy path" or case["treeSize"] > len(leaves):
            continue
        assert _b64(case["root"]) == merkle.tree_root(case["treeSize"], tree.read)
        proof = merkle.inclusion_proof(case["leafIdx"], case["treeSize"], tree.read)
        assert proof == [_b64(p) for p in case["proof"] or []]
    for path in _cases("consistency"):
        case = json.loads(path.read_text())
        if case["desc"] != "happy path" or case["size2"] > len(leaves):
            continue
        proof = merkle.consistency_proof(case["size1"], case["size2"], tree.read)
        assert proof == [_b64(p) for p in case["proof"] or []]


# --- the RFC's definitions --------------------------------------------------------------------


def _rfc_path(m: int, leaves: list[bytes]) -> list[bytes]:
    """PATH(m, D[n]) as RFC 9162 §2.1.3.1 writes it, recursively."""
    n = len(leaves)
    if n == 1:
        return []
    k = 1 << ((n - 1).bit_length() - 1)
    if m < k:
        return [*_rfc_path(m, leaves[:k]), merkle.root(leaves[k:])]
    return [*_rfc_path(m - k, leaves[k:]), merkle.root(leaves[:k])]


def _rfc_subproof(m: int, leaves: list[bytes], whole: bool) -> list[bytes]:
    """SUBPROOF(m, D[n], b) as RFC 9162 §2.1.4.1 writes it, recursively."""
    n = len(leaves)
    if m == n:
        return [] if whole else [merkle.root(leaves)]
    k = 1 << ((n - 1).bit_length() - 1)
    if m <= k:
        return [*_rfc_subproof(m, leaves[:k], whole), merkle.root(leaves[k:])]
    return [*_rfc_subproof(m - k, leaves[k:], False), merkle.root(leaves[:k])]


def test_roots_and_proofs_from_perfect_nodes_are_the_rfcs_for_every_size_up_to_130() -> None:
    """Given a tree grown in batches of 7, when any earlier size is asked for, then its root,
    every inclusion proof and every consistency proof are the RFC's, and they verify."""
    leaves = _leaves(130)
    tree = _grown(leaves, batch=7)
    for size in range(1, len(leaves) + 1):
        root = merkle.tree_root(size, tree.read)
        assert root == merkle.root(leaves[:size])
        for index in range(0, size, max(1, size // 9)):
            proof = merkle.inclusion_proof(index, size, tree.read)
            assert proof == _rfc_path(index, leaves[:size])
            assert merkle.verify_inclusion(index, size, leaves[index], proof, root)
        for old in range(1, size + 1, max(1, size // 9)):
            proof = merkle.consistency_proof(old, size, tree.read)
            assert proof == (_rfc_subproof(old, leaves[:size], True) if old < size else [])
            old_root = merkle.root(leaves[:old])
            assert merkle.verify_consistency(old, size, old_root, root, proof)


def test_the_empty_tree() -> None:
    """MTH({}) is SHA-256 of nothing; no leaf is in it; a proof from it says nothing."""
    assert merkle.tree_root(0, Tree().read) == hashlib.sha256(b"").digest()
    with pytest.raises(ValueError, match="outside"):
        merkle.inclusion_ranges(0, 0)
    assert not merkle.verify_consistency(0, 3, merkle.EMPTY_ROOT, merkle.root(_leaves(3)), [])


# --- properties -------------------------------------------------------------------------------


sizes = st.integers(min_value=1, max_value=300).flatmap(
    lambda n: st.tuples(st.integers(min_value=1, max_value=n), st.just(n))
)


def _mutations(proof: list[bytes]) -> Iterable[list[bytes]]:
    """Every way the issue names to spoil a proof: a flipped bit, a hash added or dropped."""
    for i, digest in enumerate(proof):
        flipped = bytes([digest[0] ^ 1]) + digest[1:]
        yield [*proof[:i], flipped, *proof[i + 1 :]]
        yield proof[:i] + proof[i + 1 :]
    yield [*proof, hashlib.sha256(b"extra").digest()]
    yield [hashlib.sha256(b"extra").digest(), *proof]


@given(sizes, st.integers(min_value=1, max_value=9), st.binary(max_size=4))
def test_every_inclusion_proof_verifies_and_no_spoiled_one_does(
    m_n: tuple[int, int], batch: int, salt: bytes
) -> None:
    index_plus_one, size = m_n
    index = index_plus_one - 1
    leaves = _leaves(size, salt)
    tree = _grown(leaves, batch)
    root = merkle.tree_root(size, tree.read)
    proof = merkle.inclusion_proof(index, size, tree.read)
    assert merkle.verify_inclusion(index, size, leaves[index], proof, root)
    for spoiled in _mutations(proof):
        assert not merkle.verify_inclusion(index, size, leaves[index], spoiled, root)
    # The wrong size (one whose path is longer: some sizes share a leaf's path shape, and
    # there only the root tells them apart), the proof of another leaf, the wrong root.
    assert not merkle.verify_inclusion(index, size * 2, leaves[index], proof, root)
    if size > 1:
        other = (index + 1) % size
        assert not merkle.verify_inclusion(other, size, leaves[other], proof, root)
        assert not merkle.verify_inclusion(index, size, leaves[other], proof, root)
    assert not merkle.verify_inclusion(index, size, leaves[index], proof, merkle.leaf_hash(root))


@given(sizes, st.integers(min_value=1, max_value=9), st.binary(max_size=4))
def test_every_consistency_proof_verifies_and_no_spoiled_one_does(
    m_n: tuple[int, int], batch: int, salt: bytes
) -> None:
    old, size = m_n
    leaves = _leaves(size, salt)
    tree = _grown(leaves, batch)
    old_root, root = merkle.tree_root(old, tree.read), merkle.tree_root(size, tree.read)
    proof = merkle.consistency_proof(old, size, tree.read)
    assert merkle.verify_consistency(old, size, old_root, root, proof)
    for spoiled in _mutations(proof):
        assert not merkle.verify_consistency(old, size, old_root, root, spoiled)
    # A rewritten history: another leaf anywhere in the old tree changes its root.
    forked = list(leaves)
    forked[old - 1] = merkle.leaf_hash(b"forked")
    assert not merkle.verify_consistency(old, size, merkle.root(forked[:old]), root, proof)
    if old < size:
        assert not merkle.verify_consistency(old, size, old_root, merkle.root(forked), proof)
        assert not merkle.verify_consistency(old + 1, size, old_root, root, proof)
