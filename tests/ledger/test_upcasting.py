"""Stored formats: old facts read in today's shape, the chain unchanged, newer stores refused.

The worked evolution is SessionHeld 1 → 2 (a session's length in minutes, the
method's norm of 120 assumed for sessions recorded without one) and with it
ReportSubmitted 1 → 2 (frozen figures gain the minutes of support, null when
they were not counted at submission).
"""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from attrs import evolve
from hypothesis import given
from hypothesis import strategies as st

from biv_adapters.cli import main
from biv_domain.converter import converter, document, parse_json
from biv_domain.errors import InvalidValue
from biv_domain.ledger import upcasting
from biv_domain.ledger.upcasting import FORMAT, NewerFormat, upcast, version_of
from biv_domain.model.commands import HoldSession
from biv_domain.model.events import EVENT_TYPES, SESSION_NORM_MINUTES, ReportSubmitted, SessionHeld
from biv_domain.model.figures import ReportFigures
from tests.strategies import EVENT_STRATEGIES

FORMAT_1 = Path(__file__).parents[1] / "stores" / "format-1" / "store.sqlite3"
DEMO = "Dnr 2016-292"


def old_shape(type_name: str, data: dict[str, Any]) -> dict[str, Any]:
    """What a fact of today's shape looked like in version 1: the fields added since, gone."""
    if type_name == "SessionHeld":
        return {k: v for k, v in data.items() if k not in ("minutes", "minutes_assumed")}
    if type_name == "ReportSubmitted" and data.get("figures") is not None:
        added = ("support_minutes", "support_minutes_assumed")
        return {**data, "figures": {k: v for k, v in data["figures"].items() if k not in added}}
    return data


def with_defaults(event: Any) -> Any:
    """The event as version 2 reads a version-1 fact: what version 1 lacked, at its default."""
    if isinstance(event, SessionHeld):
        return evolve(event, minutes=SESSION_NORM_MINUTES, minutes_assumed=True)
    if isinstance(event, ReportSubmitted) and event.figures is not None:
        figures = evolve(event.figures, support_minutes=None, support_minutes_assumed=None)
        return evolve(event, figures=figures)
    return event


@given(
    st.sampled_from(sorted(EVENT_TYPES)).flatmap(
        lambda n: st.tuples(st.just(n), EVENT_STRATEGIES[n])
    )
)
def test_an_old_fact_upcast_equals_the_new_fact_with_the_defaults_filled_in(
    named: tuple[str, Any],
) -> None:
    # Given an event of any type, written as version 1 wrote it
    type_name, event = named
    stored_then = old_shape(type_name, document(event))
    # When today's code reads it
    read_now = converter.structure(upcast(type_name, 1, stored_then), EVENT_TYPES[type_name])
    # Then it is the event with what version 1 did not know at its default
    assert read_now == with_defaults(event)


@given(
    st.sampled_from(sorted(EVENT_TYPES)).flatmap(
        lambda n: st.tuples(st.just(n), EVENT_STRATEGIES[n])
    )
)
def test_upcasting_a_fact_already_in_the_newest_shape_changes_nothing(
    named: tuple[str, Any],
) -> None:
    type_name, event = named
    data = document(event)
    assert upcast(type_name, version_of(type_name), data) == data


def test_a_fact_of_a_version_newer_than_the_code_is_refused_naming_the_version() -> None:
    with pytest.raises(NewerFormat) as refused:
        upcast("SessionHeld", 3, {"group_ref": "G", "held_on": "2023-01-01", "attendees": []})
    assert refused.value.field == "format"
    assert "version 3" in refused.value.reason
    assert "upgrade biv-domain" in refused.value.reason


def test_a_session_records_its_length_or_the_norm_marked_as_assumed() -> None:
    with pytest.raises(InvalidValue) as refused:
        HoldSession("G", date(2023, 5, 1), ("C1",), minutes=0)
    assert refused.value.field == "minutes"
    assert HoldSession("G", date(2023, 5, 1), ("C1",)).minutes is None


