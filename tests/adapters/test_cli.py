"""The `biv` command line, as the contract in ../shared/interface.md and the README describe it.

Most tests call `biv_adapters.cli.main` in the test's process on an SQLite file;
a few run `biv` as a real process to see its exit codes and standard error.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple

import pytest

from biv_adapters.cli import main
from biv_adapters.demo import CASE_NUMBER
from biv_adapters.exchange import read_lines
from biv_adapters.stores.registry import open_ledger
from tests.conftest import Clock

CASE = "Dnr 2099-7"

CONCLUDE: dict[str, Any] = {
    "id": "t/01",
    "command": "conclude_agreement",
    "case_number": CASE,
    "title": "Barn i väntan, test",
    "municipality": "Kommunen",
    "partner": "Föreningen",
    "start": "2023-01-01",
    "end": "2023-12-31",
    "notice_months": 6,
    "decided_on": "2023-01-01",
}
FUNDING: dict[str, Any] = {
    "id": "t/02",
    "command": "set_funding",
    "case_number": CASE,
    "party": "municipality",
    "source": "committee_budget",
    "start": "2023-01-01",
    "end": "2023-12-31",
    "amount": "100000",
    "decided_on": "2023-01-01",
}
TARGET: dict[str, Any] = {
    "id": "t/03",
    "command": "set_target",
    "case_number": CASE,
    "target": "groups_per_year",
    "value": 6,
    "decided_on": "2023-01-01",
}
PLAN: dict[str, Any] = {
    "id": "t/04",
    "command": "plan_group",
    "group_ref": "T-G1",
    "case_number": CASE,
    "kind": "children",
    "area": "Ryd",
    "starts_on": "2023-02-01",
}
ENROL: dict[str, Any] = {
    "id": "t/05",
    "command": "enroll_participant",
    "group_ref": "T-G1",
    "participant_ref": "T-C1",
    "enrolled_on": "2023-01-25",
    "gender": "girl",
    "age": 9,
}
SESSION: dict[str, Any] = {
    "id": "t/06",
    "command": "hold_session",
    "group_ref": "T-G1",
    "held_on": "2023-02-01",
    "attendees": ["T-C1"],
}
GOOD = [CONCLUDE, FUNDING, TARGET, PLAN, ENROL, SESSION]
GOOD_TYPES = [
    "AgreementConcluded",
    "FundingChanged",
    "TargetSet",
    "GroupPlanned",
    "ParticipantEnrolled",
    "SessionHeld",
]


class Result(NamedTuple):
    code: int
    out: str
    err: str


def jsonl(lines: Sequence[dict[str, Any] | str]) -> str:
    return "".join(
        (line if isinstance(line, str) else json.dumps(line, ensure_ascii=False)) + "\n"
        for line in lines
    )


def write(path: Path, lines: Sequence[dict[str, Any] | str]) -> Path:
    path.write_text(jsonl(lines), encoding="utf-8")
    return path


def biv(capsys: pytest.CaptureFixture[str], *argv: str) -> Result:
    """`biv ARGV…` in this process: its exit code (argparse's SystemExit too) and output."""
    capsys.readouterr()
    try:
        code = main(list(argv))
    except SystemExit as leaving:
        code = leaving.code if isinstance(leaving.code, int) else 1
    out, err = capsys.readouterr()
    return Result(code, out, err)


def one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


def names_line_and_field(err: str, number: int, field: str) -> None:
    line = one_line(err)
    assert re.search(rf"\bline {number}\b", line), line
    assert field in line, line


@pytest.fixture
def store(tmp_path: Path) -> str:
    return f"sqlite://{tmp_path}/biv.sqlite3"


@pytest.fixture
def good_file(tmp_path: Path) -> Path:
    return write(tmp_path / "good.jsonl", GOOD)


def history(capsys: pytest.CaptureFixture[str], store: str, *more: str) -> dict[str, Any]:
    result = biv(capsys, "history", CASE, "--json", "--store", store, *more)
    assert result.code == 0, result.err
    document: dict[str, Any] = json.loads(result.out)
    return document


def stored_facts(store: str) -> int:
    ledger = open_ledger(store)
    try:
        return len(list(ledger.facts()))
    finally:
        ledger.close()


# --- biv import ------------------------------------------------------------------------------


def test_import_applies_a_file_and_says_how_many_lines(
    capsys: pytest.CaptureFixture[str], store: str, good_file: Path
) -> None:
    result = biv(capsys, "import", str(good_file), "--store", store)
    assert result.code == 0, result.err
    assert result.err == ""
    assert "applied 6" in result.out
    assert "skipped 0" in result.out
    assert [f["type"] for f in history(capsys, store)["facts"]] == GOOD_TYPES


def test_import_json_says_applied_and_skipped(
    capsys: pytest.CaptureFixture[str], store: str, good_file: Path
) -> None:
    result = biv(capsys, "import", str(good_file), "--json", "--store", store)
    assert result.code == 0
    assert json.loads(result.out) == {"applied": 6, "skipped": 0}


def test_importing_the_same_file_again_skips_every_line_with_an_id(
    capsys: pytest.CaptureFixture[str], store: str, good_file: Path
) -> None:
    assert biv(capsys, "import", str(good_file), "--store", store).code == 0
    before = stored_facts(store)
    again = biv(capsys, "import", str(good_file), "--store", store)
    assert again.code == 0, again.err
    assert "applied 0" in again.out
    assert "skipped 6" in again.out
    assert stored_facts(store) == before


def test_a_line_without_id_is_applied_again_while_lines_with_ids_are_skipped(
    capsys: pytest.CaptureFixture[str], store: str, tmp_path: Path
) -> None:
    no_id = {k: v for k, v in TARGET.items() if k != "id"}
    path = write(tmp_path / "mixed.jsonl", [CONCLUDE, FUNDING, no_id])
    assert "applied 3" in biv(capsys, "import", str(path), "--store", store).out
    again = biv(capsys, "import", str(path), "--store", store)
    assert again.code == 0, again.err
    assert "applied 1" in again.out
    assert "skipped 2" in again.out
    types = [f["type"] for f in history(capsys, store)["facts"]]
    assert types.count("TargetSet") == 2


def test_import_reads_standard_input_for_a_dash(
    capsys: pytest.CaptureFixture[str], store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(jsonl(GOOD)))
    result = biv(capsys, "import", "-", "--store", store)
    assert result.code == 0, result.err
    assert "applied 6" in result.out
    assert len(history(capsys, store)["facts"]) == 6


def test_blank_lines_are_passed_over(
    capsys: pytest.CaptureFixture[str], store: str, tmp_path: Path
) -> None:
    path = write(tmp_path / "blank.jsonl", ["", CONCLUDE, "   ", FUNDING, ""])
    result = biv(capsys, "import", str(path), "--store", store)
    assert result.code == 0, result.err
    assert "applied 2" in result.out


BAD_AMOUNT = {**FUNDING, "id": "t/bad", "amount": 1234.5}


@pytest.mark.parametrize("position", [0, 3, 6])
def test_one_bad_line_anywhere_refuses_the_whole_file(
    capsys: pytest.CaptureFixture[str], store: str, tmp_path: Path, position: int
) -> None:
    lines: list[dict[str, Any] | str] = [*GOOD]
    lines.insert(position, BAD_AMOUNT)
    path = write(tmp_path / "bad.jsonl", lines)
    result = biv(capsys, "import", str(path), "--store", store)
    assert result.code == 1
    assert result.out == ""
    names_line_and_field(result.err, position + 1, "amount")
    # Nothing stored: the agreement is unknown, and the store holds no fact at all.
    unknown = biv(capsys, "history", CASE, "--store", store)
    assert unknown.code == 1
    assert stored_facts(store) == 0
    # Nor were the good lines' ids marked as applied.
    good = biv(capsys, "import", str(write(tmp_path / "good.jsonl", GOOD)), "--store", store)
    assert "applied 6" in good.out


def test_a_line_refused_by_a_rule_after_good_lines_stores_nothing(
    capsys: pytest.CaptureFixture[str], store: str, tmp_path: Path
) -> None:
    outside = {**FUNDING, "id": "t/outside", "end": "2024-06-30"}  # beyond the agreement's end
    path = write(tmp_path / "rule.jsonl", [*GOOD, outside])
    result = biv(capsys, "import", str(path), "--store", store)
    assert result.code == 1
    names_line_and_field(result.err, 7, "end")
    assert stored_facts(store) == 0


def test_the_line_number_counts_blank_lines(
    capsys: pytest.CaptureFixture[str], store: str, tmp_path: Path
) -> None:
    path = write(tmp_path / "bad.jsonl", [CONCLUDE, "", FUNDING, "", BAD_AMOUNT])
    result = biv(capsys, "import", str(path), "--store", store)
    assert result.code == 1
    names_line_and_field(result.err, 5, "amount")


def test_the_same_id_twice_in_one_file_is_refused(
    capsys: pytest.CaptureFixture[str], store: str, tmp_path: Path
) -> None:
    twice = {**TARGET, "id": FUNDING["id"]}
    path = write(tmp_path / "twice.jsonl", [CONCLUDE, FUNDING, twice])
    result = biv(capsys, "import", str(path), "--store", store)
    assert result.code == 1
    names_line_and_field(result.err, 3, "id")
    assert stored_facts(store) == 0


def test_a_json_float_amount_is_refused_naming_amount(
    capsys: pytest.CaptureFixture[str], store: str, tmp_path: Path
) -> None:
    path = tmp_path / "float.jsonl"
    path.write_text(
        jsonl([CONCLUDE]) + json.dumps(FUNDING).replace('"100000"', "100000.0") + "\n",
        encoding="utf-8",
    )
    result = biv(capsys, "import", str(path), "--store", store)
    assert result.code == 1
    names_line_and_field(result.err, 2, "amount")
    assert stored_facts(store) == 0


def _without(line: dict[str, Any], field: str) -> dict[str, Any]:
    return {k: v for k, v in line.items() if k != field}


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        pytest.param({**TARGET, "command": "sign_agreement"}, "command", id="unknown-command"),
        pytest.param(_without(TARGET, "command"), "command", id="no-command"),
        pytest.param({**TARGET, "signed_by": "x"}, "signed_by", id="unknown-field"),
        pytest.param(_without(TARGET, "value"), "value", id="missing-field"),
        pytest.param(_without(FUNDING, "decided_on"), "decided_on", id="missing-date"),
        pytest.param({**FUNDING, "start": "2023-02-30"}, "start", id="date-not-in-calendar"),
        pytest.param({**FUNDING, "start": "2023/01/01"}, "start", id="date-with-slashes"),
        pytest.param({**FUNDING, "end": 20231231}, "end", id="date-as-number"),
        pytest.param({**FUNDING, "amount": 100000}, "amount", id="amount-as-number"),
        pytest.param({**FUNDING, "amount": "100,50"}, "amount", id="amount-with-comma"),
        pytest.param({**FUNDING, "amount": "10.005"}, "amount", id="amount-three-decimals"),
        pytest.param({**FUNDING, "amount": "-5"}, "amount", id="amount-negative"),
        pytest.param({**FUNDING, "party": "kommunen"}, "party", id="party-unknown"),
        pytest.param({**TARGET, "value": "6"}, "value", id="count-as-string"),
        pytest.param({**TARGET, "value": 6.0}, "value", id="count-as-float"),
        pytest.param({**TARGET, "target": "sessions_per_year"}, "target", id="target-unknown"),
        pytest.param({**PLAN, "kind": "adults"}, "kind", id="kind-unknown"),
        pytest.param({**PLAN, "planned_sessions": "14"}, "planned_sessions", id="sessions-str"),
        pytest.param({**ENROL, "age": "9"}, "age", id="age-as-string"),
        pytest.param({**ENROL, "gender": "f"}, "gender", id="gender-unknown"),
        pytest.param({**SESSION, "attendees": "T-C1"}, "attendees", id="attendees-not-list"),
        pytest.param({**TARGET, "case_number": 2016292}, "case_number", id="text-as-number"),
        pytest.param({**TARGET, "id": 3}, "id", id="id-as-number"),
        pytest.param("{not json", "line", id="not-json"),
        pytest.param("[1, 2]", "line", id="not-an-object"),
    ],
)
def test_a_bad_line_is_refused_naming_line_and_field(
    capsys: pytest.CaptureFixture[str],
    store: str,
    tmp_path: Path,
    bad: dict[str, Any] | str,
    field: str,
) -> None:
    path = write(tmp_path / "bad.jsonl", [*GOOD, bad])
    result = biv(capsys, "import", str(path), "--store", store)
    assert result.code == 1
    assert result.out == ""
    names_line_and_field(result.err, 7, field)
    assert stored_facts(store) == 0


