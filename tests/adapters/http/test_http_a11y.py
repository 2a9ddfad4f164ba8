"""The auditor's page meets WCAG 2.1 AA (EN 301 549, lag 2018:1937) in each of its states.

axe-core (the npm package, `.ci/run` installs it into tests/a11y/node_modules) runs in
Debian's chromium, driven by Playwright, on each state of the page: no agreement, one
chosen (a lone agreement is preselected), a past "Känt per", and an error; WCAG 2.0 and
2.1 A and AA rules: 0 violations. axe leaves the contrast of SVG text "incomplete", so
the contrast of every text on the page, the charts' too, is computed here from the
page's own colours: at least 4.5:1. The charts' text is at least 12 px at the size it
is drawn, each chart has a data table, and the page is operated with the keyboard.
The test skips, with the reason, only when chromium, playwright or axe is absent
(in CI it must run).
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from biv_adapters.stores.registry import open_ledger
from tests.http_server import serve, store_of

ROOT = Path(__file__).resolve().parents[3]
AXE = ROOT / "tests" / "a11y" / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
CASE = "Dnr 2016-292"

# Every visible text: its colour (an SVG text's fill), the background behind it (the first
# ancestor's opaque background colour, else the page's white), its size.
TEXTS_JS = """() => {
  const out = [];
  const opaque = (c) => c && c !== "transparent" && !/rgba\\(.*,\\s*0\\)$/.test(c);
  const background = (node) => {
    for (let n = node; n && n.nodeType === 1; n = n.parentElement) {
      const c = getComputedStyle(n).backgroundColor;
      if (opaque(c)) return c;
    }
    return "rgb(255, 255, 255)";
  };
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let t = walker.nextNode(); t; t = walker.nextNode()) {
    const el = t.parentElement;
    if (!t.textContent.trim() || !el || el.closest("title, script, style, option")) continue;
    if (!el.getClientRects().length) continue;
    const style = getComputedStyle(el);
    if (style.visibility === "hidden") continue;
    const svg = el instanceof SVGElement;
    out.push({ text: t.textContent.trim().slice(0, 40), svg,
      colour: svg ? style.fill : style.color, background: background(el),
      size: parseFloat(style.fontSize) });
  }
  return out;
}"""


def _needs(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI must run the accessibility test: {reason}")
    pytest.skip(reason)


def rgb(text: str) -> tuple[float, float, float]:
    values = [float(v) for v in re.findall(r"[\d.]+", text)[:3]]
    assert len(values) == 3, text
    return values[0], values[1], values[2]


def luminance(colour: tuple[float, float, float]) -> float:
    """WCAG 2.1's relative luminance of an sRGB colour."""

    def linear(channel: float) -> float:
        c = channel / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(c) for c in colour)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    high, low = sorted((luminance(rgb(a)), luminance(rgb(b))), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_contrast_is_computed_as_wcag_says() -> None:
    # The finding: the legend's #38a169 on white is 3.25:1
    assert round(contrast("rgb(56, 161, 105)", "rgb(255, 255, 255)"), 2) == 3.25
    assert round(contrast("rgb(0, 0, 0)", "rgb(255, 255, 255)"), 1) == 21.0


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        _needs("no chromium: apt-get install chromium")
    if not AXE.exists():
        _needs(f"no axe-core at {AXE}: npm ci --prefix tests/a11y (.ci/run does it)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _needs("no playwright: pip install 'biv-domain[dev]'")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield browser
        finally:
            browser.close()


def axe_violations(page: Any) -> list[dict[str, Any]]:
    page.evaluate(AXE.read_text("utf-8"))
    result = page.evaluate(
        "(tags) => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG
    )
    return [
        {"id": v["id"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in result["violations"]
    ]


def low_contrast(page: Any) -> list[tuple[str, float]]:
    texts = page.evaluate(TEXTS_JS)
    assert texts
    ratios = [(t["text"], contrast(t["colour"], t["background"])) for t in texts]
    return [(text, round(ratio, 2)) for text, ratio in ratios if ratio < 4.5]


def check_state(page: Any, state: str) -> None:
    """axe's WCAG 2.x A and AA rules, and the contrast of every text, in this state."""
    assert axe_violations(page) == [], state
    assert low_contrast(page) == [], state
    small = [t for t in page.evaluate(TEXTS_JS) if t["svg"] and t["size"] < 12]
    assert small == [], state


def ready(page: Any, base: str) -> None:
    from playwright.sync_api import expect

    page.goto(base + "/")
    expect(page.locator("body")).to_have_attribute("data-ready", "yes")


def test_the_page_without_an_agreement(browser: Any, tmp_path: Path) -> None:
    url = f"sqlite://{tmp_path}/empty.sqlite3"
    open_ledger(url).close()
    with serve(url, log=tmp_path / "serve.log") as base:
        page = browser.new_page(viewport={"width": 1200, "height": 1000})
        ready(page, base)
        assert page.locator("#agreement").input_value() == ""
        assert "inga avtal" in page.locator("#agreement").inner_text()
        check_state(page, "no agreement")
        page.close()


@pytest.fixture(scope="module")
def staged(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("a11y")
    with store_of("sqlite", folder) as url, serve(url, log=folder / "serve.log") as base:
        yield base


def test_the_page_with_its_lone_agreement_chosen(browser: Any, staged: str) -> None:
    from playwright.sync_api import expect

    page = browser.new_page(viewport={"width": 1200, "height": 1000})
    ready(page, staged)
    # Then the store's one agreement is chosen without asking
    assert page.locator("#agreement").input_value() == CASE
    page.fill("#on", "2023-10-01")
    page.locator("#on").dispatch_event("change")
    expect(page.locator("#end")).to_have_text("2024-03-31")
    # the years with no decision are a hatched gap, in the chart and in its table
    gaps = page.locator("#budget-chart rect.gap")
    assert [gaps.nth(i).get_attribute("data-year") for i in range(gaps.count())] == [
        "2020", "2021", "2022",
    ]  # fmt: skip
    assert page.locator("#budget-table tbody tr").count() == 8
    assert "saknas i underlagen" in page.locator("#budget-table").inner_text()
    # no date or amount wraps
    for selector in ("#end", "#budget-total", "#budget-table td.amount"):
        assert (
            page.locator(selector).first.evaluate("(e) => getComputedStyle(e).whiteSpace")
            == "nowrap"
        )
    assert "\u00a0kr" in page.locator("#budget-total").inner_text()
    # the charts are drawn at their size: their 13 px text is 13 px on the screen
    for chart in ("#budget-chart svg", "#timeline svg"):
        drawn = page.locator(chart).evaluate(
            "(s) => [s.getBoundingClientRect().width, s.viewBox.baseVal.width]"
        )
        assert drawn[0] == pytest.approx(drawn[1])
    check_state(page, "one agreement chosen")
    page.close()


def test_the_page_as_known_at_a_past_day(browser: Any, staged: str) -> None:
    from playwright.sync_api import expect

    page = browser.new_page(viewport={"width": 1200, "height": 1000})
    ready(page, staged)
    page.fill("#known-at", "2022-10-31")
    page.locator("#known-at").dispatch_event("change")
    expect(page.locator("#end")).to_have_text("2023-03-31")
    check_state(page, "a past känt per")
    page.close()


def test_the_page_with_an_error_says_it_in_swedish(browser: Any, staged: str) -> None:
    from playwright.sync_api import expect

    page = browser.new_page(viewport={"width": 1200, "height": 1000})
    ready(page, staged)
    page.fill("#known-at", "2018-01-01")  # before the agreement was first recorded (2019)
    page.locator("#known-at").dispatch_event("change")
    expect(page.locator("#message")).to_contain_text("Avtalet var ännu inte registrerat")
    assert "recorded" not in page.locator("#message").inner_text()
    check_state(page, "an error")
    page.close()


def test_the_page_is_operated_with_the_keyboard(browser: Any, staged: str) -> None:
    page = browser.new_page(viewport={"width": 1200, "height": 1000})
    ready(page, staged)
    reached = []
    for _ in range(30):  # a date input takes a Tab for each of its parts
        page.keyboard.press("Tab")
        reached.append(page.evaluate("() => document.activeElement.id || "
                                     "document.activeElement.tagName.toLowerCase()"))  # fmt: skip
    for control in ("agreement", "on", "known-at", "token", "summary"):
        assert control in reached
    # The timeline's table opens from the keyboard and its region takes the focus
    page.focus("details summary")
    page.keyboard.press("Enter")
    assert page.locator("details").evaluate("(d) => d.open")
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.getAttribute('role')") == "region"
    assert page.locator("#timeline-table tbody tr").count() > 100
    page.close()


def test_the_accessibility_statement_is_linked_and_passes(browser: Any, staged: str) -> None:
    page = browser.new_page(viewport={"width": 1200, "height": 1000})
    ready(page, staged)
    page.click("text=Tillgänglighetsredogörelse")
    page.wait_for_url("**/tillganglighet")
    text = page.locator("main").inner_text()
    for heading in (
        "Hur tillgänglig är webbplatsen?",
        "Tillsyn",
        "Innehåll som inte är tillgängligt",
        "Hur vi testat webbplatsen",
    ):
        assert heading in text
    assert page.locator("html").get_attribute("lang") == "sv"
    check_state(page, "the accessibility statement")
    page.close()


def test_the_page_has_no_inline_script_or_style() -> None:
    # So that it works under a Content-Security-Policy of script-src and style-src 'self'
    http = ROOT / "adapters" / "biv_adapters" / "http"
    for template in (http / "templates").glob("*.html"):
        text = template.read_text("utf-8")
        assert not re.search(r"<script(?![^>]*\bsrc=)", text), template.name
        assert not re.search(r"\sstyle=|<style|\son[a-z]+=", text), template.name
    script = (http / "static" / "app.js").read_text("utf-8")
    assert not re.search(r"[{,]\s*style\s*:|setAttribute\(\s*\"style\"|innerHTML", script)
