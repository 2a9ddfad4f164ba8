"""Who recorded what, and on whose decision.

Every fact keeps its actor; a store configured to require one refuses a write
without it, and stores nothing. History shows the actor and, where the domain
has one, the decision behind the fact.
"""

from __future__ import annotations

import json
from datetime import date

import pytest

from biv_adapters.cli import main
from biv_adapters.stores.registry import open_ledger
from biv_domain.errors import Refused
from biv_domain.ledger import Ledger
from biv_domain.model.commands import ConcludeAgreement, ExtendAgreement

CASE = "Dnr 2016-292"


def conclude() -> ConcludeAgreement:
    return ConcludeAgreement(
        CASE,
        "Barn i väntan",
        "Linköpings kommun",
        "Linköpings domkyrkopastorat",
        date(2017, 4, 1),
        date(2019, 3, 31),
        6,
        date(2017, 3, 15),
        decided_by="Omsorgsnämnden",
        decision_ref="ON § 42",
    )


def test_every_fact_keeps_its_actor(ledger: Ledger) -> None:
    ledger.execute(conclude(), actor="Eva, handläggare")
    [fact] = ledger.history(CASE)
    assert fact.actor == "Eva, handläggare"


def test_a_store_that_requires_an_actor_refuses_a_write_without_one(ledger: Ledger) -> None:
    ledger.configure(require_actor=True, actor="IT-förvaltningen")
    with pytest.raises(Refused) as refused:
        ledger.execute(conclude())
    assert refused.value.field == "actor"
    assert not [f for f in ledger.facts() if not f.is_bookkeeping]
    ledger.execute(conclude(), actor="Eva, handläggare")


def test_the_command_line_takes_the_actor_from_the_option_or_the_environment(
    tmp_path: object, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    store = f"sqlite://{tmp_path}/biv.sqlite3"
    exchange = f"{tmp_path}/lines.jsonl"
    with open(exchange, "w", encoding="utf-8") as handle:
        handle.write(
            json.dumps(
                {
                    "command": "conclude_agreement",
                    "case_number": CASE,
                    "title": "BIV",
                    "municipality": "Linköpings kommun",
                    "partner": "Domkyrkopastoratet",
                    "start": "2017-04-01",
                    "end": "2019-03-31",
                    "notice_months": 6,
                    "decided_on": "2017-03-15",
                    "decided_by": "Omsorgsnämnden",
                    "decision_ref": "ON § 42",
                }
            )
            + "\n"
            + json.dumps(
                {
                    "command": "extend_agreement",
                    "case_number": CASE,
                    "end": "2023-03-31",
                    "decided_on": "2019-03-01",
                }
            )
            + "\n"
        )
    assert main(["configure", "--require-actor", "yes", "--store", store, "--actor", "IT"]) == 0
    assert main(["import", exchange, "--store", store]) == 1
    assert "actor" in capsys.readouterr().err
    monkeypatch.setenv("BIV_ACTOR", "Eva, handläggare")
    assert main(["import", exchange, "--store", store]) == 0
    capsys.readouterr()

    assert main(["history", CASE, "--json", "--store", store]) == 0
    facts = json.loads(capsys.readouterr().out)["facts"]
    assert [f["actor"] for f in facts] == ["Eva, handläggare", "Eva, handläggare"]
    assert facts[0]["decision"] == {
        "case_number": CASE,
        "body": "Omsorgsnämnden",
        "decided_on": "2017-03-15",
        "reference": "ON § 42",
    }
    assert facts[1]["decision"]["body"] is None


def test_an_empty_actor_is_refused() -> None:
    ledger = open_ledger("memory:")
    with pytest.raises(Refused) as refused:
        ledger.execute(ExtendAgreement(CASE, date(2020, 1, 1), date(2019, 1, 1)), actor=" ")
    assert refused.value.field == "actor"
