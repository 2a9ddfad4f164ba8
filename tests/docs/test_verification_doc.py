"""A verifier written from docs/verification.md alone verifies every store (issue 21, item 8).

The verifier below shares no code with biv_domain: it reads the rows with `sqlite3` or
`psycopg` and uses only `hashlib` and `json`, following the document's sections 1–6. It
recomputes every fact hash and the chain of each frozen store under tests/stores/, and of
stores made by `biv import` (plain, and encrypted under BIV_CIPHER_KEY, on SQLite and
PostgreSQL), and its head equals `biv audit digest`. The document's worked vectors are
checked against the frozen stores, so the text cannot drift from the bytes.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sqlite3
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest

from biv_adapters.cli import main
from tests.conftest import POSTGRES_URL, drop_schema, postgres_url
from tests.ledger.test_frozen_stores import postgres_database as postgres_database
from tests.ledger.test_frozen_stores import restore_dump

ROOT = Path(__file__).parents[2]
DOC = ROOT / "docs" / "verification.md"
FROZEN = sorted((ROOT / "tests" / "stores").glob("format-*/store.sqlite3"))
GENESIS = "0" * 64
Row = tuple[str, int, str, bytes]


class Broken(Exception):
    """The store does not verify: the message names the row."""


# --- The verifier, from the document ------------------------------------------------------


def canonical(value: object) -> bytes:
    """Section 3.2: sorted keys at every level, no whitespace, UTF-8 as itself."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def fact_hash(stream: str, version: int, type_: str, envelope: dict[str, Any]) -> str:
    """Sections 3.1 and 3.3: the content object, hashed."""
    chain = envelope["chain"]
    content = {
        "stream": stream,
        "version": version,
        "type": type_,
        "recorded_at": envelope["recorded_at"],
        "actor": envelope["actor"],
        "event": envelope["event"],
        "position": chain["position"],
        "previous": chain["previous"],
    }
    for optional in ("schema", "personal", "encrypted"):
        if optional in envelope:
            content[optional] = envelope[optional]
    return hashlib.sha256(canonical(content)).hexdigest()


def verify(rows: Iterable[Row]) -> str:
    """Sections 4 and 5: the chain and the seals; returns the digest POSITION:HASH (section 6)."""
    previous, position, since_seal, last = GENESIS, 0, 0, None
    for number, (stream, version, type_, state) in enumerate(rows, start=1):
        envelope = json.loads(state)
        chain = envelope["chain"]
        where = f"row {number} ({type_} of {stream} v{version})"
        if chain["position"] != position + 1 or chain["previous"] != previous:
            raise Broken(f"{where}: does not follow position {position}")
        if fact_hash(stream, version, type_, envelope) != chain["hash"]:
            raise Broken(f"{where}: its content does not match its hash")
        if type_ == "BatchSealed":
            if envelope["event"]["facts"] != since_seal:
                raise Broken(f"{where}: seals {envelope['event']['facts']}, not {since_seal}")
            since_seal = 0
        else:
            since_seal += 1
        previous, position, last = chain["hash"], chain["position"], type_
    if last != "BatchSealed":
        raise Broken(f"the store ends inside a batch at position {position}")
    return f"{position}:{previous}"


def sqlite_rows(path: Path) -> list[Row]:
    """Section 1: SQLite's `stored_events` in `rowid` order."""
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        query = "SELECT originator_id, originator_version, topic, state FROM stored_events "
        return [
            (r[0], r[1], r[2], bytes(r[3])) for r in connection.execute(query + "ORDER BY rowid")
        ]
    finally:
        connection.close()


def postgresql_rows(schema: str, database: str | None = None) -> list[Row]:
    """Section 1: PostgreSQL's `biv_events` in `notification_id` order."""
    import psycopg

    assert POSTGRES_URL
    with psycopg.connect(database or POSTGRES_URL) as connection:
        query = (
            f'SELECT originator_id, originator_version, topic, state FROM "{schema}".biv_events '
            "ORDER BY notification_id"
        )
        return [(r[0], r[1], r[2], bytes(r[3])) for r in connection.execute(query)]


# --- The tests ----------------------------------------------------------------------------


@pytest.mark.parametrize("store", FROZEN, ids=lambda p: p.parent.name)
def test_every_frozen_store_verifies_and_its_head_is_its_digest(store: Path) -> None:
    digest = (store.parent / "digest-sqlite.txt").read_text("utf-8").strip()
    assert verify(sqlite_rows(store)) == digest


