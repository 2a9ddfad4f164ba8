"""Issue 23's demo, wording and suggestions, as a new auditor meets them.

The demo records its history in stages at simulated recorded times, and says so;
a case number typed with another case, spacing or a slip gets "did you mean"; a
path given as --store gets the URL to write; the replay says on which day it
judged the status, and "no notice given" rather than "none".
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from biv_adapters.cli import main
from biv_adapters.demo import linkoping_lines
from biv_adapters.demo_stages import DOCUMENT_STAGES, staged_batches
from biv_domain.ledger.case_numbers import closest_case_number


def biv(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture
def store(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    url = f"sqlite://{tmp_path}/biv.sqlite3"
    assert biv(capsys, "demo", "--store", url)[0] == 0
    return url


def test_the_demo_is_recorded_in_the_stages_its_documents_imply() -> None:
    batches = staged_batches(linkoping_lines())
    moments = [moment for moment, _lines in batches]
    assert moments == sorted(moments)
    assert moments[:3] == [
        DOCUMENT_STAGES["linkoping/documents/01"],
        DOCUMENT_STAGES["linkoping/documents/04"],
        moments[2],
    ]
    assert moments[2].isoformat() == "2022-11-02T09:00:00+00:00"
    # the illustrative year in monthly rounds, each on the 5th
    assert {m.day for m in moments[3:]} == {5}
    assert sum(len(lines) for _m, lines in batches) == 178


def test_the_demo_store_says_what_it_is(capsys: pytest.CaptureFixture[str], store: str) -> None:
    code, out, _ = biv(capsys, "store", "info", "--json", "--store", store)
    assert code == 0
    mark = json.loads(out)["demo"]
    assert mark["simulated_recorded_times"] is True
    assert mark["invented_figures"] is True
    code, out, _ = biv(capsys, "report", "Dnr 2016-292", "--from", "2023-04-01", "--to",
                       "2024-03-31", "--public", "--store", store)  # fmt: skip
    assert code == 0
    assert out.startswith("Demo store: its recorded times are simulated and its 2023–24")
    # Before the extension was recorded, the agreement ends 2023-03-31
    code, out, _ = biv(capsys, "budget", "Dnr 2016-292", "--on", "2023-01-01", "--as-known-at",
                       "2022-10-31", "--json", "--store", store)  # fmt: skip
    assert json.loads(out)["end"] == "2023-03-31"


def test_a_year_with_nothing_recorded_is_not_assessed(
    capsys: pytest.CaptureFixture[str], store: str
) -> None:
    code, out, _ = biv(capsys, "report", "Dnr 2016-292", "--from", "2022-04-01", "--to",
                       "2023-03-31", "--json", "--store", store)  # fmt: skip
    assert code == 0
    body = json.loads(out)
    assert body["nothing_recorded"] is True
    targets = {t["target"]: t for t in body["targets"]}
    assert targets["children_per_year"]["met"] is None
    assert "nothing recorded" in targets["children_per_year"]["reason"]
    # the groups target, decided 2022-10-19, counts from then: 6 months of 6 a year
    assert targets["groups_per_year"]["counts_from"] == "2022-10-19"
    assert targets["groups_per_year"]["expected"] == 3
    code, out, _ = biv(capsys, "report", "Dnr 2016-292", "--from", "2023-04-01", "--to",
                       "2024-03-31", "--json", "--store", store)  # fmt: skip
    assert code == 0
    met = {t["target"]: t["met"] for t in json.loads(out)["targets"]}
    assert met == {"children_per_year": False, "groups_per_year": True}


@pytest.mark.parametrize("typed", ["2016-292", "Dnr 2016-29", "dnr 2016-292", "Dnr  2016-292",
                                   "DNR 2016-292 "])  # fmt: skip
def test_did_you_mean_catches_case_spacing_and_slips(
    capsys: pytest.CaptureFixture[str], store: str, typed: str
) -> None:
    code, _, err = biv(capsys, "budget", typed, "--on", "2023-01-01", "--store", store)
    assert code == 1
    assert err.strip().endswith("did you mean 'Dnr 2016-292'?")


def test_did_you_mean_stays_silent_when_nothing_is_near() -> None:
    assert closest_case_number("Dnr 2099-1", ["Dnr 2016-292", "Dnr 2020-431"]) is None
    assert closest_case_number("Dnr 2016-292", ["Dnr 2016-292"]) is None


def test_a_path_as_store_gets_the_url_to_write(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = biv(capsys, "budget", "Dnr 2016-292", "--on", "2023-01-01", "--store",
                       "/abs/file.sqlite3")  # fmt: skip
    assert code == 2
    assert "write sqlite:///abs/file.sqlite3" in err


def test_the_replay_says_the_day_it_judged_the_status(
    capsys: pytest.CaptureFixture[str], store: str
) -> None:
    code, out, _ = biv(capsys, "audit", "replay", "Dnr 2016-292", "--until", "2022-10-31",
                       "--store", store)  # fmt: skip
    assert code == 0
    assert "runs 2017-04-01 – 2023-03-31" in out
    assert "its status on 2022-10-31: in force" in out
    assert "no notice given" in out
    assert "; none" not in out
