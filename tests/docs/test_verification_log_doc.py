"""A verifier written from docs/verification.md alone: hashlib, base64 and `cryptography`,
no code of biv_domain. It checks the document's worked vectors, and a store made by `biv import`
(a checkpoint, its proofs and a receipt): the text is enough to write a verifier of one's own.

`biv` is used only to make the store and print what it prints; every check below is this file's.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import sqlite3
import struct
from pathlib import Path
from typing import Any

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

DOC = Path(__file__).parents[2] / "docs" / "verification.md"
DATA = Path(__file__).parents[2] / "src" / "biv_domain" / "data"
DASH = "\u2014"


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


# --- Section 1: the tree ------------------------------------------------------------------------


def leaf_hash(data: bytes) -> bytes:
    return sha256(b"\x00" + data)


def mth(leaves: list[bytes]) -> bytes:
    """MTH of leaf hashes: k is the largest power of two smaller than n."""
    n = len(leaves)
    if n == 0:
        return sha256(b"")
    if n == 1:
        return leaves[0]
    k = 1
    while k * 2 < n:
        k *= 2
    return sha256(b"\x01" + mth(leaves[:k]) + mth(leaves[k:]))


# --- Section 2: keys and notes --------------------------------------------------------------------


def verifier_key(text: str, kind: int = 0x01) -> tuple[str, bytes, bytes]:
    """NAME+KEYID+BASE64(TYPE ‖ public key) -> (name, key id, public key); refuses a bad id."""
    name, key_id, material = text.strip().split("+", 2)
    raw = base64.b64decode(material, validate=True)
    assert raw[0] == kind
    assert len(raw) == 33
    computed = sha256(name.encode() + b"\n" + raw[:1] + raw[1:])[:4]
    if computed.hex() != key_id:
        raise ValueError("key id does not match")
    return name, computed, raw[1:]


def ed25519(public: bytes, signature: bytes, message: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(public).verify(signature, message)
    except InvalidSignature:
        return False
    return True


def split_note(note: str) -> tuple[str, list[tuple[str, bytes]]]:
    assert note.endswith("\n")
    assert not any(ord(c) < 0x20 and c != "\n" for c in note)
    cut = note.rindex("\n\n")
    text, lines = note[: cut + 1], note[cut + 2 :].splitlines()
    signatures = []
    for line in lines:
        match = re.fullmatch(DASH + r" (\S+) (\S+)", line)
        assert match is not None, line
        signatures.append((match[1], base64.b64decode(match[2], validate=True)))
    return text, signatures


def verify_note(note: str, key: str) -> str:
    """The note's text, if a signature of the key verifies over it (and every one of it does)."""
    name, key_id, public = verifier_key(key)
    text, signatures = split_note(note)
    mine = [raw for who, raw in signatures if who == name and raw[:4] == key_id]
    if not mine or not all(ed25519(public, raw[4:], text.encode()) for raw in mine):
        raise ValueError("the note carries no verifying signature of the key")
    return text


# --- Section 3: the checkpoint ---------------------------------------------------------------


def checkpoint(note: str, key: str) -> tuple[str, int, bytes]:
    text = verify_note(note, key)
    origin, size, root, _rest = text.split("\n", 3)
    assert re.fullmatch(r"0|[1-9][0-9]*", size)
    assert origin == key.split("+")[0]
    decoded = base64.b64decode(root, validate=True)
    assert len(decoded) == 32
    return origin, int(size), decoded


# --- Section 4: proofs ---------------------------------------------------------------------------


def node(left: bytes, right: bytes) -> bytes:
    return sha256(b"\x01" + left + right)


def inclusion_holds(proof: dict[str, Any], root: bytes) -> bool:
    index, size = proof["leaf_index"], proof["tree_size"]
    leaf = bytes.fromhex(proof["leaf"])
    path = [bytes.fromhex(h) for h in proof["hashes"]]
    if not 0 <= index < size or any(len(h) != 32 for h in [leaf, *path]):
        return False
    fn, sn, r = index, size - 1, leaf_hash(leaf)
    for p in path:
        if sn == 0:
            return False
        if fn % 2 == 1 or fn == sn:
            r = node(p, r)
            if fn % 2 == 0:
                while fn % 2 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def consistency_holds(proof: dict[str, Any], old_root: bytes, new_root: bytes) -> bool:
    m, n = proof["from"], proof["to"]
    path = [bytes.fromhex(h) for h in proof["hashes"]]
    if not 0 < m <= n:
        return False
    if m == n:
        return not path and old_root == new_root
    if not path:
        return False
    if m & (m - 1) == 0:
        path = [old_root, *path]
    fn, sn = m - 1, n - 1
    while fn % 2 == 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn % 2 == 1 or fn == sn:
            fr, sr = node(c, fr), node(c, sr)
            if fn % 2 == 0:
                while fn % 2 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == old_root and sr == new_root and sn == 0


# --- Section 5: receipts; section 6: cosignatures ------------------------------------------------