@pytest.mark.parametrize("folder", [p.parent for p in FROZEN], ids=lambda p: p.name)
def test_every_frozen_postgresql_dump_verifies_and_its_head_is_its_digest(
    folder: Path, postgres_database: str
) -> None:
    restore_dump(postgres_database, folder / "postgresql.sql")
    digest = (folder / "digest-postgresql.txt").read_text("utf-8").strip()
    schema = folder.name.replace("-", "")  # format-1 -> format1
    assert verify(postgresql_rows(schema, postgres_database)) == digest


def test_the_verifier_is_not_fooled_by_a_shortened_tail_or_a_changed_byte(tmp_path: Path) -> None:
    rows = sqlite_rows(FROZEN[-1])
    with pytest.raises(Broken, match="ends inside a batch"):
        verify(rows[:-5] if rows[-5][2] != "BatchSealed" else rows[:-6])
    stream, version, type_, state = rows[40]
    changed = state.replace(b'"20', b'"19', 1)
    assert changed != state
    with pytest.raises(Broken, match="does not match its hash"):
        verify([*rows[:40], (stream, version, type_, changed), *rows[41:]])


@pytest.fixture(params=("sqlite", "sqlite-encrypted", "postgresql", "postgresql-encrypted"))
def imported(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[str, str | None]]:
    """A store made by `biv import` (in three batches), and how to read its rows."""
    kind: str = request.param
    if kind.endswith("encrypted"):
        key = _capture(["keygen"])
        monkeypatch.setenv("BIV_CIPHER_KEY", key)
    schema = None
    if kind.startswith("sqlite"):
        url = f"sqlite://{tmp_path}/biv.sqlite3"
    else:
        schema = f"test_{uuid.uuid4().hex[:12]}"
        url = postgres_url(schema)
    lines = (ROOT / "tests" / "stores" / "format-3" / "history.jsonl").read_text("utf-8")
    chunks = _chunks([line for line in lines.splitlines() if line.strip()], 3)
    for index, chunk in enumerate(chunks):
        exchange = tmp_path / f"batch-{index}.jsonl"
        exchange.write_text("\n".join(chunk) + "\n", "utf-8")
        assert main(["import", str(exchange), "--store", url, "--actor", "test"]) == 0
    yield url, schema
    if schema:
        drop_schema(schema)


def test_a_store_made_by_biv_import_verifies_and_its_head_is_biv_audit_digest(
    imported: tuple[str, str | None],
    capsys: pytest.CaptureFixture[str],
) -> None:
    url, schema = imported
    capsys.readouterr()
    assert main(["audit", "digest", "--store", url]) == 0
    digest = capsys.readouterr().out.strip()
    if schema is None:
        rows = sqlite_rows(Path(url.removeprefix("sqlite://")))
    else:
        rows = postgresql_rows(schema)
    assert verify(rows) == digest
    assert sum(1 for row in rows if row[2] == "BatchSealed") >= 3
    assert any(json.loads(row[3]).get("personal") == 1 for row in rows)
    if "BIV_CIPHER_KEY" in os.environ:
        assert all(json.loads(r[3]).get("encrypted") == 1 for r in rows if ":" in r[0])
        assert any(r[0].startswith("s:") for r in rows)


def test_the_documents_worked_vectors_are_rows_of_the_frozen_stores() -> None:
    text = DOC.read_text("utf-8")
    hashes = {json.loads(r[3])["chain"]["hash"]: r for store in FROZEN for r in sqlite_rows(store)}
    blocks = re.findall(r"```json\n(.*?)\n```", text, re.DOTALL)
    contents = [json.loads(block) for block in blocks if '"stream":' in block]
    assert len(contents) >= 5
    for content in contents:
        digest = hashlib.sha256(canonical(content)).hexdigest()
        assert f"SHA-256: `{digest}`" in text, "a vector's hash is not quoted beside it"
        stream, version, type_, state = hashes[digest]  # a real row of a frozen store
        assert (content["stream"], content["version"], content["type"]) == (stream, version, type_)
        assert content["event"] == json.loads(state)["event"]
    for block in blocks:
        if '"chain":' in block:  # a quoted state is a row's bytes exactly
            assert any(r[3] == block.encode() for r in hashes.values())
    for store in FROZEN:
        digest = (store.parent / "digest-sqlite.txt").read_text("utf-8").strip()
        if store.parent.name in ("format-1", "format-3"):
            assert digest in text


def _chunks(lines: list[str], count: int) -> list[list[str]]:
    size = -(-len(lines) // count)
    return [lines[i : i + size] for i in range(0, len(lines), size)]


def _capture(argv: list[str]) -> str:
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(argv) == 0
    return out.getvalue().strip()