def test_a_missing_file_is_refused_in_one_line(
    capsys: pytest.CaptureFixture[str], store: str, tmp_path: Path
) -> None:
    result = biv(capsys, "import", str(tmp_path / "nowhere.jsonl"), "--store", store)
    assert result.code == 2
    assert "nowhere.jsonl" in one_line(result.err)


def test_a_file_that_is_not_utf8_is_refused_in_one_line(
    capsys: pytest.CaptureFixture[str], store: str, tmp_path: Path
) -> None:
    path = tmp_path / "latin1.jsonl"
    path.write_bytes(jsonl([CONCLUDE]).encode("latin-1"))
    result = biv(capsys, "import", str(path), "--store", store)
    assert result.code == 1
    one_line(result.err)
    assert stored_facts(store) == 0


def test_a_refusal_is_one_line_even_when_a_value_holds_a_newline(
    capsys: pytest.CaptureFixture[str], store: str, tmp_path: Path
) -> None:
    odd = {**CONCLUDE, "case_number": "Dnr\n2099-8"}
    path = write(tmp_path / "odd.jsonl", [odd, {**odd, "id": "t/01b"}])
    result = biv(capsys, "import", str(path), "--store", store)
    assert result.code == 1
    # A case number holds no control character (issue 22): refused at once, in one line
    names_line_and_field(result.err, 1, "case_number")


