#!/usr/bin/env python3
"""Checks a biv-domain archive package with Python's standard library alone (3.11 or newer).

    python3 documentation/verify_package.py PACKAGE_FOLDER

It needs neither biv-domain nor its store. It checks, and prints one line for each:
1. every file listed in METS.xml is there, with the size and SHA-256 that METS.xml gives, and
   no other file is;
2. every file's fixity in the PREMIS file (metadata/preservation/premis.xml) matches it;
3. every archived fact's hash: SHA-256 of its stored content (data/chain.jsonl) is its hash,
   and the history (data/history.jsonl) gives the same position and hash for each fact;
4. the chain over the archived facts: each fact's content names its own position and the
   hash of the fact before it, which is the archived fact before it where that is archived,
   and otherwise proved to be the chain's hash at that position by an inclusion proof;
5. each archived fact's inclusion in the checkpoint (data/checkpoint.txt): RFC 9162's
   Merkle tree over every hash of the chain, leaf i the fact at chain position i+1, its
   leaf data the 32 bytes of that fact's chain hash.
The checkpoint's signature (when it has one: a C2SP signed note, Ed25519) needs the log's
verifier key and a signed-note tool; this script checks the checkpoint's content only.

Exit 0 when everything holds, 1 at the first thing that does not (named on one line).
This file is kept in biv-domain as `biv_adapters/archive/standalone.py` and copied into
every package as `documentation/verify_package.py`.
"""

from __future__ import annotations

import base64
import hashlib
import json
import sys
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path
from typing import Any

METS = "{http://www.loc.gov/METS/}"
XLINK = "{http://www.w3.org/1999/xlink}"
PREMIS = "{http://www.loc.gov/premis/v3}"
DATA = "representations/rep1/data"


