"""The log's tree kept with the chain (issue 21), on every store: its roots and proofs at every
size are those of RFC 9162 over the facts' stored chain hashes, written in each batch's own
transaction; a store written before the log gets its tree once, without changing a fact."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pymerkle import InmemoryTree

from biv_adapters.demo import record_linkoping
from biv_adapters.stores.registry import open_ledger
from biv_domain.converter import parse_json
from biv_domain.ledger import Ledger, merkle
from biv_domain.ledger.log import LogRefused
from biv_domain.ledger.note import Checkpoint, Note, Signer
from biv_domain.ledger.verification import Digest
from biv_domain.model.commands import RecordDisbursement
from biv_domain.model.money import Money
from tests.builders import Clock
from tests.ledger.test_frozen_stores import FOLDERS, postgres_database, restore_dump  # noqa: F401 (a fixture)


def chain_hashes(ledger: Ledger) -> list[bytes]:
    """The facts' stored chain hashes in position order, read around the log."""
    chains = sorted(
        (parse_json(r.state)["chain"] for r in ledger.rows()), key=lambda c: c["position"]
    )
    assert [c["position"] for c in chains] == list(range(1, len(chains) + 1))
    return [bytes.fromhex(c["hash"]) for c in chains]


def leaves(ledger: Ledger) -> list[bytes]:
    return [merkle.leaf_hash(h) for h in chain_hashes(ledger)]


def hashes(hexes: tuple[str, ...]) -> list[bytes]:
    return [bytes.fromhex(h) for h in hexes]


def pay(ledger: Ledger, n: int) -> None:
    from datetime import date

    command = RecordDisbursement("Dnr 2016-292", Money.parse("1.00"), date(2023, 5, n % 28 + 1))
    ledger.execute(command, line_id=f"pay-{n}")


# --- The tree on every store ---------------------------------------------------------------------


