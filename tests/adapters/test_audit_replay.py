"""`biv audit replay`: the ledger's knowledge at a moment, and what changed between two.

The Linköping history is recorded as it could have happened: the first
period's documents in 2019, the 2022-10-19 extension and its money a fortnight
later, the illustrative year of groups in April 2024; then corrections and a
late entry. The replay at each moment shows only what was recorded by then,
and a diff names the facts that changed each value.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple

import pytest

from biv_adapters.cli import main
from biv_adapters.demo import CASE_NUMBER, linkoping_lines
from biv_adapters.exchange import read_lines
from biv_adapters.stores.registry import open_ledger
from biv_domain.ledger import Ledger
from biv_domain.model.commands import (
    CorrectAttendance,
    CorrectParticipant,
    RecordDisbursement,
    RetractDisbursement,
    RetractSession,
)
from biv_domain.model.money import Money
from biv_domain.model.vocabulary import Gender
from biv_domain.projections.replay import diff, replay
from tests.conftest import Clock

FIRST_PERIOD = datetime(2019, 4, 15, 9, tzinfo=UTC)  # documents 01–04
EXTENSION = datetime(2022, 11, 2, 9, tzinfo=UTC)  # the 2022-10-19 proposal, 05–09
ILLUSTRATIVE = datetime(2024, 4, 25, 9, tzinfo=UTC)  # the year of groups and follow-ups
CORRECTION = datetime(2024, 5, 6, 10, tzinfo=UTC)
GROUP = "ILL-2023-RYD-1"


class Run(NamedTuple):
    code: int
    out: str
    err: str


@pytest.fixture
def clock() -> Clock:
    return Clock(FIRST_PERIOD)


@pytest.fixture
def store(tmp_path: Path) -> str:
    return f"sqlite://{tmp_path}/biv.sqlite3"


@pytest.fixture
def ledger(store: str, clock: Clock) -> Iterator[Ledger]:
    """Linköping recorded in three stages, at the moments above."""
    ledger = open_ledger(store, clock=clock)
    lines = read_lines(linkoping_lines())
    for moment, part in ((FIRST_PERIOD, lines[:4]), (EXTENSION, lines[4:9])):
        clock.set(moment)
        ledger.execute_all(part)
    clock.set(ILLUSTRATIVE)
    ledger.execute_all(lines[9:])
    clock.set(CORRECTION)
    yield ledger
    ledger.close()


def biv(capsys: pytest.CaptureFixture[str], store: str, *argv: str) -> Run:
    capsys.readouterr()
    code = main(["audit", *argv, "--store", store])
    out, err = capsys.readouterr()
    return Run(code, out, err)


def replayed(capsys: pytest.CaptureFixture[str], store: str, *argv: str) -> dict[str, Any]:
    run = biv(capsys, store, "replay", CASE_NUMBER, *argv, "--json")
    assert run.code == 0, run.err
    document: dict[str, Any] = json.loads(run.out)
    return document


def before(at: datetime) -> str:
    return (at - timedelta(seconds=1)).isoformat()


def after(at: datetime) -> str:
    return (at + timedelta(seconds=1)).isoformat()


# --- The replay at a moment ----------------------------------------------------------------


def test_before_the_extension_was_recorded_the_agreement_ends_on_2023_03_31(
    capsys: pytest.CaptureFixture[str], store: str, ledger: Ledger
) -> None:
    document = replayed(capsys, store, "--until", "2022-10-31")
    agreement = document["agreement"]
    assert document["as_known_at"].startswith("2022-10-31T23:59:59")
    assert agreement["end_as_decided"] == "2023-03-31"
    assert agreement["last_notice_day"] == "2022-09-30"
    assert [e["end"] for e in agreement["extensions"]] == ["2023-03-31"]
    assert [f["amount"] for f in agreement["funding"]] == ["530000.00"]
    assert [t["target"] for t in agreement["targets"]] == ["children_per_year"]
    assert document["groups"] == []
    assert document["follow_ups"] == []
    assert document["facts"] == 4


def test_after_the_extension_was_recorded_it_ends_on_2024_03_31(
    capsys: pytest.CaptureFixture[str], store: str, ledger: Ledger
) -> None:
    agreement = replayed(capsys, store, "--until", after(EXTENSION))["agreement"]
    assert agreement["end_as_decided"] == "2024-03-31"
    assert agreement["last_notice_day"] == "2023-09-30"
    amounts = {f["source"]: f["amount"] for f in agreement["funding"] if f["start"] == "2023-04-01"}
    assert amounts == {
        "state_grant_parenting_support": "200500.00",
        "committee_budget": "100000.00",
        "own_funds": "160000.00",
    }
    assert agreement["funding"][0]["decided_on"] == "2017-04-01"  # each line with its decision


def test_the_replay_shows_each_group_and_follow_up(
    capsys: pytest.CaptureFixture[str], store: str, ledger: Ledger
) -> None:
    document = replayed(capsys, store, "--on", "2024-01-15")
    groups = {g["plan"]["group_ref"]: g for g in document["groups"]}
    assert len(groups) == 8
    assert sum(g["participants"] for g in groups.values() if g["plan"]["kind"] == "children") == 36
    assert groups[GROUP]["sessions"] == 14
    assert groups[GROUP]["status"] == "completed"
    assert groups["ILL-2023-BER-1"]["withdrawn"] == 1
    statuses = {f["schedule"]["follow_up_ref"]: f["status"] for f in document["follow_ups"]}
    assert statuses == {"ILL-2023-H1": "closed", "ILL-2023-H2": "scheduled"}
    assert document["agreement"]["disbursed"] == "300500.00"


def test_the_replay_as_a_table(
    capsys: pytest.CaptureFixture[str], store: str, ledger: Ledger
) -> None:
    run = biv(capsys, store, "replay", CASE_NUMBER, "--until", "2022-10-31")
    assert run.code == 0
    assert "end as decided 2023-03-31" in run.out
    assert "530000.00" in run.out
    assert "200500.00" not in run.out


# --- The diff between two moments ------------------------------------------------------------


def changes_of(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["value"]: c for c in document["changes"]}


def test_a_diff_across_the_extension_names_the_extension(
    capsys: pytest.CaptureFixture[str], store: str, ledger: Ledger
) -> None:
    document = replayed(
        capsys, store, "--since", before(EXTENSION), "--until", after(EXTENSION), "--diff"
    )
    changes = changes_of(document)
    end = changes["agreement.end_as_decided"]
    assert (end["before"], end["after"]) == ("2023-03-31", "2024-03-31")
    assert [f["type"] for f in end["changed_by"]] == ["AgreementExtended"]
    line = "agreement.funding[municipality state_grant_parenting_support 2023-04-01–2024-03-31]"
    assert changes[line]["before"] is None
    assert changes[line]["after"]["amount"] == "200500.00"
    assert [f["type"] for f in changes[line]["changed_by"]] == ["FundingChanged"]
    assert len(document["facts"]) == 5


def test_a_diff_across_corrections_lists_each_correction_and_the_value_it_changed(
    capsys: pytest.CaptureFixture[str], store: str, ledger: Ledger
) -> None:
    ledger.execute(RetractSession(GROUP, date(2023, 4, 19), "entered twice"), actor="registrar")
    ledger.execute(
        RetractDisbursement(CASE_NUMBER, date(2023, 10, 20), Money.kronor(150250), "never paid")
    )
    ledger.execute(CorrectParticipant(GROUP, "ILL-C006", "mistyped", gender=Gender.GIRL))
    document = replayed(
        capsys, store, "--since", before(CORRECTION), "--until", after(CORRECTION), "--diff"
    )
    changes = changes_of(document)
    sessions = changes[f"groups[{GROUP}].sessions"]
    assert (sessions["before"], sessions["after"]) == (14, 13)
    retracted = sessions["changed_by"]
    assert [(f["type"], f["actor"]) for f in retracted] == [("SessionRetracted", "registrar")]
    assert retracted[0]["data"]["reason"] == "entered twice"
    assert retracted[0]["effective_on"] == "2023-04-19"
    paid = changes["agreement.disbursed"]
    assert (paid["before"], paid["after"]) == ("300500.00", "150250.00")
    assert [f["type"] for f in paid["changed_by"]] == ["DisbursementRetracted"]
    assert changes["agreement.retractions[2023-10-20 150250.00]"]["before"] is None
    girls = changes[f"groups[{GROUP}].by_gender.girl"]
    assert (girls["before"], girls["after"]) == (5, 6)
    assert [f["type"] for f in girls["changed_by"]] == ["ParticipantCorrected"]
    assert [f["type"] for f in document["facts"]] == [
        "SessionRetracted",
        "DisbursementRetracted",
        "ParticipantCorrected",
    ]
    # Before the corrections, the replay still shows what was recorded then.
    earlier = replayed(capsys, store, "--until", before(CORRECTION))
    assert next(g for g in earlier["groups"] if g["plan"]["group_ref"] == GROUP)["sessions"] == 14


def test_a_late_entry_and_an_attendance_correction_show_in_the_diff(
    capsys: pytest.CaptureFixture[str], store: str, ledger: Ledger, clock: Clock
) -> None:
    everyone = tuple(f"ILL-C00{n}" for n in range(1, 7))
    ledger.execute(CorrectAttendance(GROUP, date(2023, 4, 12), everyone[:5], "C006 was absent"))
    clock.advance(days=1)
    ledger.execute(RecordDisbursement(CASE_NUMBER, Money.kronor(1000), date(2023, 5, 2)))
    document = replayed(capsys, store, "--since", before(CORRECTION), "--diff")
    changes = changes_of(document)
    attendances = changes[f"groups[{GROUP}].attendances"]
    assert attendances["after"] == attendances["before"] - 1
    assert [f["type"] for f in attendances["changed_by"]] == ["AttendanceCorrected"]
    late = changes["agreement.disbursements[2023-05-02 1000.00]"]
    assert late["before"] is None
    assert [f["type"] for f in late["changed_by"]] == ["DisbursementRecorded"]
    assert document["until"] is None
    assert f"groups[{GROUP}].sessions" not in changes  # the attendance changed, not the sessions


def test_a_diff_as_a_table_names_the_facts(
    capsys: pytest.CaptureFixture[str], store: str, ledger: Ledger
) -> None:
    moments = ["--since", before(EXTENSION), "--until", after(EXTENSION)]
    run = biv(capsys, store, "replay", CASE_NUMBER, *moments, "--diff")
    assert run.code == 0
    assert "agreement.end_as_decided" in run.out
    assert "AgreementExtended" in run.out


def test_nothing_recorded_between_two_moments_changes_nothing(ledger: Ledger) -> None:
    history = ledger.history(CASE_NUMBER)
    result = diff(
        CASE_NUMBER, history, EXTENSION + timedelta(seconds=1), ILLUSTRATIVE, date(2024, 1, 1)
    )
    assert result.changes == ()
    assert result.facts == ()
    then = replay(CASE_NUMBER, history, EXTENSION + timedelta(seconds=1), date(2024, 1, 1))
    assert then.agreement is not None
    assert then.agreement.end_as_decided == date(2024, 3, 31)


# --- Refusals and usage ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [
        ["replay", "Dnr 0000-0"],
        ["replay", "Dnr 0000-0", "--json"],
        ["replay", "Dnr 0000-0", "--since", "2020-01-01", "--diff"],
        ["replay", CASE_NUMBER, "--until", "2019-01-01"],  # not yet recorded then
    ],
)
def test_an_unknown_case_exits_1(
    capsys: pytest.CaptureFixture[str], store: str, ledger: Ledger, argv: list[str]
) -> None:
    run = biv(capsys, store, *argv)
    assert run.code == 1
    assert run.out == ""
    assert run.err.startswith("biv: refused: case_number")
    assert run.err.count("\n") == 1


@pytest.mark.parametrize(
    "argv",
    [
        ["--diff"],
        ["--since", "2022-01-01"],
        ["--since", "2023-01-01", "--until", "2022-01-01", "--diff"],
    ],
)
@pytest.mark.parametrize("case", [CASE_NUMBER, "Dnr 0000-0"])  # usage is checked first
def test_a_diff_needs_two_moments_in_order(
    capsys: pytest.CaptureFixture[str], store: str, ledger: Ledger, argv: list[str], case: str
) -> None:
    run = biv(capsys, store, "replay", case, *argv)
    assert run.code == 2
    assert run.out == ""


def test_a_timestamp_that_is_not_one_exits_2(
    capsys: pytest.CaptureFixture[str], store: str, ledger: Ledger
) -> None:
    code = main(["audit", "replay", CASE_NUMBER, "--until", "yesterday", "--store", store])
    assert code == 2
