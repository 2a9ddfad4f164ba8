"""Every figure worked out from the Linköping documents, as the command line publishes it.

The Linköping history (the demo's data) is recorded on each store, then read back
through `biv budget … --json` and `biv report … --json`. The figures are those of
../shared/domain.md: periods, notice, the 2023–24 money by party and fiscal year (by months
and by days), the 530 000 kr of the first period, the budget before and after the
extension decision, the status on the edges, and the report that meets the group
target while it misses the children target.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from biv_adapters import cli
from biv_adapters.demo import CASE_NUMBER, record_linkoping
from biv_adapters.stores import registry
from biv_adapters.stores.registry import open_ledger
from biv_domain.ledger import Ledger
from biv_domain.model.money import Money
from biv_domain.projections.budget import Split, funding_lines, split_by_year
from tests.conftest import drop_schema, postgres_url

Biv = Callable[..., dict[str, Any]]

YEAR_FROM, YEAR_TO = "2023-04-01", "2024-03-31"
AMOUNT = re.compile(r"\d+\.\d{2}")


def _biv(store: str, capsys: pytest.CaptureFixture[str]) -> Biv:
    def run(*argv: str) -> dict[str, Any]:
        capsys.readouterr()
        code = cli.main([*argv, "--json", "--store", store])
        out, err = capsys.readouterr()
        assert code == 0, err
        assert err == ""
        document: dict[str, Any] = json.loads(out)
        return document

    return run


@pytest.fixture
def linkoping(store_url: str) -> Iterator[Ledger]:
    """The Linköping history recorded on a fresh store of each kind."""
    ledger = open_ledger(store_url)
    assert record_linkoping(ledger) == (178, 0)
    yield ledger
    ledger.close()


@pytest.fixture
def biv(
    store_url: str,
    linkoping: Ledger,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> Biv:
    """`biv COMMAND … --json --store URL` on the recorded store, its JSON parsed."""
    if store_url == "memory:":
        # Nothing persists in memory between two ledgers: the command line gets this one.
        monkeypatch.setattr(registry, "open_ledger", lambda *_a, **_k: linkoping)
    return _biv(store_url, capsys)


def budget_on(biv: Biv, on: str, *more: str) -> dict[str, Any]:
    return biv("budget", CASE_NUMBER, "--on", on, *more)


def year_report(biv: Biv, start: str = YEAR_FROM, end: str = YEAR_TO) -> dict[str, Any]:
    return biv("report", CASE_NUMBER, "--from", start, "--to", end)


def amounts_in(document: object) -> Iterator[tuple[str, object]]:
    """Every value under a key that holds money, anywhere in a budget document."""
    money_keys = {"amount", "municipality", "partner", "total", "disbursed"}
    if isinstance(document, dict):
        for key, value in document.items():
            if key in money_keys and not isinstance(value, dict):
                yield key, value
            else:
                yield from amounts_in(value)
    elif isinstance(document, list):
        for item in document:
            yield from amounts_in(item)


def target(report: dict[str, Any], name: str) -> dict[str, Any]:
    [found] = [t for t in report["targets"] if t["target"] == name]
    assert isinstance(found, dict)
    return found


# --- Periods and notice ----------------------------------------------------------------------


def test_the_first_period_is_2017_04_01_to_2019_03_31(biv: Biv) -> None:
    document = budget_on(biv, "2018-06-30")
    assert document["case_number"] == CASE_NUMBER
    assert document["on"] == "2018-06-30"
    assert document["status"] == "in_force"
    assert document["end"] == "2019-03-31"
    assert document["last_notice_day"] == "2018-09-30"
    [line] = document["funding"]
    assert (line["start"], line["end"]) == ("2017-04-01", "2019-03-31")


def test_the_agreement_ran_to_march_2023_before_the_2022_proposal(biv: Biv) -> None:
    document = budget_on(biv, "2021-01-01")
    assert document["status"] == "in_force"
    assert document["end"] == "2023-03-31"
    assert document["last_notice_day"] == "2022-09-30"


@pytest.mark.parametrize("on", ["2022-10-19", "2023-04-01", "2023-09-30", "2024-03-31"])
def test_the_extension_runs_to_2024_03_31_and_notice_must_be_given_by_2023_09_30(
    biv: Biv, on: str
) -> None:
    document = budget_on(biv, on)
    assert document["end"] == "2024-03-31"
    assert document["last_notice_day"] == "2023-09-30"


@pytest.mark.parametrize(
    ("on", "status"),
    [
        ("2017-03-31", "not_started"),
        ("2017-04-01", "in_force"),
        ("2019-03-31", "in_force"),
        ("2019-04-01", "in_force"),
        ("2023-10-01", "in_force"),
        ("2024-03-31", "in_force"),
        ("2024-04-01", "ended"),
    ],
)
def test_the_status_on_each_side_of_the_periods(biv: Biv, on: str, status: str) -> None:
    assert budget_on(biv, on)["status"] == status


# --- The 2023–24 money ------------------------------------------------------------------------


@pytest.mark.parametrize("on", ["2023-04-01", "2023-10-01", "2024-01-01", "2024-03-31"])
def test_the_money_in_force_in_2023_24(biv: Biv, on: str) -> None:
    document = budget_on(biv, on)
    assert document["in_force"] == {
        "municipality": "300500.00",
        "partner": "160000.00",
        "total": "460500.00",
    }
    assert document["municipal_share"] == "65.26"


def test_the_2023_24_funding_lines_as_decided(biv: Biv) -> None:
    lines = budget_on(biv, "2023-10-01")["funding"]
    later = {
        (line["party"], line["source"]): line["amount"]
        for line in lines
        if (line["start"], line["end"]) == ("2023-04-01", "2024-03-31")
    }
    assert later == {
        ("municipality", "state_grant_parenting_support"): "200500.00",
        ("municipality", "committee_budget"): "100000.00",
        ("partner", "own_funds"): "160000.00",
    }
    assert {line["decided_on"] for line in lines if line["start"] == "2023-04-01"} == {"2022-10-19"}


@pytest.mark.parametrize("on", ["2023-03-31", "2024-04-01"])
def test_no_money_is_in_force_outside_2023_24_after_the_first_period(biv: Biv, on: str) -> None:
    document = budget_on(biv, on)
    assert document["in_force"] == {"municipality": "0.00", "partner": "0.00", "total": "0.00"}
    assert document["municipal_share"] is None


def test_the_2023_24_money_split_across_fiscal_years_by_months(biv: Biv) -> None:
    by_year = budget_on(biv, "2023-10-01")["by_fiscal_year"]
    assert by_year["2023"] == {
        "municipality": "225375.00",
        "partner": "120000.00",
        "total": "345375.00",
    }
    assert by_year["2024"] == {
        "municipality": "75125.00",
        "partner": "40000.00",
        "total": "115125.00",
    }


def test_months_is_the_default_split(biv: Biv) -> None:
    assert budget_on(biv, "2023-10-01") == budget_on(biv, "2023-10-01", "--split", "months")
    assert budget_on(biv, "2023-10-01")["split"] == "months"


def test_the_2023_24_money_split_across_fiscal_years_by_days(biv: Biv) -> None:
    document = budget_on(biv, "2023-10-01", "--split", "days")
    assert document["split"] == "days"
    by_year = document["by_fiscal_year"]
    assert by_year["2023"]["municipality"] == "225785.52"
    assert by_year["2024"]["municipality"] == "74714.48"
    # The partner's 160 000 kr by days: 275 and 91 of 366 days, adding up to the öre.
    partner = [Money.parse(by_year[y]["partner"]) for y in ("2023", "2024")]
    assert partner[0] + partner[1] == Money.kronor(160_000)
    assert str(partner[0]) == "120218.58"


def test_the_first_period_s_530000_split_across_fiscal_years_by_months(biv: Biv) -> None:
    by_year = budget_on(biv, "2018-06-30")["by_fiscal_year"]
    assert {year: sums["municipality"] for year, sums in by_year.items()} == {
        "2017": "198750.00",
        "2018": "265000.00",
        "2019": "66250.00",
    }
    assert {sums["partner"] for sums in by_year.values()} == {"0.00"}


def test_every_year_of_the_history_in_one_budget(biv: Biv) -> None:
    by_year = budget_on(biv, "2024-03-31")["by_fiscal_year"]
    assert list(by_year) == ["2017", "2018", "2019", "2023", "2024"]
    total = sum((Money.parse(sums["total"]) for sums in by_year.values()), Money.zero())
    assert total == Money.kronor(530_000 + 300_500 + 160_000)


def test_each_2023_24_line_split_by_months_and_by_days(linkoping: Ledger) -> None:
    """The JSON sums by party; the lines' own parts come from `split_by_year`."""
    state = linkoping.agreement(CASE_NUMBER)
    lines = {
        (line.party.value, line.source, line.start.year): line
        for line in funding_lines(state, date(2023, 10, 1))
    }

    def parts(key: tuple[str, str, int], split: Split) -> dict[int, str]:
        return {year: str(part) for year, part in split_by_year(lines[key], split).items()}

    grant = ("municipality", "state_grant_parenting_support", 2023)
    committee = ("municipality", "committee_budget", 2023)
    partner = ("partner", "own_funds", 2023)
    first = ("municipality", "committee_budget", 2017)
    assert parts(grant, Split.MONTHS) == {2023: "150375.00", 2024: "50125.00"}
    assert parts(committee, Split.MONTHS) == {2023: "75000.00", 2024: "25000.00"}
    assert parts(partner, Split.MONTHS) == {2023: "120000.00", 2024: "40000.00"}
    assert parts(grant, Split.DAYS) == {2023: "150648.91", 2024: "49851.09"}
    assert parts(committee, Split.DAYS) == {2023: "75136.61", 2024: "24863.39"}
    assert parts(first, Split.MONTHS) == {2017: "198750.00", 2018: "265000.00", 2019: "66250.00"}


