"""The log's first layout, frozen (`tests/stores/log-1`): stores whose tree keeps each leaf's
data in a row of its own still answer their checkpoint and proofs as they did, and a batch
appended to them (its leaves kept in runs) makes the tree of the facts' own chain hashes."""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from biv_adapters.cli import main
from biv_adapters.stores.log import RUN
from biv_adapters.stores.registry import open_ledger
from biv_domain.ledger import Ledger, merkle
from biv_domain.ledger.envelope import read_envelope
from biv_domain.ledger.note import Verifier
from biv_domain.ledger.receipts import check_receipt, read_receipt
from tests.builders import exchange_lines
from tests.ledger.test_frozen_stores import postgres_database, restore_dump  # noqa: F401 (a fixture)

FOLDER = Path(__file__).parents[1] / "stores" / "log-1"
VERIFIER = (FOLDER / "verifier.txt").read_text().strip()


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    """`biv ARGV` in this process: its exit code and standard output."""
    capsys.readouterr()
    code = main(list(argv))
    return code, capsys.readouterr().out


@pytest.fixture(params=["sqlite", "postgresql"])
def frozen(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """A copy of the frozen store of one kind: (kind, store URL)."""
    kind = str(request.param)
    if kind == "sqlite":
        copy = tmp_path / "store.sqlite3"
        shutil.copyfile(FOLDER / "store.sqlite3", copy)
        yield kind, f"sqlite://{copy}"
        return
    database = request.getfixturevalue("postgres_database")
    restore_dump(database, FOLDER / "postgresql.sql")
    yield kind, f"{database}?schema=log1"


def test_the_old_layout_answers_its_checkpoint_and_proofs_as_it_did(
    frozen: tuple[str, str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    kind, store = frozen
    monkeypatch.delenv("BIV_LOG_KEY", raising=False)
    # The checkpoint the old code signed after the last batch is printed without the key.
    assert run_cli(capsys, "audit", "checkpoint", "--store", store) == (
        0,
        (FOLDER / f"checkpoint-{kind}.txt").read_text(),
    )
    # Every proof the old code gave, asked again, is the same document.
    recorded = [
        json.loads(line)
        for line in (FOLDER / f"proofs-{kind}.jsonl").read_text().split("\n")
        if line
    ]
    assert len(recorded) > 10
    for proof in recorded:
        if "leaf_index" in proof:
            argv = ["prove", str(proof["leaf_index"] + 1), "--size", str(proof["tree_size"])]
        else:
            argv = ["consistency", str(proof["from"]), str(proof["to"])]
        code, out = run_cli(capsys, "audit", *argv, "--store", store, "--json")
        assert (code, json.loads(out)) == (0, proof), argv
    # The old receipt still verifies, offline and against the store today.
    receipt = FOLDER / f"receipt-{kind}.json"
    check_receipt(read_receipt(json.loads(receipt.read_text())), Verifier.parse(VERIFIER))
    assert (
        run_cli(
            capsys, "audit", "check-receipt", str(receipt), "--key", VERIFIER, "--store", store
        )[0]
        == 0
    )


def test_a_batch_appended_to_the_old_layout_keeps_its_leaves_in_runs(
    frozen: tuple[str, str],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    kind, store = frozen
    monkeypatch.delenv("BIV_LOG_KEY", raising=False)
    checkpoint = FOLDER / f"checkpoint-{kind}.txt"
    old_size = int(checkpoint.read_text().split("\n")[1])
    # When a batch of 40 lines is imported into the old store (without the log's key),
    lines = tmp_path / "more.jsonl"
    lines.write_text("".join(json.dumps(line) + "\n" for line in exchange_lines(40)))
    assert run_cli(capsys, "import", str(lines), "--store", store, "--actor", "test")[0] == 0
    # then the store still extends the old checkpoint,
    verify = ["audit", "verify", "--checkpoint", str(checkpoint), "--key", VERIFIER]
    assert run_cli(capsys, *verify, "--store", store)[0] == 0
    # its tree is the RFC 9162 tree of every fact's own chain hash, at every size asked,
    ledger = open_ledger(store)
    try:
        size = ledger.log_size()
        assert size > old_size + 40
        data = [bytes.fromhex(read_envelope(row).chain.hash) for row in ledger.rows()]
        assert len(data) == size
        leaves = [merkle.leaf_hash(d) for d in data]
        for at in (old_size - 1, old_size, old_size + 1, old_size + 17, size - 1, size):
            assert ledger.log_root(at) == merkle.root(leaves[:at]), at
            for position in sorted({1, min(old_size, at), at}):
                hashes = [bytes.fromhex(h) for h in ledger.inclusion_proof(position, at).hashes]
                assert merkle.verify_inclusion(
                    position - 1, at, leaves[position - 1], hashes, merkle.root(leaves[:at])
                )
        # and the new batch's leaves are kept a run a row, after the old layout's one-leaf rows.
        lengths = _leaf_row_lengths(ledger)
    finally:
        ledger.close()
    assert lengths[:old_size] == [32] * old_size
    assert max(lengths[old_size:]) > 32
    assert sum(lengths) == 32 * size


def _leaf_row_lengths(ledger: Ledger) -> list[int]:
    """The byte lengths of the level-0 rows, in key order."""
    datastore = ledger.app.factory.datastore  # type: ignore[attr-defined]
    table = "log1.biv_log_nodes" if getattr(datastore, "schema", None) else "biv_log_nodes"
    with datastore.transaction(commit=False) as cursor:
        cursor.execute(f"SELECT length(hash) AS n FROM {table} WHERE level = 0 ORDER BY last_leaf")
        return [int(r["n"]) for r in cursor.fetchall()]


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    batches=st.lists(st.integers(1, 3 * RUN), min_size=1, max_size=8),
    asked=st.lists(st.integers(0, 10_000), max_size=40),
)
def test_leaves_kept_in_runs_read_back_as_written(
    batches: list[int], asked: list[int], tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Given batches of leaves of any length (runs split at RUN, batches of one as the old
    layout), when any leaves are read back, then each is its own 32 bytes, and none is made up."""
    ledger = open_ledger(f"sqlite://{tmp_path_factory.mktemp('runs')}/log.sqlite3")
    try:
        data: list[bytes] = []
        for length in batches:
            added = [hashlib.sha256(str(len(data) + i).encode()).digest() for i in range(length)]
            ledger.log_storage.add_nodes([((0, len(data) + i), d) for i, d in enumerate(added)])
            data += added
        wanted = {(0, i % (len(data) + 5)) for i in asked} | {(0, 0), (0, len(data) - 1)}
        found = ledger.log_storage.read_stored(wanted)
    finally:
        ledger.close()
    assert found == {(0, i): data[i] for level, i in wanted if i < len(data)}
