"""Children's data: never in the clear in the store, erased by destroying a key, figures kept.

Told on the demo's Linköping history (47 enrolments of invented children and
parents, ILL-C… and ILL-P…), on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from contextlib import redirect_stderr, redirect_stdout
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from biv_adapters.cli import main
from biv_adapters.demo import CASE_NUMBER, linkoping_lines
from tests.conftest import DURABLE, durable_store, stored_bytes

REFS = sorted(
    {
        json.loads(line)["participant_ref"]
        for line in linkoping_lines()
        if "enroll_participant" in line
    }
)
CHILD = "ILL-C001"
YEAR = ["--from", "2023-04-01", "--to", "2024-03-31"]


@pytest.fixture(params=DURABLE)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A store holding the demo's history."""
    with durable_store(request.param, tmp_path, "children") as (url, _schema):
        biv("demo", "--store", url)
        yield url


def biv(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


def query(store: str, *argv: str) -> Any:
    code, out, err = biv(*argv, "--json", "--store", store)
    assert code == 0, err
    return json.loads(out)


def rows(store: str) -> int:
    return int(query(store, "store", "info")["facts"])


def test_no_participant_reference_is_in_the_stores_bytes(store: str) -> None:
    # Given the demo's history, recorded by the partner's references
    assert len(REFS) == 47
    data = stored_bytes(store)
    # Then none of them is anywhere in what the store keeps
    assert [ref for ref in REFS if ref.encode() in data] == []
    # And yet the ledger reads them back to those who may read the store
    history = query(store, "history", CASE_NUMBER)["facts"]
    enrolled = {f["data"]["participant_ref"] for f in history if f["type"] == "ParticipantEnrolled"}
    assert enrolled == set(REFS)


def test_an_erased_child_is_counted_still_but_never_read_again(store: str) -> None:
    # Given the year's figures, a follow-up submitted in it, and a digest an auditor kept
    before = query(store, "report", CASE_NUMBER, *YEAR)
    submitted = query(store, "report", CASE_NUMBER, "--follow-up", "ILL-2023-H1")
    digest = biv("audit", "digest", "--store", store)[1].strip()
    known_then = datetime.now(UTC).isoformat()

    # When the child's data is erased
    code, out, err = biv("erase", CHILD, "--reason", "guardian's request", "--store", store)
    assert (code, err) == (0, "")
    assert "erased the personal data of 1 participant" in out

    # Then the figures hold: the child is still one of the participants, their sessions
    # count, the targets are met or missed as before; only the breakdowns cannot say who
    after = query(store, "report", CASE_NUMBER, *YEAR)
    for figure in ("participants", "sessions", "groups", "targets", "support_minutes"):
        assert after[figure] == before[figure], figure
    assert sum(after["by_gender"].values()) == sum(before["by_gender"].values())
    assert after["by_gender"]["unknown"] == before["by_gender"].get("unknown", 0) + 1
    assert after["by_age_band"]["unknown"] == 1
    # The figures frozen in the submitted report are unchanged
    frozen = query(store, "report", CASE_NUMBER, "--follow-up", "ILL-2023-H1")["follow_up"]
    assert frozen["submitted"] == submitted["follow_up"]["submitted"]
    # History shows the child as erased, never the reference
    history = json.dumps(query(store, "history", CASE_NUMBER))
    assert CHILD not in history
    assert "erased-" in history
    # As known before the erasure: the same aggregates, and still never the erased data
    past = query(store, "report", CASE_NUMBER, *YEAR, "--as-known-at", known_then)
    assert past["participants"] == before["participants"]
    assert CHILD not in json.dumps(
        query(store, "history", CASE_NUMBER, "--as-known-at", known_then)
    )
    # The chain holds, and the auditor's digest from before the erasure still verifies
    assert biv("audit", "verify", "--digest", digest, "--store", store)[0] == 0
    # Nothing of the child is left in the store's bytes
    assert CHILD.encode() not in stored_bytes(store)


def test_erasing_twice_or_an_unknown_reference_is_refused_and_stores_nothing(store: str) -> None:
    assert biv("erase", CHILD, "--reason", "asked", "--store", store)[0] == 0
    stored = rows(store)
    for ref, words in ((CHILD, "already erased"), ("NO-SUCH-CHILD", "no participant")):
        code, _out, err = biv("erase", ref, "--reason", "asked", "--store", store)
        assert code == 1
        assert words in err
        assert err.count("\n") == 1
        assert rows(store) == stored


def test_an_erased_reference_is_never_enrolled_again(store: str, tmp_path: Path) -> None:
    assert biv("erase", CHILD, "--reason", "asked", "--store", store)[0] == 0
    line = {
        "command": "enroll_participant",
        "group_ref": "ILL-2023-RYD-2",
        "participant_ref": CHILD,
        "enrolled_on": "2023-09-01",
        "gender": "girl",
        "age": 9,
    }
    exchange = tmp_path / "again.jsonl"
    exchange.write_text(json.dumps(line) + "\n", "utf-8")
    code, _out, err = biv("import", str(exchange), "--store", store)
    assert code == 1
    assert "participant_ref" in err
    assert "new reference" in err


def test_retention_erases_the_children_of_groups_closed_before_the_day(
    store: str, tmp_path: Path
) -> None:
    # Given groups completed in July and November 2023, and others still open in 2024
    retention = {
        "id": "gallring/2024",
        "command": "apply_retention",
        "ended_before": "2023-08-01",
        "reason": "gallringsbeslut SN 2024-01",
        "decided_on": "2024-01-15",
    }
    exchange = tmp_path / "retention.jsonl"
    exchange.write_text(json.dumps(retention) + "\n", "utf-8")
    before = query(store, "report", CASE_NUMBER, *YEAR)
    # When the retention schedule is carried out
    code, out, err = biv("import", str(exchange), "--store", store)
    assert (code, err) == (0, "")
    erased = int(re.findall(r"erased the data of ([0-9]+) participants", out)[0])
    # Then the children of the groups closed before August are erased, and counted still
    assert erased > 0
    after = query(store, "report", CASE_NUMBER, *YEAR)
    assert after["participants"] == before["participants"]
    assert after["by_gender"]["unknown"] >= erased - after["parents"]
    history = json.dumps(query(store, "history", CASE_NUMBER))
    assert history.count("erased-") > 0
    # Carried out again (the same id), it is skipped; a new run finds no one left to erase
    assert biv("import", str(exchange), "--store", store)[1].startswith("applied 0 lines")


def test_the_destroyed_key_is_gone_from_the_sqlite_file_and_its_wal(tmp_path: Path) -> None:
    from biv_adapters.stores.registry import open_ledger

    url = f"sqlite://{tmp_path}/biv.sqlite3"
    biv("demo", "--store", url)
    ledger = open_ledger(url)
    record = ledger.keys.lookup(ledger.keys.subject_of(CHILD))
    ledger.close()
    assert record is not None
    assert record.key is not None
    assert record.key in stored_bytes(url)
    assert biv("erase", CHILD, "--reason", "asked", "--store", url)[0] == 0
    assert record.key not in stored_bytes(url)
    assert record.sealed_ref is not None
    assert record.sealed_ref.encode() not in stored_bytes(url)
