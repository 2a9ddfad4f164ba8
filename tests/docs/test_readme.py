"""The README's Python tour runs as written, and prints what its comments say."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).parents[2] / "README.md"


def test_the_python_tour_runs_and_prints_what_it_promises(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    [tour] = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.DOTALL)
    monkeypatch.chdir(tmp_path)  # the tour's store is sqlite:iop.sqlite3, in the working folder
    exec(compile(tour, str(README), "exec"), {})
    assert capsys.readouterr().out.splitlines() == [
        "{2017: '198750.00', 2018: '265000.00', 2019: '66250.00'}",
        "2018-09-30",
    ]


def test_the_linkoping_example_shows_a_late_entry_changing_only_the_present(
    capsys: pytest.CaptureFixture[str],
) -> None:
    import runpy

    runpy.run_path(str(README.parent / "examples" / "linkoping_biv.py"), run_name="__main__")
    out = capsys.readouterr().out
    assert "children_per_year: 36 of 40 expected, missed" in out
    assert "groups_per_year: 6 of 6 expected, met" in out
    assert "children in the year, as known on 2024-05-01: 36" in out
    assert "children in the year, as known now: 40" in out


def test_the_python_tour_runs_twice_without_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    [tour] = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.DOTALL)
    monkeypatch.chdir(tmp_path)
    for _ in range(2):  # the second run finds its commands applied, by their ids, and skips them
        exec(compile(tour, str(README), "exec"), {})
    lines = capsys.readouterr().out.splitlines()
    assert lines[:2] == lines[2:]
    assert lines[0] == "{2017: '198750.00', 2018: '265000.00', 2019: '66250.00'}"
