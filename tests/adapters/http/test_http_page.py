"""The auditor's page in a real browser: headless Chromium, driven by Playwright.

The Linköping history is recorded in three stages (2019, the 2022 extension a
fortnight after its decision, 2024), so that moving "Känt per" back before the
extension was recorded shows the agreement ending 2023-03-31 and a smaller
budget. Uses Debian's chromium (never a browser Playwright downloads); without
it, or without the playwright package, the test skips, except in CI.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.http_server import serve, store_of

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def needs(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI must run the browser test: {reason}")
    pytest.skip(reason)


def test_the_page_shows_the_budget_as_known_before_and_after_the_extension(
    tmp_path: Path,
) -> None:
    if not Path(CHROMIUM).exists():
        needs("no chromium: apt-get install chromium")
    try:
        from playwright.sync_api import expect, sync_playwright
    except ImportError:
        needs("no playwright: pip install 'biv-domain[dev]'")
    with (
        store_of("sqlite", tmp_path) as url,
        serve(url, log=tmp_path / "serve.log") as base,
        sync_playwright() as playwright,
    ):
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 1100})
            page.goto(base + "/")
            expect(page.locator("body")).to_have_attribute("data-ready", "yes")
            # Pick the Linköping agreement and the effective date 2023-10-01
            page.select_option("#agreement", "Dnr 2016-292")
            page.fill("#on", "2023-10-01")
            expect(page.locator("#end")).to_have_text("2024-03-31")
            expect(page.locator("#chain")).to_have_text("kedjan håller")
            expect(page.locator("#budget-chart rect.bar").first).to_be_visible()
            known_now = page.locator("#budget-total").inner_text()
            facts_now = page.locator("#timeline circle").count()
            page.screenshot(path=str(tmp_path / "known-now.png"), full_page=True)
            # Move "Känt per" back before the extension was recorded (2022-11-02)
            page.fill("#known-at", "2022-10-31")
            expect(page.locator("#end")).to_have_text("2023-03-31")
            expect(page.locator("#budget-total")).not_to_have_text(known_now)
            known_before = page.locator("#budget-total").inner_text()
            assert page.locator("#timeline circle").count() < facts_now
            assert page.locator("#digest").inner_text().count(":") == 1
            page.screenshot(path=str(tmp_path / "known-before-extension.png"), full_page=True)
        finally:
            browser.close()
    assert known_now != known_before
    assert (tmp_path / "known-before-extension.png").stat().st_size > 10_000
