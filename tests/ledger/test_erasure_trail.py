"""Erasures in the audit trail (issue 21, item 7).

After `biv erase` and a retention (gallring), `biv history`, `audit replay --diff`, the
auditor's pack (`history.csv`, `history.jsonl`, the workbook) and the page's timeline
list each erasure and retention with who, when, the decision and the reason, naming the
participant by pseudonym or stand-in only, never by the partner's reference.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from biv_adapters.cli import main
from biv_adapters.demo import record_linkoping
from biv_adapters.stores.registry import open_ledger
from tests.conftest import DURABLE, durable_store

CASE = "Dnr 2016-292"
CHILD = "ILL-C001"
RETENTION = {
    "id": "gallring/2024",
    "command": "apply_retention",
    "ended_before": "2023-08-01",
    "reason": "gallringsbeslut SN 2024-01",
    "decided_on": "2024-01-15",
}


@pytest.fixture(params=DURABLE)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A store holding the Linköping history."""
    with durable_store(request.param, tmp_path) as (url, _schema):
        ledger = open_ledger(url, actor="Linköpings kommun, registrator")
        record_linkoping(ledger)
        ledger.close()
        yield url


def biv(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def references(store: str, capsys: pytest.CaptureFixture[str]) -> set[str]:
    """Every participant's reference the history names before anything is erased."""
    code, out, _ = biv(capsys, "history", CASE, "--json", "--store", store)
    assert code == 0
    facts = json.loads(out)["facts"]
    found = {f["data"]["participant_ref"] for f in facts if "participant_ref" in f["data"]}
    return found | {ref for f in facts for ref in f["data"].get("attendees", [])}


def erase_and_retain(store: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    """Erases CHILD, then runs the retention; returns the moment in between for a diff."""
    erase = ("erase", CHILD, "--reason", "vårdnadshavarens begäran", "--decided-on", "2024-01-10")
    code, _, err = biv(capsys, *erase, "--actor", "Registrator Anna", "--store", store)
    assert code == 0, err
    exchange = tmp_path / "retention.jsonl"
    exchange.write_text(json.dumps(RETENTION) + "\n", "utf-8")
    code, _, err = biv(capsys, "import", str(exchange), "--actor", "Arkivarie Bo", "--store", store)
    assert code == 0, err
    return "2000-01-01T00:00:00Z"


def erasures(facts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [fact for fact in facts if fact["type"] == "ParticipantErased"]


def assert_no_reference(text: str, refs: set[str]) -> None:
    named = sorted(ref for ref in refs if ref in text)
    assert not named, f"references in the clear: {named[:5]}"


def test_history_and_the_diff_list_each_erasure_and_retention_by_pseudonym(
    store: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given the history's participants, and nothing erased yet
    refs = references(store, capsys)
    assert CHILD in refs
    code, out, _ = biv(capsys, "history", CASE, "--json", "--store", store)
    assert not erasures(json.loads(out)["facts"])
    # When a child is erased on request and the retention schedule is carried out
    since = erase_and_retain(store, tmp_path, capsys)
    gone = refs - references(store, capsys)  # the erased participants' references
    assert CHILD in gone
    assert len(gone) > 1

    # Then the history lists each, with who, when, the decision and the reason
    code, out, _ = biv(capsys, "history", CASE, "--json", "--store", store)
    assert code == 0
    listed = erasures(json.loads(out)["facts"])
    by_actor = {fact["actor"] for fact in listed}
    assert by_actor == {"Registrator Anna", "Arkivarie Bo"}
    request = [f for f in listed if f["actor"] == "Registrator Anna"]
    assert len(request) == 1
    assert request[0]["data"]["reason"] == "vårdnadshavarens begäran"
    assert request[0]["decision"]["decided_on"] == "2024-01-10"
    assert request[0]["recorded_at"]
    retained = [f for f in listed if f["actor"] == "Arkivarie Bo"]
    assert retained
    assert all(f["data"]["reason"] == "retention: gallringsbeslut SN 2024-01" for f in retained)
    assert all(f["decision"]["decided_on"] == "2024-01-15" for f in retained)
    # by pseudonym only: the stand-in the other facts show is the pseudonym's start
    stand_ins = {f"erased-{f['data']['participant'][:12]}" for f in listed}
    assert stand_ins <= _named(json.loads(out)["facts"])
    assert_no_reference(json.dumps(listed, ensure_ascii=False), refs)
    # in the history's text as well
    code, text, _ = biv(capsys, "history", CASE, "--store", store)
    assert text.count("ParticipantErased") == len(listed)
    assert "vårdnadshavarens begäran" in text
    assert_no_reference(text, gone)
    # and as known before they were recorded, none
    first = min(f["recorded_at"] for f in listed)
    code, out, _ = biv(
        capsys, "history", CASE, "--as-known-at", _before(first), "--json", "--store", store
    )
    assert not erasures(json.loads(out)["facts"])

    # The replay's diff lists them among the facts recorded in between
    code, out, _ = biv(capsys, "audit", "replay", CASE, "--since", since, "--diff", "--json",
                       "--store", store)  # fmt: skip
    assert code == 0
    assert len(erasures(json.loads(out)["facts"])) == len(listed)
    code, text, _ = biv(capsys, "audit", "replay", CASE, "--since", since, "--diff",
                        "--store", store)  # fmt: skip
    assert "ParticipantErased (vårdnadshavarens begäran)" in text
    assert "2024-01-10" in text
    assert_no_reference(text, gone)
    # and verify holds: each key is gone with its fact
    assert biv(capsys, "audit", "verify", "--store", store)[0] == 0


def test_the_pack_lists_each_erasure_in_its_history_and_workbook(
    store: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    refs = references(store, capsys)
    erase_and_retain(store, tmp_path, capsys)
    gone = refs - references(store, capsys)
    out = tmp_path / "pack"
    argv = ("audit", "export", CASE, "--out", str(out), "--lang", "en", "--csv-dialect", "rfc4180")
    code, _, err = biv(capsys, *argv, "--store", store)
    assert code == 0, err
    with (out / "history.csv").open(encoding="utf-8") as handle:
        rows = [row for row in csv.DictReader(handle) if "ParticipantErased" in row.values()]
    assert len(rows) >= 2
    reasons = {json.loads(next(v for v in row.values() if v.startswith("{")))["reason"]
               for row in rows}  # fmt: skip
    assert "vårdnadshavarens begäran" in reasons
    assert "retention: gallringsbeslut SN 2024-01" in reasons
    assert {"Registrator Anna", "Arkivarie Bo"} <= {v for row in rows for v in row.values()}
    assert "2024-01-10" in {v for row in rows for v in row.values()}
    lines = (out / "history.jsonl").read_text("utf-8").splitlines()
    assert len(erasures([json.loads(line) for line in lines])) == len(rows)
    for name in ("history.csv", "history.jsonl"):
        assert_no_reference((out / name).read_text("utf-8"), gone)
    from openpyxl import load_workbook

    book = load_workbook(out / "workbook.xlsx", read_only=True)
    cells = [c for sheet in book for row in sheet.iter_rows(values_only=True) for c in row]
    assert cells.count("ParticipantErased") == len(rows)
    assert_no_reference(" ".join(str(c) for c in cells if isinstance(c, str)), gone)


def test_the_page_timeline_shows_each_erasure_with_its_decision_and_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(chromium).exists():
        _needs("no chromium: apt-get install chromium")
    try:
        from playwright.sync_api import expect, sync_playwright
    except ImportError:
        _needs("no playwright: pip install 'biv-domain[dev]'")
    from tests.adapters.http.test_http_page import ARGS
    from tests.http_server import serve, store_of

    with store_of("sqlite", tmp_path) as url:
        refs = references(url, capsys)
        erase_and_retain(url, tmp_path, capsys)
        with serve(url, log=tmp_path / "serve.log") as base, sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium, args=ARGS)
            try:
                page = browser.new_page(viewport={"width": 1200, "height": 1100})
                page.goto(base + "/")
                expect(page.locator("body")).to_have_attribute("data-ready", "yes")
                page.select_option("#agreement", CASE)
                expect(page.locator("#chain")).to_have_text("kedjan håller")
                dots = page.locator("#timeline circle.erasure")
                expect(dots.first).to_be_attached()
                titles = [dots.nth(i).text_content() or "" for i in range(dots.count())]
            finally:
                browser.close()
    assert any("radering av erased-" in t and "vårdnadshavarens begäran" in t for t in titles)
    assert any("gallring av erased-" in t and "beslutat 2024-01-15" in t for t in titles)
    assert_no_reference(" ".join(titles), refs)


def _named(facts: list[dict[str, Any]]) -> set[str]:
    found = {f["data"]["participant_ref"] for f in facts if "participant_ref" in f["data"]}
    return found | {ref for f in facts for ref in f["data"].get("attendees", [])}


def _before(moment: str) -> str:
    from datetime import datetime, timedelta

    return (datetime.fromisoformat(moment) - timedelta(microseconds=1)).isoformat()


def _needs(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI must run the browser test: {reason}")
    pytest.skip(reason)


def test_the_page_names_what_verify_found_beside_the_chain(tmp_path: Path) -> None:
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(chromium).exists():
        _needs("no chromium: apt-get install chromium")
    try:
        from playwright.sync_api import expect, sync_playwright
    except ImportError:
        _needs("no playwright: pip install 'biv-domain[dev]'")
    from tests.adapters.http.test_http_page import ARGS
    from tests.http_server import serve, store_of
    from tests.ledger.test_verify_store import Insider

    with store_of("sqlite", tmp_path) as url:
        insider = Insider(url, None)
        insider.multiply_amount(10)
        insider.close()
        with serve(url, log=tmp_path / "serve.log") as base, sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium, args=ARGS)
            try:
                page = browser.new_page(viewport={"width": 1200, "height": 1100})
                page.goto(base + "/")
                expect(page.locator("body")).to_have_attribute("data-ready", "yes")
                page.select_option("#agreement", CASE)
                expect(page.locator("#chain")).to_contain_text("kontrollen fann: the funding view")
                expect(page.locator("#chain")).to_have_class("broken")
            finally:
                browser.close()