# --- Usage errors: exit 2 --------------------------------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [
        pytest.param([], id="no-command"),
        pytest.param(["frobnicate"], id="unknown-subcommand"),
        pytest.param(["budget", CASE], id="budget-without-on"),
        pytest.param(["budget", "--on", "2023-01-01"], id="budget-without-case"),
        pytest.param(["budget", CASE, "--on", "2023-02-30"], id="on-not-in-calendar"),
        pytest.param(["budget", CASE, "--on", "2023/01/01"], id="on-with-slashes"),
        pytest.param(["budget", CASE, "--on", "20230101"], id="on-basic-format"),
        pytest.param(["budget", CASE, "--on", "yesterday"], id="on-a-word"),
        pytest.param(["budget", CASE, "--on", "2023-01-01", "--split", "weeks"], id="bad-split"),
        pytest.param(["report", CASE, "--from", "2023-01-01"], id="report-without-to"),
        pytest.param(["report", CASE, "--to", "2023-01-01"], id="report-without-from"),
        pytest.param(
            ["report", CASE, "--from", "2023-05-01", "--to", "2023-04-01"], id="to-before-from"
        ),
        pytest.param(["history", CASE, "--as-known-at", "yesterday"], id="as-known-at-a-word"),
        pytest.param(
            ["history", CASE, "--as-known-at", "2023-10-31T25:00"], id="as-known-at-hour-25"
        ),
        pytest.param(["import"], id="import-without-file"),
        pytest.param(["history"], id="history-without-case"),
        pytest.param(["history", CASE, "--frobnicate"], id="unknown-option"),
        pytest.param(
            ["budget", CASE, "--on", "2023-W40-1"],
            id="on-iso-week-date",
        ),
    ],
)
def test_usage_errors_exit_2(
    capsys: pytest.CaptureFixture[str], store: str, argv: list[str]
) -> None:
    result = biv(capsys, *argv, "--store", store) if argv else biv(capsys)
    assert result.code == 2, result
    assert result.err.strip()
    assert result.out == ""