def test_the_tree_is_rfc_9162_over_the_chain_hashes_after_every_batch(ledger: Ledger) -> None:
    # Given the Linköping history and a few batches more, each its own transaction
    record_linkoping(ledger)
    for n in range(3):
        pay(ledger, n)
    # Then the tree's size is the chain head's and every root is MTH of the stored hashes
    found = leaves(ledger)
    size = ledger.log_size()
    assert size == ledger.chain_head().position == len(found)
    for m in (1, 2, 3, 7, 64, 100, size - 1, size):
        assert ledger.log_root(m) == merkle.root(found[:m])
    # And proofs of every kind verify against those roots
    for m in (1, 5, 128, size):
        for position in {1, m // 2 or 1, m}:
            proof = ledger.inclusion_proof(position, m)
            assert (proof.tree_size, proof.leaf_index) == (m, position - 1)
            assert bytes.fromhex(proof.leaf) == chain_hashes(ledger)[position - 1]
            assert merkle.verify_inclusion(
                position - 1, m, found[position - 1], hashes(proof.hashes), merkle.root(found[:m])
            )
    for old, new in ((1, size), (7, 100), (100, size), (size, size)):
        proof_ = ledger.consistency_proof(old, new)
        assert merkle.verify_consistency(
            old, new, merkle.root(found[:old]), merkle.root(found[:new]), hashes(proof_.hashes)
        )


def test_a_second_process_finds_the_tree_and_extends_it(store_url: str, clock: Clock) -> None:
    if store_url == "memory:":
        pytest.skip("a memory store lives in one process")
    first = open_ledger(store_url, clock=clock)
    record_linkoping(first)
    second = open_ledger(store_url, clock=clock)
    pay(second, 1)  # the second reads the frontier once
    pay(first, 2)  # the first's frontier is stale: it reads it again
    assert second.log_root() == merkle.root(leaves(second))
    assert first.log_size() == second.log_size() == len(leaves(first))
    first.close()
    second.close()


@pytest.mark.parametrize(
    ("ask", "field"),
    [
        (lambda lg: lg.inclusion_proof(0), "position"),
        (lambda lg: lg.inclusion_proof(10_000), "position"),
        (lambda lg: lg.inclusion_proof(1, 10_000), "size"),
        (lambda lg: lg.consistency_proof(10, 5), "from"),
        (lambda lg: lg.consistency_proof(1, 10_000), "to"),
        (lambda lg: lg.log_root(10_000), "size"),
    ],
)
def test_a_question_outside_the_tree_is_refused_naming_it(
    memory_ledger: Ledger, ask: object, field: str
) -> None:
    record_linkoping(memory_ledger)
    with pytest.raises(LogRefused) as refused:
        ask(memory_ledger)  # type: ignore[operator]
    assert refused.value.field == field


def test_each_batch_signs_its_checkpoint_when_the_key_is_given(clock: Clock) -> None:
    signer = Signer.generate("linkoping.se/biv")
    ledger = Ledger(clock=clock, log_key=signer)
    record_linkoping(ledger)
    note = ledger.log_storage.checkpoint_at(ledger.log_size())
    assert note is not None
    parsed = Note.parse(note)
    parsed.verify(signer.verifier)
    checkpoint = Checkpoint.from_text(parsed.text)
    assert (checkpoint.origin, checkpoint.size) == ("linkoping.se/biv", ledger.log_size())
    assert checkpoint.root == merkle.root(leaves(ledger))
    # And the store keeps the verifier key, and refuses another signer
    assert str(ledger.log_verifier()) == str(signer.verifier)
    with pytest.raises(LogRefused, match="not this store's log key"):
        ledger.checkpoint(Signer.generate("linkoping.se/biv"))


# --- Stores written before the log ------------------------------------------------------------


def test_a_store_without_a_tree_gets_it_once_and_no_fact_changes(tmp_path: Path) -> None:
    url = f"sqlite://{tmp_path}/biv.sqlite3"
    ledger = open_ledger(url)
    record_linkoping(ledger)
    digest = ledger.digest()
    root = ledger.log_root()
    ledger.close()
    # Given a store whose tree is gone (as one written before the log)
    with sqlite3.connect(tmp_path / "biv.sqlite3") as db:
        facts_before = db.execute("SELECT * FROM stored_events ORDER BY rowid").fetchall()
        db.execute("DELETE FROM biv_log_nodes")
    again = open_ledger(url)
    # Then its tree is made again from the facts' stored hashes, the same as before
    assert again.log_root() == root
    assert again.verify_chain(digest).intact
    pay(again, 1)
    assert again.log_root() == merkle.root(leaves(again))
    again.close()
    with sqlite3.connect(tmp_path / "biv.sqlite3") as db:
        facts_after = db.execute("SELECT * FROM stored_events ORDER BY rowid").fetchall()
    assert facts_after[: len(facts_before)] == facts_before


def check_frozen(url: str, digest: Digest) -> None:
    ledger = open_ledger(url)
    signer = Signer.generate("frozen.example/biv")
    # When its checkpoint is signed (its tree made first, from its facts)
    note = ledger.checkpoint(signer)
    note.verify(signer.verifier)
    checkpoint = Checkpoint.from_text(note.text)
    # Then the checkpoint is of every fact, and the digest kept then still verifies
    assert checkpoint.size == digest.position == len(chain_hashes(ledger))
    assert checkpoint.root == merkle.root(leaves(ledger))
    assert ledger.verify_chain(digest).intact
    proof = ledger.inclusion_proof(1)
    assert merkle.verify_inclusion(
        0, checkpoint.size, leaves(ledger)[0], hashes(proof.hashes), checkpoint.root
    )
    # And the store takes new facts, its tree growing with them
    pay(ledger, 1)
    assert ledger.log_root() == merkle.root(leaves(ledger))
    assert ledger.verify_chain(digest).intact
    ledger.close()


@pytest.mark.parametrize("folder", FOLDERS, ids=[f.name for f in FOLDERS])
def test_frozen_sqlite_stores_get_a_tree_whose_checkpoint_verifies(
    folder: Path, tmp_path: Path
) -> None:
    # Given a copy of a store written by an earlier format (never the frozen file itself)
    copy = tmp_path / "store.sqlite3"
    shutil.copyfile(folder / "store.sqlite3", copy)
    check_frozen(f"sqlite://{copy}", Digest.parse((folder / "digest-sqlite.txt").read_text()))


@pytest.mark.parametrize("folder", FOLDERS, ids=[f.name for f in FOLDERS])
def test_frozen_postgresql_stores_get_a_tree_whose_checkpoint_verifies(
    folder: Path,
    postgres_database: str,  # noqa: F811 (the fixture of test_frozen_stores)
) -> None:
    restore_dump(postgres_database, folder / "postgresql.sql")
    schema = folder.name.replace("-", "")  # format-1 -> format1
    digest = Digest.parse((folder / "digest-postgresql.txt").read_text())
    check_frozen(f"{postgres_database}?schema={schema}", digest)


# --- Roots against an independent implementation -------------------------------------------------


def test_roots_match_pymerkle_for_every_size_up_to_300() -> None:
    data = [bytes([i % 256, i // 256]) * 16 for i in range(300)]
    oracle = InmemoryTree(algorithm="sha256")
    ledger = Ledger()
    stored: dict[merkle.NodeId, bytes] = {}
    front = list[bytes]()
    for size, d in enumerate(data, start=1):
        oracle.append_entry(d)
        added = merkle.appended(size - 1, front, [merkle.leaf_hash(d)])
        stored.update(added)
        front = [stored[n] for n in merkle.frontier(size)]
        assert merkle.tree_root(size, lambda ns: {n: stored[n] for n in ns}) == oracle.get_root(
            size
        )
    assert ledger.log_size() == 0


def test_pymerkle_is_rfc_9162s_tree_not_one_that_duplicates_a_last_leaf() -> None:
    # RFC 9162 of three leaves: H(1 ‖ H(1 ‖ l0 ‖ l1) ‖ l2); a duplicating tree pairs l2 with l2
    data = [b"a" * 32, b"b" * 32, b"c" * 32]
    oracle = InmemoryTree(algorithm="sha256")
    for d in data:
        oracle.append_entry(d)
    l0, l1, l2 = (merkle.leaf_hash(d) for d in data)
    assert oracle.get_root(3) == merkle.node_hash(merkle.node_hash(l0, l1), l2)
    assert oracle.get_root(3) != merkle.node_hash(
        merkle.node_hash(l0, l1), merkle.node_hash(l2, l2)
    )


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 200), st.data())
def test_any_change_to_a_stored_proof_does_not_verify(size: int, data: st.DataObject) -> None:
    leaves_ = [merkle.leaf_hash(i.to_bytes(32, "big")) for i in range(size)]
    stored = dict(merkle.appended(0, [], leaves_))
    read = lambda ns: {n: stored[n] for n in ns}  # noqa: E731
    index = data.draw(st.integers(0, size - 1))
    proof = merkle.inclusion_proof(index, size, read)
    root = merkle.root(leaves_)
    assert merkle.verify_inclusion(index, size, leaves_[index], proof, root)
    if proof:
        k = data.draw(st.integers(0, len(proof) - 1))
        bent = [*proof[:k], bytes([proof[k][0] ^ 1]) + proof[k][1:], *proof[k + 1 :]]
        assert not merkle.verify_inclusion(index, size, leaves_[index], bent, root)
    assert not merkle.verify_inclusion(index, size, leaves_[index], [*proof, root], root)


def test_the_checkpoint_of_an_empty_store_is_of_the_empty_tree(tmp_path: Path) -> None:
    signer = Signer.generate("linkoping.se/biv")
    ledger = open_ledger(f"sqlite://{tmp_path}/biv.sqlite3")
    note = ledger.checkpoint(signer)
    note.verify(signer.verifier)
    assert Checkpoint.from_text(note.text) == Checkpoint("linkoping.se/biv", 0, merkle.EMPTY_ROOT)
    ledger.close()