def test_a_format_1_store_reads_its_sessions_as_assumed_two_hours(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a copy of the store written by format-1 code
    copy = tmp_path / "store.sqlite3"
    shutil.copyfile(FORMAT_1, copy)
    store = f"sqlite://{copy}"
    # When its year of sessions is reported
    window = ["--from", "2023-04-01", "--to", "2024-03-31"]
    assert main(["report", DEMO, *window, "--json", "--store", store]) == 0
    figures = parse_json(capsys.readouterr().out)
    # Then every session counts as the norm, and all of it as assumed
    sessions = figures["sessions"] + figures["parent_sessions"]
    assert sessions > 0
    assert figures["support_minutes"] == SESSION_NORM_MINUTES * sessions
    assert figures["support_minutes_assumed"] == figures["support_minutes"]


def test_a_new_session_with_its_length_counts_as_measured(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    copy = tmp_path / "store.sqlite3"
    shutil.copyfile(FORMAT_1, copy)
    store = f"sqlite://{copy}"
    # Given a new parents' group in the old store, and a session of 90 minutes
    lines = tmp_path / "new.jsonl"
    lines.write_text(
        '{"command": "plan_group", "group_ref": "NEW-1", "case_number": "Dnr 2016-292", '
        '"kind": "parents", "area": "Ryd", "starts_on": "2023-05-01"}\n'
        '{"command": "enroll_participant", "group_ref": "NEW-1", "participant_ref": "P-1", '
        '"enrolled_on": "2023-05-01", "gender": "woman"}\n'
        '{"command": "hold_session", "group_ref": "NEW-1", "held_on": "2023-05-02", '
        '"attendees": ["P-1"], "minutes": 90}\n',
        "utf-8",
    )
    assert main(["import", str(lines), "--store", store]) == 0
    capsys.readouterr()
    assert main(["history", DEMO, "--json", "--store", store]) == 0
    facts = parse_json(capsys.readouterr().out)["facts"]
    held = [f["data"] for f in facts if f["type"] == "SessionHeld"]
    assert held[-1]["minutes"] == 90
    assert held[-1]["minutes_assumed"] is False
    # Old sessions read as assumed norms, new ones as given
    assert len(held) > 1
    assert all(h["minutes_assumed"] for h in held[:-1])


def test_store_info_tells_the_formats_and_the_first_write_records_the_new_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    copy = tmp_path / "store.sqlite3"
    shutil.copyfile(FORMAT_1, copy)
    store = f"sqlite://{copy}"
    assert main(["store", "info", "--json", "--store", store]) == 0
    info = parse_json(capsys.readouterr().out)
    assert info["store_format"] == 1
    assert info["code_format"] == FORMAT
    sessions = next(c for c in info["by_type"] if c["type"] == "SessionHeld")
    assert (sessions["version"], sessions["current_version"]) == (1, 2)
    assert info["readable"] is True
    assert info["encrypted"] is False
    head_before = info["chain_head"]

    assert main(["configure", "--require-actor", "no", "--store", store]) == 0
    capsys.readouterr()
    assert main(["store", "info", "--json", "--store", store]) == 0
    after = parse_json(capsys.readouterr().out)
    assert after["store_format"] == FORMAT
    assert after["facts"] > info["facts"]
    assert main(["audit", "verify", "--digest", head_before, "--store", store]) == 0


def test_a_store_of_a_newer_format_is_refused_at_open_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    store = f"sqlite://{tmp_path}/biv.sqlite3"
    # Given a store that a future biv-domain (a format newer than ours) has written to
    newer = FORMAT + 1
    monkeypatch.setattr(upcasting, "FORMAT", newer)
    monkeypatch.setattr("biv_domain.ledger.application.FORMAT", newer)
    assert main(["demo", "--store", store]) == 0
    monkeypatch.undo()
    capsys.readouterr()
    # When today's code opens it, for a query or a write
    for argv in (["budget", DEMO, "--on", "2023-01-01"], ["configure", "--require-actor", "no"]):
        code = main([*argv, "--store", store])
        err = capsys.readouterr().err
        # Then it refuses, naming the format, and stores nothing
        assert code == 1
        assert err.count("\n") == 1
        assert f"format {newer}" in err
        assert "Traceback" not in err


def test_a_fact_of_a_newer_version_is_refused_not_misread(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    store = f"sqlite://{tmp_path}/biv.sqlite3"
    monkeypatch.setitem(upcasting.VERSIONS, "SessionHeld", 3)
    assert main(["demo", "--store", store]) == 0
    monkeypatch.undo()
    capsys.readouterr()
    assert main(["history", DEMO, "--store", store]) == 1
    err = capsys.readouterr().err
    assert "SessionHeld facts of version 3" in err
    # The chain is checked over the stored bytes, so verification needs no reading of them
    assert main(["audit", "verify", "--store", store]) == 0


def test_report_figures_frozen_by_format_1_are_not_counted_not_made_up() -> None:
    frozen_then = {"follow_up_ref": "F", "submitted_on": "2023-01-01", "experience": None,
                   "information": None, "figures": None}  # fmt: skip
    assert upcast("ReportSubmitted", 1, frozen_then) == frozen_then
    figures = document(
        ReportFigures("C", date(2023, 1, 1), date(2023, 6, 30), 1, 0, 2, 0, 3, 0, {}, {}, ())
    )
    old = old_shape("ReportSubmitted", {**frozen_then, "figures": figures})
    new = upcast("ReportSubmitted", 1, old)
    assert new["figures"]["support_minutes"] is None