@pytest.mark.parametrize(
    "url",
    [
        "bogus://somewhere",
        "nothing-like-a-url",
        "memory:extra",
        "sqlite:///no/such/folder/biv.sqlite3",
        "sqlite://relative/without/third/slash.sqlite3",
        "sqlite:",
        "postgresql://",
        "postgresql://host-only",
    ],
)
def test_a_bad_store_url_exits_2_in_one_line(capsys: pytest.CaptureFixture[str], url: str) -> None:
    result = biv(capsys, "--store", url, "history", CASE)
    assert result.code == 2
    one_line(result.err)
    assert biv(capsys, "history", CASE, "--store", url).code == 2


def test_an_unreachable_postgresql_store_is_refused_in_one_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    result = biv(capsys, "--store", "postgresql://nobody@127.0.0.1:1/biv?schema=t", "history", CASE)
    assert result.code == 2
    one_line(result.err)


# --- biv history ------------------------------------------------------------------------------


def test_history_json_lists_every_fact_in_recorded_order(
    capsys: pytest.CaptureFixture[str], store: str, tmp_path: Path
) -> None:
    first = write(tmp_path / "first.jsonl", GOOD[:3])
    later = write(tmp_path / "later.jsonl", GOOD[3:])
    assert biv(capsys, "import", str(first), "--store", store).code == 0
    assert biv(capsys, "import", str(later), "--store", store).code == 0
    document = history(capsys, store)
    assert set(document) >= {"case_number", "as_known_at", "facts"}
    assert document["case_number"] == CASE
    assert document["as_known_at"] is None
    facts = document["facts"]
    assert [f["type"] for f in facts] == GOOD_TYPES
    for fact in facts:
        assert {"recorded_at", "effective_on", "type", "aggregate", "data"} <= set(fact)
        assert isinstance(fact["data"], dict)
        assert datetime.fromisoformat(fact["recorded_at"]).utcoffset() is not None
    recorded = [datetime.fromisoformat(f["recorded_at"]) for f in facts]
    assert recorded == sorted(recorded)
    assert recorded[2] < recorded[3]  # the second import came later
    assert [f["effective_on"] for f in facts] == [
        "2023-01-01",
        "2023-01-01",
        "2023-01-01",
        "2023-02-01",
        "2023-01-25",
        "2023-02-01",
    ]
    agreement = {f["aggregate"] for f in facts[:3]}
    group = {f["aggregate"] for f in facts[3:]}
    assert len(agreement) == 1
    assert len(group) == 1
    assert agreement != group
    assert facts[1]["data"]["amount"] == "100000.00"
    assert facts[0]["data"]["case_number"] == CASE


