"""The write path stores exactly what the envelope's one table describes.

The ledger seals, hashes and encodes a batch in one pass (`ledger.sealing`, each
fact through `envelope.write`). These tests hold that to the Envelope's own form
(what verification and every reader go by): every row written reads back as an
envelope that encodes to the very same bytes and whose hash is the one
verification computes.
"""

from __future__ import annotations

import gc
import itertools
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from eventsourcing.persistence import StoredEvent

from biv_adapters.demo import linkoping_lines
from biv_adapters.exchange import read_lines
from biv_adapters.stores.registry import new_cipher_key, open_ledger
from biv_adapters.stores.views import SqlFundingView
from biv_domain.converter import canonical_json, converter, parse_json
from biv_domain.ledger import LineRefused
from biv_domain.ledger.envelope import (
    KEYS,
    ChainPlace,
    Envelope,
    read_envelope,
    stored_content,
    stored_hash,
)
from biv_domain.ledger.unit_of_work import LARGE_BATCH
from tests.builders import exchange_lines
from tests.conftest import DURABLE, durable_store


@pytest.mark.parametrize(
    ("personal", "encrypted", "actor"),
    list(itertools.product([None, 1], [None, 1], [None, "Eva"])),
)
def test_an_envelope_is_stored_with_a_later_formats_keys_only_where_it_has_them(
    personal: int | None, encrypted: int | None, actor: str | None
) -> None:
    event = {"group_ref": "G1", "attendees": ["a", "b"], "held_on": "2024-01-02", "å": "ö"}
    chain = (7, "ab" * 32, "cd" * 32)
    envelope = Envelope(
        recorded_at="2024-01-01T12:00:00+00:00",
        actor=actor,
        event=event,
        chain=ChainPlace(*chain),
        schema=2,
        personal=personal,
        encrypted=encrypted,
    )
    written = envelope_stored_bytes(envelope)
    absent = {k for k, v in {"personal": personal, "encrypted": encrypted}.items() if v is None}
    assert set(parse_json(written)) == set(KEYS) - absent
    assert read_envelope(StoredEvent("group:G1", 1, "SessionHeld", written)) == envelope
    # The chain hashes the same keys, the row's and the chain place's beside them.
    hashed = stored_content("group:G1", 1, "SessionHeld", envelope)
    row = {"stream", "version", "type", "position", "previous"}
    assert set(parse_json(hashed)) == set(KEYS) - absent - {"chain"} | row


def test_the_envelopes_table_is_the_one_the_verification_doc_gives_an_auditor() -> None:
    """docs/verification.md's table of the envelope's keys by format (section 2) names the
    keys of `envelope.KEYS`, each first present in the format that introduced it."""
    doc = (Path(__file__).parents[2] / "docs" / "verification.md").read_text()
    rows = re.findall(r"^\| `(\w+)` \| (\w+) \| (\w+(?: \w+)?) \| (\w+(?: \w+)?) \|", doc, re.M)
    table = {key: formats for key, *formats in rows}
    assert set(table) == set(KEYS)
    for key, since in KEYS.items():
        present = [n for n, said in enumerate(table[key], start=1) if said != "absent"]
        # `encrypted` is absent from every format's plain store: the doc says "format 3 on".
        assert present[:1] == [since] or (key == "encrypted" and not present and since == 3)


def envelope_stored_bytes(envelope: Envelope) -> bytes:
    """The envelope as `docs/verification.md` says it is stored, written here on its own:
    canonical JSON of its keys, a later format's key absent (never null) where it has none."""
    keys = converter.unstructure(envelope)
    return canonical_json({k: v for k, v in keys.items() if KEYS[k] == 1 or v is not None})


@pytest.fixture(params=DURABLE)
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with durable_store(request.param, tmp_path, "write_path") as (url, _schema):
        yield url