def receipt_holds(receipt: dict[str, Any], key: str) -> int:
    """How many facts the receipt proves; raises if any of it does not hold."""
    _origin, size, root = checkpoint(receipt["checkpoint"], key)
    proved = 0
    for line in receipt["lines"]:
        for fact in line["facts"]:
            proof = fact["proof"]
            assert proof["tree_size"] == size
            assert proof["leaf_index"] == fact["position"] - 1
            if not inclusion_holds(proof, root):
                raise ValueError(f"the proof of position {fact['position']} does not hold")
            proved += 1
    return proved


def cosigned_at(note: str, witness_key: str) -> int:
    """The time T of the witness's cosignature, if it verifies."""
    name, key_id, public = verifier_key(witness_key, kind=0x04)
    text, signatures = split_note(note)
    [raw] = [raw for who, raw in signatures if who == name and raw[:4] == key_id]
    assert len(raw) == 4 + 8 + 64
    (moment,) = struct.unpack(">Q", raw[4:12])
    message = f"cosignature/v1\ntime {moment}\n".encode() + text.encode()
    if not ed25519(public, raw[12:], message):
        raise ValueError("the cosignature does not verify")
    return int(moment)


# --- The document's vectors ----------------------------------------------------------------------


def vectors() -> dict[str, str]:
    text = DOC.read_text("utf-8")
    found = re.findall(r"<!-- vector: ([a-z-]+) -->\n```[a-z]*\n(.*?)```", text, re.DOTALL)
    return dict(found)


def test_the_documents_worked_vectors_verify() -> None:
    v = vectors()
    key, witness = v["log-key"].strip(), v["witness-key"].strip()
    origin, size, root = checkpoint(v["checkpoint"], key)
    leaves = [leaf_hash(bytes.fromhex(h)) for h in v["leaves"].split()]
    assert (origin, size) == ("example.org/biv", len(leaves))
    assert mth(leaves) == root
    inclusion = json.loads(v["inclusion"])
    assert inclusion["leaf"] == v["leaves"].split()[inclusion["leaf_index"]]
    assert inclusion_holds(inclusion, root)
    consistency = json.loads(v["consistency"])
    assert consistency_holds(consistency, mth(leaves[: consistency["from"]]), root)
    assert receipt_holds(json.loads(v["receipt"]), key) == 4
    assert checkpoint(v["cosigned"], key)[2] == root
    assert cosigned_at(v["cosigned"], witness) > 1_700_000_000
    # And the three-leaf example of section 1 is the tree's (no duplicated leaf)
    three = leaves[:3]
    assert mth(three) == node(node(three[0], three[1]), three[2])


def test_a_bent_vector_is_refused() -> None:
    v = vectors()
    key = v["log-key"].strip()
    _origin, _size, root = checkpoint(v["checkpoint"], key)
    inclusion = json.loads(v["inclusion"])
    inclusion["hashes"][1] = "00" + inclusion["hashes"][1][2:]
    assert not inclusion_holds(inclusion, root)
    with pytest.raises(ValueError, match="signature"):
        verify_note(v["checkpoint"].replace("\n20\n", "\n21\n"), key)


# --- A store made by `biv import` ---------------------------------------------------------------


def biv(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    from biv_adapters.cli import main  # only to make the store and print what biv prints

    capsys.readouterr()
    assert main(list(argv)) == 0
    return capsys.readouterr().out


def test_a_store_made_by_biv_import_verifies_with_this_verifier(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    signer, key = biv(capsys, "audit", "keygen", "kommun.example/biv").splitlines()
    monkeypatch.setenv("BIV_LOG_KEY", signer)
    store = f"sqlite://{tmp_path}/biv.sqlite3"
    biv(capsys, "import", str(DATA / "linkoping_documents.jsonl"), "--store", store)
    receipt_file = tmp_path / "kvitto.json"
    groups = str(DATA / "linkoping_illustrative_2023.jsonl")
    biv(capsys, "import", groups, "--receipt", str(receipt_file), "--store", store)
    receipt = json.loads(receipt_file.read_text())
    assert receipt_holds(receipt, key) > 169
    note = biv(capsys, "audit", "checkpoint", "--store", store)
    _origin, size, root = checkpoint(note, key)
    # The root is the tree of the facts' own chain hashes, read from the store's envelopes
    with sqlite3.connect(tmp_path / "biv.sqlite3") as db:
        states = [bytes(r[0]) for r in db.execute("SELECT state FROM stored_events")]
    chains = sorted((json.loads(s)["chain"] for s in states), key=lambda c: c["position"])
    leaves = [leaf_hash(bytes.fromhex(c["hash"])) for c in chains]
    assert [c["position"] for c in chains] == list(range(1, size + 1))
    assert mth(leaves) == root
    for position in (1, 2, 17, size // 2, size):
        proof = json.loads(biv(capsys, "audit", "prove", str(position), "--json", "--store", store))
        assert inclusion_holds(proof, root)
    for old in (1, 9, 20, size - 1):
        proof = json.loads(
            biv(capsys, "audit", "consistency", str(old), "--json", "--store", store)
        )
        assert consistency_holds(proof, mth(leaves[:old]), root)
    # And the receipt's checkpoint is consistent with today's (the receipt's size is earlier's)
    _o, receipt_size, receipt_root = checkpoint(receipt["checkpoint"], key)
    assert receipt_root == mth(leaves[:receipt_size])