def test_history_without_json_prints_a_table(
    capsys: pytest.CaptureFixture[str], store: str, good_file: Path
) -> None:
    assert biv(capsys, "import", str(good_file), "--store", store).code == 0
    result = biv(capsys, "history", CASE, "--store", store)
    assert result.code == 0
    assert CASE in result.out
    assert "SessionHeld" in result.out


@pytest.mark.parametrize(
    "argv",
    [
        ["history", "Dnr 0000-0"],
        ["history", "Dnr 0000-0", "--json"],
        ["budget", "Dnr 0000-0", "--on", "2023-01-01", "--json"],
        ["report", "Dnr 0000-0", "--from", "2023-01-01", "--to", "2023-12-31", "--json"],
    ],
)
def test_an_unknown_case_exits_1_in_one_line(
    capsys: pytest.CaptureFixture[str], store: str, good_file: Path, argv: list[str]
) -> None:
    assert biv(capsys, "import", str(good_file), "--store", store).code == 0
    result = biv(capsys, *argv, "--store", store)
    assert result.code == 1
    assert result.out == ""
    assert "Dnr 0000-0" in one_line(result.err)


# --- --as-known-at -------------------------------------------------------------------------


T_CONCLUDED = datetime(2023, 1, 10, 9, 0, tzinfo=UTC)
T_EXTENDED = datetime(2023, 6, 15, 10, 0, tzinfo=UTC)
T_FUNDED = datetime(2023, 6, 16, 8, 0, tzinfo=UTC)


@pytest.fixture
def far_from_utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The machine's local time is not UTC, so a time without a zone must not be read as local."""
    monkeypatch.setenv("TZ", "America/Sao_Paulo")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture
def timed_store(store: str) -> dict[str, datetime]:
    """An SQLite store written through the Python API at known recorded times."""
    clock = Clock()
    ledger = open_ledger(store, clock=clock)
    recorded = {}
    try:
        extend = {
            "command": "extend_agreement",
            "case_number": CASE,
            "end": "2024-03-31",
            "decided_on": "2023-06-01",
        }
        batches = {
            "concluded": (T_CONCLUDED, [CONCLUDE]),
            "extended": (T_EXTENDED, [extend]),
            "funded": (T_FUNDED, [FUNDING]),
        }
        for name, (moment, lines) in batches.items():
            clock.set(moment)
            receipt = ledger.execute_all(read_lines(jsonl(lines).splitlines()))
            recorded[name] = receipt.facts[0].recorded_at
    finally:
        ledger.close()
    return recorded