@pytest.mark.parametrize("encrypted", [False, True])
def test_every_row_of_a_batch_reads_back_as_written_and_hashed(
    empty_url: str, encrypted: bool
) -> None:
    cipher_key = new_cipher_key() if encrypted else None
    ledger = open_ledger(empty_url, cipher_key=cipher_key, actor="Eva")
    try:
        ledger.execute_all(read_lines(linkoping_lines()))
        big = [json.dumps(line) for line in exchange_lines(300)]
        receipt = ledger.execute_all(read_lines(big))
        rows = list(ledger.rows())
        assert len(rows) == receipt.facts[-1].position
        for row in rows:
            envelope = read_envelope(row)
            assert envelope_stored_bytes(envelope) == row.state
            assert envelope.chain.hash == stored_hash(
                str(row.originator_id), row.originator_version, row.topic, envelope
            )
        # The store's own streams (the chain's seals) stay readable without the key.
        assert any(read_envelope(row).encrypted for row in rows) == encrypted
        # The facts the receipt gives are the facts as stored and read back.
        assert [f.hash for f in receipt.facts] == [f.hash for f in ledger.facts()][
            -len(receipt.facts) :
        ]
        assert ledger.verify_chain().intact
    finally:
        ledger.close()


def test_the_funding_view_follows_batches_of_two_writers_and_a_rebuild(tmp_path: Path) -> None:
    """A batch follows into the view from its own facts only while nobody else wrote;
    whatever the interleaving, the view ends as a rebuild from every fact makes it."""
    url = f"sqlite://{tmp_path}/biv.sqlite3"
    lines = [json.dumps(line) for line in exchange_lines(1200)]
    chunks = [lines[start : start + 60] for start in range(0, len(lines), 60)]
    one, other = open_ledger(url, actor="Eva"), open_ledger(url, actor="Per")
    try:
        for n, chunk in enumerate(chunks):
            # Runs of batches by one writer (followed), then switches (caught up).
            writer = one if (n // 3) % 2 == 0 else other
            writer.execute_all(read_lines(chunk))
            if n == 10:
                other.rebuild()
            view = writer.funding_view
            assert view.position() == writer.app.recorder.max_notification_id()
        stored = one.funding_view.rows()
        assert len(stored.agreements) == sum('"conclude_agreement"' in line for line in lines)
        one.rebuild()
        assert one.funding_view.rows() == stored
    finally:
        one.close()
        other.close()


def test_a_large_batch_pauses_the_cycle_collector_only_while_it_runs(tmp_path: Path) -> None:
    ledger = open_ledger(f"sqlite://{tmp_path}/biv.sqlite3")
    seen: list[bool] = []
    decide = ledger._decide_lines

    def watched(batch: Any, lines: Any) -> int:
        seen.append(gc.isenabled())
        return decide(batch, lines)

    ledger._decide_lines = watched  # type: ignore[method-assign]
    try:
        lines = [json.dumps(line) for line in exchange_lines(LARGE_BATCH)]
        refused = json.dumps({"command": "hold_session", "group_ref": "nowhere",
                              "held_on": "2023-03-01", "attendees": ["x"]})  # fmt: skip
        with pytest.raises(LineRefused):
            ledger.execute_all(read_lines([*lines, refused]))
        assert gc.isenabled()
        ledger.execute_all(read_lines(lines[:10]))
        assert gc.isenabled()
        assert seen == [False, True]  # paused for the large batch only
    finally:
        ledger.close()


def test_a_view_that_fails_within_the_batch_never_undoes_the_batch(
    empty_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The view follows a batch in the batch's own transaction, under a savepoint: when
    its write fails, the facts are stored all the same and the view catches up after."""
    lines = [json.dumps(line) for line in exchange_lines(400)]
    ledger = open_ledger(empty_url)
    try:
        ledger.execute_all(read_lines(lines[:100]))
        failures: list[object] = []
        write = SqlFundingView._write

        def fail_once(self: SqlFundingView, c: Any, rows: Any) -> None:
            if not failures:
                failures.append(rows)
                raise RuntimeError("the view's table is gone")
            write(self, c, rows)

        monkeypatch.setattr(SqlFundingView, "_write", fail_once)
        receipt = ledger.execute_all(read_lines(lines[100:300]))  # concludes agreement 2
        assert failures  # the view's write in the batch's transaction failed
        assert [f.hash for f in ledger.facts()][-len(receipt.facts) :] == [
            f.hash for f in receipt.facts
        ]
        assert ledger.verify_chain().intact
        view = ledger.funding_view
        assert view.position() == ledger.app.recorder.max_notification_id()
        assert len(view.rows().agreements) == 2
    finally:
        ledger.close()