# --- Before and after the extension decision of 2022-10-19 ------------------------------------


def test_the_budget_the_day_before_the_extension_decision(biv: Biv) -> None:
    document = budget_on(biv, "2022-10-18")
    assert document["status"] == "in_force"
    assert document["end"] == "2023-03-31"
    assert document["last_notice_day"] == "2022-09-30"
    assert [line["start"] for line in document["funding"]] == ["2017-04-01"]
    assert "2023" not in document["by_fiscal_year"]
    assert "2024" not in document["by_fiscal_year"]


def test_the_budget_on_the_day_of_the_extension_decision(biv: Biv) -> None:
    document = budget_on(biv, "2022-10-19")
    assert document["end"] == "2024-03-31"
    assert len(document["funding"]) == 4
    assert document["by_fiscal_year"]["2023"]["municipality"] == "225375.00"
    # Decided, but not yet in force: the money starts on 2023-04-01.
    assert document["in_force"]["total"] == "0.00"


# --- What was paid out (illustrative) ---------------------------------------------------------


@pytest.mark.parametrize(
    ("on", "disbursed"),
    [("2023-04-19", "0.00"), ("2023-04-20", "150250.00"), ("2023-10-20", "300500.00")],
)
def test_disbursed_counts_payments_made_by_the_date(biv: Biv, on: str, disbursed: str) -> None:
    assert budget_on(biv, on)["disbursed"] == disbursed