def known_types(capsys: pytest.CaptureFixture[str], store: str, moment: str) -> list[str]:
    document = history(capsys, store, "--as-known-at", moment)
    return [f["type"] for f in document["facts"]]


def test_history_as_known_at_hides_facts_recorded_later(
    capsys: pytest.CaptureFixture[str], store: str, timed_store: dict[str, datetime]
) -> None:
    everything = ["AgreementConcluded", "AgreementExtended", "FundingChanged"]
    assert [f["type"] for f in history(capsys, store)["facts"]] == everything
    recorded = [datetime.fromisoformat(f["recorded_at"]) for f in history(capsys, store)["facts"]]
    assert recorded == [timed_store["concluded"], timed_store["extended"], timed_store["funded"]]
    assert known_types(capsys, store, "2023-06-15T09:59:59Z") == everything[:1]
    assert known_types(capsys, store, "2023-06-15T10:00:00.001Z") == everything[:2]
    assert known_types(capsys, store, "2099-01-01T00:00:00Z") == everything


def test_as_known_at_with_a_zone_is_converted_to_utc(
    capsys: pytest.CaptureFixture[str], store: str, timed_store: dict[str, datetime]
) -> None:
    # 10:00:00.001 UTC is when the extension was recorded: 12:00:00.001 in Stockholm's summer.
    assert len(known_types(capsys, store, "2023-06-15T12:00:00+02:00")) == 1
    assert len(known_types(capsys, store, "2023-06-15T12:00:00.001+02:00")) == 2
    assert len(known_types(capsys, store, "2023-06-15T06:00:00.001-04:00")) == 2
    document = history(capsys, store, "--as-known-at", "2023-06-15T12:00:00+02:00")
    assert document["as_known_at"] is not None
    assert datetime.fromisoformat(document["as_known_at"]) == datetime(
        2023, 6, 15, 10, 0, tzinfo=UTC
    )


@pytest.mark.usefixtures("far_from_utc")
def test_as_known_at_without_a_zone_is_utc(
    capsys: pytest.CaptureFixture[str], store: str, timed_store: dict[str, datetime]
) -> None:
    assert len(known_types(capsys, store, "2023-06-15T10:00:00")) == 1
    assert len(known_types(capsys, store, "2023-06-15T10:00:00.001")) == 2
    assert len(known_types(capsys, store, "2023-06-16T08:00:00")) == 2
    assert len(known_types(capsys, store, "2023-06-16T08:00:00.001")) == 3


@pytest.mark.usefixtures("far_from_utc")
def test_as_known_at_a_bare_date_means_the_end_of_that_day(
    capsys: pytest.CaptureFixture[str], store: str, timed_store: dict[str, datetime]
) -> None:
    assert len(known_types(capsys, store, "2023-06-14")) == 1
    assert len(known_types(capsys, store, "2023-06-15")) == 2
    assert len(known_types(capsys, store, "2023-06-16")) == 3
    # Before anything was recorded the agreement is unknown.
    assert biv(capsys, "history", CASE, "--store", store, "--as-known-at", "2023-01-09").code == 1


def test_as_known_at_a_bare_basic_format_date_means_the_end_of_that_day(
    capsys: pytest.CaptureFixture[str], store: str, timed_store: dict[str, datetime]
) -> None:
    assert len(known_types(capsys, store, "20230615")) == 2


def test_budget_as_known_at_hides_decisions_recorded_later(
    capsys: pytest.CaptureFixture[str], store: str, timed_store: dict[str, datetime]
) -> None:
    def budget(*more: str) -> dict[str, Any]:
        result = biv(
            capsys, "budget", CASE, "--on", "2023-10-01", "--json", "--store", store, *more
        )
        assert result.code == 0, result.err
        document: dict[str, Any] = json.loads(result.out)
        return document

    now = budget()
    assert now["end"] == "2024-03-31"
    assert now["in_force"]["municipality"] == "100000.00"
    before_extension = budget("--as-known-at", "2023-06-14")
    assert before_extension["end"] == "2023-12-31"
    assert before_extension["funding"] == []
    assert before_extension["in_force"]["total"] == "0.00"
    assert before_extension["as_known_at"].startswith("2023-06-14T23:59:59")
    before_funding = budget("--as-known-at", "2023-06-15T23:00:00Z")
    assert before_funding["end"] == "2024-03-31"
    assert before_funding["funding"] == []


