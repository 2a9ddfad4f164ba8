"""Several municipalities on one PostgreSQL server, a schema each, fully isolated.

Linköping and a second municipality share one server and even use the same
group and follow-up references; neither's queries, history, views or rebuilds
ever see the other's facts.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import date

import pytest

from biv_adapters.cli import main
from biv_adapters.demo import CASE_NUMBER, record_linkoping
from biv_adapters.stores.registry import open_ledger
from biv_domain.errors import NotFound
from biv_domain.model.commands import ConcludeAgreement, PlanGroup, SetFunding
from biv_domain.model.money import Money
from biv_domain.model.vocabulary import GroupKind, Party
from tests.conftest import drop_schema, postgres_url

OTHER_CASE = "KS 2021-77"


@pytest.fixture
def tenants() -> Iterator[tuple[str, str]]:
    schemas = [f"tenant_{uuid.uuid4().hex[:10]}" for _ in range(2)]
    urls = (postgres_url(schemas[0]), postgres_url(schemas[1]))
    yield urls
    for schema in schemas:
        drop_schema(schema)


def record_norrkoping(url: str) -> None:
    ledger = open_ledger(url)
    ledger.execute(
        ConcludeAgreement(
            OTHER_CASE,
            "Barn i start",
            "Norrköpings kommun",
            "Röda Korset",
            date(2021, 1, 1),
            date(2023, 12, 31),
            3,
            date(2020, 12, 1),
        )
    )
    ledger.execute(
        SetFunding(
            OTHER_CASE,
            Party.MUNICIPALITY,
            "committee_budget",
            date(2023, 1, 1),
            date(2023, 12, 31),
            Money.kronor(50_000),
            date(2022, 12, 1),
        )
    )
    # The same group reference as one of Linköping's: a tenant's references are its own.
    ledger.execute(
        PlanGroup("ILL-2023-RYD-1", OTHER_CASE, GroupKind.CHILDREN, "Hageby", date(2023, 2, 1))
    )
    ledger.close()


def biv_json(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, object]:
    assert main(list(argv)) == 0
    document: dict[str, object] = json.loads(capsys.readouterr().out)
    return document


def test_two_municipalities_on_one_server_never_see_each_other(
    tenants: tuple[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    linkoping, norrkoping = tenants
    ledger = open_ledger(linkoping)
    record_linkoping(ledger)
    ledger.close()
    record_norrkoping(norrkoping)

    # Queries: each tenant knows its own agreement only.
    a, b = open_ledger(linkoping), open_ledger(norrkoping)
    with pytest.raises(NotFound):
        b.agreement(CASE_NUMBER)
    with pytest.raises(NotFound):
        a.agreement(OTHER_CASE)
    assert a.group("ILL-2023-RYD-1").case_number == CASE_NUMBER
    assert b.group("ILL-2023-RYD-1").case_number == OTHER_CASE

    # History: every fact of a tenant's history is its own.
    history = biv_json(capsys, "history", OTHER_CASE, "--json", "--store", norrkoping)
    facts = history["facts"]
    assert isinstance(facts, list)
    assert [f["type"] for f in facts] == ["AgreementConcluded", "FundingChanged", "GroupPlanned"]

    # The funding view and its rebuild read the tenant's own facts only.
    year_a = biv_json(capsys, "budget", "--fiscal-year", "2023", "--json", "--store", linkoping)
    year_b = biv_json(capsys, "budget", "--fiscal-year", "2023", "--json", "--store", norrkoping)
    assert year_a["total"] == {
        "municipality": "225375.00",
        "partner": "120000.00",
        "total": "345375.00",
    }
    assert year_b["total"] == {"municipality": "50000.00", "partner": "0.00", "total": "50000.00"}
    assert b.funding_view.rebuild() == b.app.recorder.max_notification_id()
    assert (
        a.funding_view.rebuild()
        == a.app.recorder.max_notification_id()
        != b.app.recorder.max_notification_id()
    )
    assert (
        biv_json(capsys, "budget", "--fiscal-year", "2023", "--json", "--store", linkoping)
        == year_a
    )
    a.close()
    b.close()