class Broken(Exception):
    """The package does not hold: what, in one line."""


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _lines(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def check_mets(package: Path) -> int:
    """Every file METS.xml lists (and its metadata files) is there, its size and SHA-256 right."""
    root = ET.parse(package / "METS.xml").getroot()
    listed = [(e, e.find(f"{METS}FLocat")) for e in root.iter(f"{METS}file")]
    entries = [(e, loc.get(f"{XLINK}href")) for e, loc in listed if loc is not None]
    entries += [(e, e.get(f"{XLINK}href")) for e in root.iter(f"{METS}mdRef")]
    every = {p.relative_to(package).as_posix() for p in package.rglob("*") if p.is_file()}
    unlisted = sorted(every - {href for _, href in entries} - {"METS.xml"})
    if unlisted:
        raise Broken(f"{unlisted[0]}: in the package but not listed in METS.xml")
    for element, href in entries:
        if href is None:
            raise Broken("METS.xml names a file without an address")
        path = package / href
        if not path.is_file():
            raise Broken(f"{href}: listed in METS.xml but missing")
        if element.get("CHECKSUMTYPE") != "SHA-256" or element.get("CHECKSUM") != _sha256(path):
            raise Broken(f"{href}: its SHA-256 is not the one METS.xml gives")
        if int(element.get("SIZE", "-1")) != path.stat().st_size:
            raise Broken(f"{href}: its size is not the one METS.xml gives")
    return len(entries)


def check_premis(package: Path) -> int:
    """Each PREMIS object's fixity matches its file."""
    root = ET.parse(package / "metadata/preservation/premis.xml").getroot()
    count = 0
    for obj in root.iter(f"{PREMIS}object"):
        href = obj.findtext(f"{PREMIS}storage/{PREMIS}contentLocation/{PREMIS}contentLocationValue")
        digest = obj.findtext(f"{PREMIS}objectCharacteristics/{PREMIS}fixity/{PREMIS}messageDigest")
        if href is None or digest is None:
            raise Broken("a PREMIS object has no location or no fixity")
        if not (package / href).is_file() or _sha256(package / href) != digest:
            raise Broken(f"{href}: its PREMIS fixity does not match")
        count += 1
    return count


def check_facts(package: Path) -> dict[int, dict[str, Any]]:
    """Every archived fact's hash over its stored content; the history agrees with them."""
    facts: dict[int, dict[str, Any]] = {}
    for line in _lines(package / DATA / "chain.jsonl"):
        position, stated = line["chain_position"], line["hash"]
        if hashlib.sha256(line["content"].encode("utf-8")).hexdigest() != stated:
            raise Broken(f"chain position {position}: its content does not match its hash")
        content = json.loads(line["content"])
        if content["position"] != position:
            raise Broken(
                f"chain position {position}: its content names position {content['position']}"
            )
        facts[position] = {"hash": stated, "previous": content["previous"]}
    history = {r["chain_position"]: r["hash"] for r in _lines(package / DATA / "history.jsonl")}
    if history != {p: f["hash"] for p, f in facts.items()}:
        raise Broken("the history and the stored facts name different positions or hashes")
    return facts


def read_checkpoint(package: Path) -> tuple[str, int, bytes]:
    text = (package / DATA / "checkpoint.txt").read_text(encoding="utf-8")
    origin, size, root = text.split("\n")[:3]
    return origin, int(size), base64.b64decode(root, validate=True)


def _node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def root_from_inclusion(index: int, size: int, leaf: bytes, proof: Sequence[bytes]) -> bytes:
    """RFC 9162 §2.1.3.2: the root a leaf hash's inclusion proof leads to."""
    if not 0 <= index < size:
        raise Broken(f"leaf index {index} is not in a tree of {size}")
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            raise Broken(f"leaf index {index}: the proof is too long")
        if fn & 1 or fn == sn:
            r = _node(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = _node(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise Broken(f"leaf index {index}: the proof is too short")
    return r


def check_log(package: Path, facts: dict[int, dict[str, Any]]) -> tuple[int, int]:
    """Each archived fact (and each unarchived one before it) is in the checkpoint's tree; the
    chain links each archived fact to the one before it."""
    _, size, root = read_checkpoint(package)
    proven: dict[int, str] = {}
    for proof in _lines(package / DATA / "inclusion_proofs.jsonl"):
        index, leaf = proof["leaf_index"], bytes.fromhex(proof["leaf"])
        if proof["tree_size"] != size:
            raise Broken(
                f"leaf index {index}: proved in a tree of {proof['tree_size']}, "
                f"not the checkpoint's {size}"
            )
        hashes = [bytes.fromhex(h) for h in proof["hashes"]]
        leaf_hash = hashlib.sha256(b"\x00" + leaf).digest()
        if root_from_inclusion(index, size, leaf_hash, hashes) != root:
            raise Broken(f"chain position {index + 1}: not included in the checkpoint")
        proven[index + 1] = proof["leaf"]
    for position, fact in sorted(facts.items()):
        if proven.get(position) != fact["hash"]:
            raise Broken(f"chain position {position}: no inclusion proof of its hash")
        before = position - 1
        expected = "0" * 64 if before == 0 else proven.get(before)
        if expected is None:
            raise Broken(f"chain position {position}: nothing proves the fact before it")
        if fact["previous"] != expected:
            raise Broken(f"chain position {position}: does not follow the fact before it")
    return size, len(proven)


def verify(package: Path) -> list[str]:
    """Every check, in order; raises Broken at the first failure."""
    listed = check_mets(package)
    fixed = check_premis(package)
    facts = check_facts(package)
    size, proven = check_log(package, facts)
    return [
        f"METS.xml: {listed} files, each size and SHA-256 as listed",
        f"PREMIS: {fixed} files, each fixity matches",
        f"facts: {len(facts)} archived, each hash matches its stored content",
        f"chain: each archived fact follows the fact before it (positions "
        f"{min(facts, default=0)}–{max(facts, default=0)})",
        f"log: {proven} leaves proven in the checkpoint's tree of {size}",
    ]


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1:
        print("usage: verify_package.py PACKAGE_FOLDER", file=sys.stderr)
        return 2
    try:
        for line in verify(Path(args[0])):
            print(line)
    except Broken as broken:
        print(f"the package does not hold: {broken}", file=sys.stderr)
        return 1
    except (OSError, ValueError, KeyError, ET.ParseError) as error:
        print(f"the package cannot be read: {type(error).__name__}: {error}", file=sys.stderr)
        return 1
    print("the package holds")
    return 0


if __name__ == "__main__":
    sys.exit(main())