def test_report_as_known_at_hides_sessions_recorded_later(
    capsys: pytest.CaptureFixture[str], store: str, good_file: Path
) -> None:
    assert biv(capsys, "import", str(good_file), "--store", store).code == 0
    argv = ["report", CASE, "--from", "2023-01-01", "--to", "2023-12-31", "--json"]
    now = json.loads(biv(capsys, *argv, "--store", store).out)
    assert (now["groups"], now["sessions"], now["participants"]) == (1, 1, 1)
    long_ago = biv(capsys, *argv, "--store", store, "--as-known-at", "2000-01-01")
    assert long_ago.code == 1  # the agreement was not yet recorded


# --- Where the store is ------------------------------------------------------------------


def test_store_before_or_after_the_subcommand(
    capsys: pytest.CaptureFixture[str], store: str, good_file: Path
) -> None:
    assert biv(capsys, "--store", store, "import", str(good_file)).code == 0
    before = biv(capsys, "--store", store, "history", CASE, "--json")
    after = biv(capsys, "history", CASE, "--json", "--store", store)
    assert before.code == after.code == 0
    assert json.loads(before.out) == json.loads(after.out)
    assert len(json.loads(before.out)["facts"]) == 6


def test_the_store_comes_from_biv_store(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    good_file: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("BIV_STORE", f"sqlite://{tmp_path}/from-env.sqlite3")
    assert biv(capsys, "import", str(good_file)).code == 0
    assert (tmp_path / "from-env.sqlite3").exists()
    assert not (tmp_path / "biv.sqlite3").exists()
    assert biv(capsys, "history", CASE).code == 0
    # --store wins over BIV_STORE.
    other = f"sqlite://{tmp_path}/other.sqlite3"
    assert biv(capsys, "history", CASE, "--store", other).code == 1
    assert biv(capsys, "--store", other, "history", CASE).code == 1


def test_the_default_store_is_biv_sqlite3_in_the_working_folder(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    good_file: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("BIV_STORE", raising=False)
    assert biv(capsys, "import", str(good_file)).code == 0
    assert (tmp_path / "biv.sqlite3").exists()
    assert len(history(capsys, f"sqlite://{tmp_path}/biv.sqlite3")["facts"]) == 6


def test_a_memory_store_keeps_nothing_between_runs(
    capsys: pytest.CaptureFixture[str], good_file: Path
) -> None:
    assert biv(capsys, "import", str(good_file), "--store", "memory:").code == 0
    assert biv(capsys, "history", CASE, "--store", "memory:").code == 1


# --- biv demo -------------------------------------------------------------------------------


def test_the_demo_twice_records_nothing_new_and_shows_the_first_answers(
    capsys: pytest.CaptureFixture[str], store: str
) -> None:
    first = biv(capsys, "demo", "--store", store)
    assert first.code == 0, first.err
    facts = len(
        json.loads(biv(capsys, "history", CASE_NUMBER, "--json", "--store", store).out)["facts"]
    )
    second = biv(capsys, "demo", "--store", store)
    assert second.code == 0, second.err
    assert "Recorded 178 lines (0 " in first.out
    assert "Recorded 0 lines (178 " in second.out
    again = json.loads(biv(capsys, "history", CASE_NUMBER, "--json", "--store", store).out)
    assert len(again["facts"]) == facts
    out = second.out
    assert CASE_NUMBER in out
    # The status.
    assert re.search(r"the agreement is (in force|ended|not started|under notice)", out)
    assert "status in_force, ends 2024-03-31, last day to give notice 2023-09-30" in out
    # The funding lines.
    for source, amount in [
        ("committee_budget", "530000.00"),
        ("state_grant_parenting_support", "200500.00"),
        ("committee_budget", "100000.00"),
        ("own_funds", "160000.00"),
    ]:
        assert re.search(rf"{source}\s+\S+\s+\S+\s+{amount}", out), (source, amount)
    assert "municipality 300500.00, partner 160000.00, total 460500.00" in out
    # The year's groups, sessions and children.
    assert "Report of Dnr 2016-292 for 2023-04-01 – 2024-03-31" in out
    assert re.search(r"children's groups that met\s+6\b", out)
    assert re.search(r"sessions of children's groups\s+84\b", out)
    assert re.search(r"children who attended\s+36\b", out)


def test_the_demo_as_json(capsys: pytest.CaptureFixture[str], store: str) -> None:
    result = biv(capsys, "demo", "--json", "--store", store)
    assert result.code == 0, result.err
    summary = json.loads(result.out)
    assert summary["recorded"] == {"applied": 178, "skipped": 0}
    assert summary["case_number"] == CASE_NUMBER
    assert summary["budget"]["in_force"]["total"] == "460500.00"
    assert summary["year"]["groups"] == 6
    assert summary["year"]["participants"] == 36
    again = json.loads(biv(capsys, "demo", "--json", "--store", store).out)
    assert again["recorded"] == {"applied": 0, "skipped": 178}
    assert {k: v for k, v in again.items() if k != "recorded"} == {
        k: v for k, v in summary.items() if k != "recorded"
    }


# --- As a real process: exit codes and standard error ---------------------------------------


def run(argv: Sequence[str], cwd: Path, store: str, stdin: str | None = None) -> Result:
    env = {**os.environ, "BIV_STORE": store}
    done = subprocess.run(
        [sys.executable, "-m", "biv_adapters.cli", *argv],
        cwd=cwd,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return Result(done.returncode, done.stdout, done.stderr)


def test_a_process_exits_0_1_and_2(tmp_path: Path, store: str, good_file: Path) -> None:
    applied = run(["import", str(good_file)], tmp_path, store)
    assert applied.code == 0, applied.err
    assert "applied 6" in applied.out
    bad = write(tmp_path / "bad.jsonl", [*GOOD[:2], {**TARGET, "id": "t/x", "value": "6"}])
    refused = run(["import", str(bad)], tmp_path, store)
    assert refused.code == 1
    assert refused.out == ""
    names_line_and_field(refused.err, 3, "value")
    assert run(["history", "Dnr 0000-0"], tmp_path, store).code == 1
    assert run(["budget", CASE], tmp_path, store).code == 2
    assert run(["budget", CASE, "--on", "2023-02-30"], tmp_path, store).code == 2
    assert run(["frobnicate"], tmp_path, store).code == 2
    assert run(["--store", "bogus:x", "history", CASE], tmp_path, store).code == 2
    budget = run(["budget", CASE, "--on", "2023-06-30", "--json"], tmp_path, store)
    assert budget.code == 0
    assert json.loads(budget.out)["in_force"]["total"] == "100000.00"


def test_a_process_imports_standard_input(tmp_path: Path, store: str) -> None:
    result = run(["import", "-"], tmp_path, store, stdin=jsonl(GOOD))
    assert result.code == 0, result.err
    assert "applied 6" in result.out
    again = run(["import", "-"], tmp_path, store, stdin=jsonl(GOOD))
    assert "skipped 6" in again.out
    bad = run(["import", "-"], tmp_path, store, stdin=jsonl([CONCLUDE, "{oops"]))
    assert bad.code == 1
    names_line_and_field(bad.err, 2, "line")


def test_a_process_refuses_undecodable_input_in_one_line(tmp_path: Path, store: str) -> None:
    path = tmp_path / "binary.jsonl"
    path.write_bytes(b"\xff\xfe{}\n")
    result = run(["import", str(path)], tmp_path, store)
    assert result.code == 1
    one_line(result.err)


def test_the_installed_biv_script(tmp_path: Path, store: str, good_file: Path) -> None:
    script = shutil.which("biv", path=str(Path(sys.executable).parent)) or shutil.which("biv")
    if script is None:
        pytest.skip("the biv script is not installed")
    env = {**os.environ, "BIV_STORE": store}

    def script_run(*argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [script, *argv],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    assert script_run("import", str(good_file)).returncode == 0
    history_run = script_run("history", CASE, "--json")
    assert history_run.returncode == 0
    assert len(json.loads(history_run.stdout)["facts"]) == 6
    assert script_run("budget", CASE).returncode == 2
    assert script_run("history", "Dnr 0000-0").returncode == 1
