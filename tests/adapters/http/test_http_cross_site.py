"""Another web page against `biv serve`, in a real browser (headless Chromium, via Playwright).

Given `biv serve` on loopback and a page the local user visits, served from another
origin (a second loopback server: no Private Network Access rule of the browser's
stands in between), when its script `fetch`es the service, then it reads nothing
and stores nothing. And when the attacker's name is rebound to 127.0.0.1 (Chromium's
`--host-resolver-rules`), the page is on the service's own origin, and the service
still answers nothing but 421, because it does not answer for that Host.
"""

from __future__ import annotations

import http.server
import json
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path

import httpx

from tests.adapters.http.test_http_page import ARGS, CHROMIUM, needs
from tests.builders import biv_serve, free_port
from tests.http_server import ROOT, store_of

ERASE = (
    '{"command":"erase_participant","participant_ref":"ILL-C001",'
    '"reason":"x","decided_on":"2024-01-01"}'
)
# The attacker's page: `attack(target)` tries each request and says what it got.
ATTACK = """<!doctype html><html><body><script>
const erase = ERASE;
async function attempt(name, url, options) {
  try {
    const response = await fetch(url, options);
    let text = "";
    try { text = await response.text(); } catch (e) { text = ""; }
    return { name, type: response.type, status: response.status, text };
  } catch (e) {
    return { name, error: String(e) };
  }
}
async function attack(target) {
  const history = target + "/agreements/Dnr%202016-292/history";
  return [
    await attempt("post text/plain, no-cors", target + "/imports",
      { method: "POST", mode: "no-cors", headers: { "Content-Type": "text/plain" }, body: erase }),
    await attempt("post json lines", target + "/imports",
      { method: "POST", headers: { "Content-Type": "application/x-ndjson" }, body: erase }),
    await attempt("get history", history, {}),
    await attempt("get history, no-cors", history, { mode: "no-cors" }),
  ];
}
</script></body></html>"""


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def attacker_site(folder: Path, port: int = 0) -> Iterator[str]:
    """A plain web server on loopback serving the attacker's page; yields the page's URL path."""
    (folder / "attack.html").write_text(ATTACK.replace("ERASE", json.dumps(ERASE)), "utf-8")
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", port), partial(Quiet, directory=str(folder))
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/attack.html"
    finally:
        server.shutdown()
        server.server_close()


def test_a_page_of_another_origin_or_a_rebound_name_gets_nothing_and_stores_nothing(
    tmp_path: Path,
) -> None:
    if not Path(CHROMIUM).exists():
        needs("no chromium: apt-get install chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        needs("no playwright: pip install 'biv-domain[dev]'")
    site = tmp_path / "site"
    site.mkdir()
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    rules = "--host-resolver-rules=MAP evil.example 127.0.0.1"
    with (
        store_of("sqlite", tmp_path) as url,
        sync_playwright() as playwright,
    ):
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=[*ARGS, rules])
        try:
            # DNS rebinding: the attacker's page is loaded from evil.example:PORT, which the
            # attacker's server answers; then the name (here: the port) is the service's.
            rebound_page = browser.new_page()
            with attacker_site(site, port):
                rebound_page.goto(f"http://evil.example:{port}/attack.html")
            with biv_serve(url, env=env, port=port) as base:
                before = httpx.get(base + "/audit/digest").json()["digest"]
                rebound = rebound_page.evaluate("attack('')")  # same origin, to the page
                # A page of another origin (another loopback port) against the service
                with attacker_site(site) as attack:
                    page = browser.new_page()
                    page.goto(attack)
                    cross_site = page.evaluate(f"attack({json.dumps(base)})")
                after = httpx.get(base + "/audit/digest").json()["digest"]
                history = httpx.get(base + "/agreements/Dnr%202016-292/history").json()
        finally:
            browser.close()
    assert after == before
    assert "ParticipantErased" not in json.dumps(history)
    # Refused by the browser, or opaque (nothing readable): never the service's answer
    for result in cross_site:
        assert "error" in result or (result["type"], result["text"]) == ("opaque", ""), result
    by_name = {r["name"]: r for r in cross_site}
    assert "error" in by_name["post json lines"]  # its preflight was refused
    assert "error" in by_name["get history"]
    # Chromium takes a 421 (Misdirected Request) as a failed fetch: either way, nothing
    for result in rebound:
        assert "error" in result or result["status"] == 421, result
        assert "Dnr 2016-292" not in str(result.get("text", ""))