# --- Amounts are strings with two decimals ----------------------------------------------------


@pytest.mark.parametrize("split", ["months", "days"])
def test_every_amount_is_a_string_with_two_decimals(biv: Biv, split: str) -> None:
    document = budget_on(biv, "2023-10-01", "--split", split)
    found = list(amounts_in(document))
    assert len(found) > 20
    for key, value in found:
        assert isinstance(value, str), (key, value)
        assert AMOUNT.fullmatch(value), (key, value)
    assert isinstance(document["municipal_share"], str)


def test_the_budget_document_has_the_contract_s_keys(biv: Biv) -> None:
    document = budget_on(biv, "2023-10-01")
    assert {
        "case_number",
        "on",
        "as_known_at",
        "status",
        "end",
        "last_notice_day",
        "funding",
        "in_force",
        "municipal_share",
        "by_fiscal_year",
        "disbursed",
    } <= set(document)
    assert document["as_known_at"] is None
    for line in document["funding"]:
        assert {"party", "source", "start", "end", "amount", "decided_on"} <= set(line)


# --- The report: the group target met, the children target missed ------------------------------


def test_the_year_report_meets_the_group_target_and_misses_the_children_target(
    biv: Biv,
) -> None:
    report = year_report(biv)
    assert (report["case_number"], report["from"], report["to"]) == (
        CASE_NUMBER,
        YEAR_FROM,
        YEAR_TO,
    )
    assert report["groups"] == 6
    assert report["participants"] == 36
    groups = target(report, "groups_per_year")
    assert (groups["expected"], groups["actual"], groups["met"]) == (6, 6, True)
    children = target(report, "children_per_year")
    assert (children["expected"], children["actual"], children["met"]) == (40, 36, False)


def test_the_report_document_has_the_contract_s_keys(biv: Biv) -> None:
    report = year_report(biv)
    assert {
        "case_number",
        "from",
        "to",
        "as_known_at",
        "groups",
        "parent_groups",
        "sessions",
        "participants",
        "parents",
        "by_gender",
        "by_age_band",
        "targets",
    } <= set(report)
    assert list(report["by_age_band"]) == ["7-9", "10-12", "13-15", "16-17", "18-20"]
    assert sum(report["by_age_band"].values()) == report["participants"]
    assert sum(report["by_gender"].values()) == report["participants"]
    for outcome in report["targets"]:
        assert {"target", "expected", "actual", "met"} <= set(outcome)


def test_a_half_year_expects_half_the_yearly_targets(biv: Biv) -> None:
    report = year_report(biv, "2023-04-01", "2023-09-30")
    assert target(report, "groups_per_year")["expected"] == 3
    assert target(report, "children_per_year")["expected"] == 20
    assert report["groups"] <= 6
    assert report["participants"] <= 36


# --- Every store publishes the same figures ---------------------------------------------------


def test_sqlite_and_postgresql_publish_the_same_budget_and_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    schema = f"test_{uuid.uuid4().hex[:12]}"
    postgres = postgres_url(schema)
    try:
        documents: list[list[dict[str, Any]]] = []
        for url in (f"sqlite://{tmp_path}/biv.sqlite3", postgres):
            ledger = open_ledger(url)
            try:
                record_linkoping(ledger)
            finally:
                ledger.close()
            biv = _biv(url, capsys)
            documents.append(
                [
                    budget_on(biv, "2023-10-01"),
                    budget_on(biv, "2023-10-01", "--split", "days"),
                    budget_on(biv, "2022-10-18"),
                    year_report(biv),
                    year_report(biv, "2023-04-01", "2023-09-30"),
                ]
            )
        sqlite, postgresql = documents
        assert sqlite == postgresql
        assert sqlite[0]["in_force"]["total"] == "460500.00"
    finally:
        drop_schema(schema)
