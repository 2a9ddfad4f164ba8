"""Figures published outside the two parties withhold small counts of people.

Participants are children in a vulnerable position: a count of one or two in a
published table can point at a child. Counts of people under the threshold
are withheld, and never can a withheld count be worked out by subtracting the
published cells of a breakdown from its published total.
"""

from __future__ import annotations

import json
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from biv_adapters.cli import main
from biv_adapters.demo import CASE_NUMBER, record_linkoping
from biv_adapters.stores.registry import open_ledger
from biv_domain.model.figures import ReportFigures, TargetOutcome
from biv_domain.model.vocabulary import TargetKind
from biv_domain.projections.report import AGE_BANDS, PUBLIC_THRESHOLD, for_publication


def figures(
    by_gender: dict[str, int], by_age_band: dict[str, int], parents: int = 12
) -> ReportFigures:
    participants = sum(by_gender.values())
    return ReportFigures(
        case_number="Dnr 2016-292",
        start=date(2023, 10, 1),
        end=date(2023, 12, 31),
        groups=4,
        parent_groups=1,
        sessions=26,
        parent_sessions=4,
        participants=participants,
        parents=parents,
        by_gender=by_gender,
        by_age_band=by_age_band,
        targets=(
            TargetOutcome(TargetKind.CHILDREN_PER_YEAR, 40, 10, participants, participants >= 10),
            TargetOutcome(TargetKind.GROUPS_PER_YEAR, 6, 2, 4, True),
        ),
    )


def test_a_small_count_is_withheld_and_so_is_the_cell_that_would_give_it_away() -> None:
    published = for_publication(
        figures({"girl": 11, "boy": 12}, {"7-9": 6, "10-12": 6, "13-15": 8, "16-17": 3, "18-20": 0})
    )
    # 3 is under 5; alone it could be worked out as 23 - 6 - 6 - 8, so the smallest other goes too.
    assert published.by_age_band == {"7-9": None, "10-12": 6, "13-15": 8, "16-17": None, "18-20": 0}
    assert published.suppressed == ("by_age_band.7-9", "by_age_band.16-17")
    assert published.by_gender == {"girl": 11, "boy": 12}
    assert (published.participants, published.groups, published.sessions) == (23, 4, 26)


def test_a_small_window_withholds_every_count_of_people_but_not_groups_or_sessions() -> None:
    published = for_publication(figures({"girl": 2, "boy": 1}, {"7-9": 3}, parents=4))
    assert (published.participants, published.parents) == (None, None)
    assert published.by_gender == {"girl": None, "boy": None}
    assert published.targets[0].actual is None
    assert published.targets[1].actual == 4
    assert (published.groups, published.sessions) == (4, 26)


counts = st.integers(0, 30)


@given(st.tuples(counts, counts), st.tuples(*[counts] * len(AGE_BANDS)), st.integers(2, 10))
def test_no_withheld_count_can_be_worked_out_and_no_small_count_is_shown(
    genders: tuple[int, int], ages: tuple[int, ...], threshold: int
) -> None:
    by_gender = {"girl": genders[0], "boy": genders[1]}
    by_age = {name: count for (name, _, _), count in zip(AGE_BANDS, ages, strict=True)}
    published = for_publication(figures(by_gender, by_age), threshold)

    shown = [published.participants, *published.by_gender.values(), *published.by_age_band.values()]
    assert not any(count is not None and 0 < count < threshold for count in shown)
    for cells, original in ((published.by_gender, by_gender), (published.by_age_band, by_age)):
        hidden = [key for key, count in cells.items() if count is None and original[key]]
        if published.participants is not None:
            assert len(hidden) != 1, cells


def test_the_command_line_publishes_with_a_threshold(
    tmp_path: object, capsys: pytest.CaptureFixture[str]
) -> None:
    store = f"sqlite://{tmp_path}/biv.sqlite3"
    ledger = open_ledger(store)
    record_linkoping(ledger)
    ledger.close()
    window = ["--from", "2023-10-01", "--to", "2023-12-31", "--store", store]
    assert main(["report", CASE_NUMBER, *window, "--json", "--public"]) == 0
    published = json.loads(capsys.readouterr().out)
    assert published["threshold"] == 5
    assert published["by_age_band"]["18-20"] is None
    assert "by_age_band.18-20" in published["suppressed"]
    assert main(["report", CASE_NUMBER, *window, "--public", "--threshold", "3"]) == 0
    assert "under 3 are withheld" in capsys.readouterr().out
    assert main(["report", CASE_NUMBER, *window, "--public", "--threshold", "0"]) == 2


def test_the_grammar_s_help_gives_the_one_threshold_as_the_default(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Given the grammar, which loads no domain and so leaves --threshold's default to the
    # report (`PUBLIC_THRESHOLD`)
    # When `biv report --help` is asked for
    assert main(["report", "--help"]) == 0
    # Then the default it names is the one the report applies
    assert f"(default {PUBLIC_THRESHOLD})" in " ".join(capsys.readouterr().out.split())
