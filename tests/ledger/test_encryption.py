"""Encryption at rest: with BIV_CIPHER_KEY nothing of a store is readable without the key.

An auditor still verifies the chain and takes its digest without the key; an
encrypted store answers every question exactly as a plain one with the same facts.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from contextlib import redirect_stderr, redirect_stdout
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from biv_adapters.cli import main
from biv_adapters.demo import CASE_NUMBER, linkoping_lines
from biv_adapters.stores.registry import new_cipher_key, parse_cipher_key
from biv_domain.converter import document
from biv_domain.ledger import MEMORY, Ledger
from biv_domain.model.commands import Command
from biv_domain.projections.budget import budget
from biv_domain.projections.history import History
from tests.conftest import DURABLE, durable_store, stored_bytes
from tests.strategies import StepClock, agreement_histories, case_number_of

LINES = [json.loads(line) for line in linkoping_lines()]
# Texts of six characters or more: a shorter one ("Ryd") turns up by chance in kilobytes of
# base64 ciphertext.
SECRETS = sorted(
    secret
    for secret in {
        *(line["participant_ref"] for line in LINES if "participant_ref" in line),
        *(line["area"] for line in LINES if "area" in line),
        *(line[k] for line in LINES for k in ("title", "partner") if k in line),
        CASE_NUMBER,
        "domkyrkopastorat",
    }
    if len(secret) >= 6
)


def biv(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def key(monkeypatch: pytest.MonkeyPatch) -> str:
    key = new_cipher_key()
    monkeypatch.setenv("BIV_CIPHER_KEY", key)
    return key


@pytest.fixture(params=DURABLE)
def store(request: pytest.FixtureRequest, tmp_path: Path, key: str) -> Iterator[str]:
    """An encrypted store holding the demo's history."""
    with durable_store(request.param, tmp_path, "encrypted") as (url, _schema):
        code, _out, err = biv("demo", "--store", url)
        assert code == 0, err
        yield url


def test_nothing_of_the_partnership_is_readable_in_the_stores_bytes(store: str) -> None:
    # Given the demo recorded with a store key
    data = stored_bytes(store)
    # Then no case number, title, partner, area or participant reference is in the store
    assert [secret for secret in SECRETS if secret.encode() in data] == []
    # And with the key, the ledger answers
    code, out, _err = biv("budget", CASE_NUMBER, "--on", "2023-10-01", "--json", "--store", store)
    assert code == 0
    assert json.loads(out)["end"] == "2024-03-31"


def test_without_the_key_or_with_another_nothing_is_read_but_the_chain_is_verified(
    store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    digest = biv("audit", "digest", "--store", store)[1].strip()
    for setting, reason in ((None, "is encrypted"), (new_cipher_key(), "not this store's key")):
        if setting is None:
            monkeypatch.delenv("BIV_CIPHER_KEY")
        else:
            monkeypatch.setenv("BIV_CIPHER_KEY", setting)
        for argv in (["history", CASE_NUMBER], ["budget", CASE_NUMBER, "--on", "2023-10-01"]):
            code, _out, err = biv(*argv, "--store", store)
            assert code == 1
            assert err.startswith("biv: refused: BIV_CIPHER_KEY: ")
            assert reason in err
            assert "Traceback" not in err
        # The auditor checks integrity without being able to read children's data
        assert biv("audit", "verify", "--digest", digest, "--store", store)[0] == 0
        assert biv("audit", "digest", "--store", store)[1].strip() == digest


def test_a_key_that_is_not_a_key_is_refused_naming_the_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BIV_CIPHER_KEY", "hunter2")
    code, _out, err = biv("demo", "--store", f"sqlite://{tmp_path}/biv.sqlite3")
    assert code == 1
    assert "BIV_CIPHER_KEY" in err
    assert "hunter2" not in err


def test_a_plain_store_is_never_half_encrypted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite://{tmp_path}/biv.sqlite3"
    monkeypatch.delenv("BIV_CIPHER_KEY", raising=False)
    assert biv("demo", "--store", url)[0] == 0
    monkeypatch.setenv("BIV_CIPHER_KEY", new_cipher_key())
    code, _out, err = biv("history", CASE_NUMBER, "--store", url)
    assert code == 1
    assert "written unencrypted" in err


def test_rotating_the_store_key_rewraps_the_keys_and_changes_no_fact(
    store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    digest = biv("audit", "digest", "--store", store)[1].strip()
    before = biv("history", CASE_NUMBER, "--json", "--store", store)[1]
    new = new_cipher_key()
    monkeypatch.setenv("BIV_NEW_CIPHER_KEY", new)
    code, out, err = biv("rekey", "--store", store)
    assert (code, err) == (0, "")
    assert "re-wrapped" in out
    # The old key no longer opens the store; the new one does, and the facts are the same
    assert biv("history", CASE_NUMBER, "--store", store)[0] == 1
    monkeypatch.setenv("BIV_CIPHER_KEY", new)
    assert biv("history", CASE_NUMBER, "--json", "--store", store)[1] == before
    assert biv("audit", "digest", "--store", store)[1].strip() == digest


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(agreement_histories())
def test_an_encrypted_store_answers_as_a_plain_one_with_the_same_facts(
    commands: list[Command],
) -> None:
    # Given the same commands recorded at the same times, once plain and once encrypted
    key = parse_cipher_key(new_cipher_key())
    plain, encrypted = Ledger(clock=StepClock()), Ledger(MEMORY, clock=StepClock(), cipher_key=key)
    for command in commands:
        plain.execute(command)
        encrypted.execute(command)
    assert encrypted.keys.encrypted
    # Then every answer is the same
    case = case_number_of(commands)
    answers: list[Any] = []
    for ledger in (plain, encrypted):
        state = ledger.agreement(case)
        answers.append(
            (
                document(History.of(case, ledger.history(case), None)),
                document(budget(state, date(2024, 1, 1))),
                document([f.standing(date(2024, 1, 1)) for f in ledger.follow_ups(case)]),
                document(ledger.fiscal_year(2023)),
            )
        )
    assert answers[0] == answers[1]
