"""What the dashboard's browser tests share besides conftest.py's fixtures (chromium, the app on a real port,
axe-core): the stand-in Shopify admin (`ShopifyAdmin`: an admin page framing our app, and a stand-in App Bridge
script at Shopify's CDN address that hands out session tokens signed like Shopify's, HS256 with the app secret),
reading the Overview as the browser shows it, and measuring a page (LCP/CLS/INP, axe-core, a screenshot).
A module importing it is skipped where chromium, npm or Playwright is missing.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import SHOPIFY_SECRET
from tests.dashboard.conftest import CHROMIUM, PERF, session_token
from tests.helpers import SHOP

SHOTS = Path(__file__).resolve().parents[1] / "artifacts" / "screenshots" / "dashboard"
APP_BRIDGE = "https://cdn.shopify.com/shopifycloud/app-bridge.js"
ADMIN = "https://admin.shopify.com/store/test-shop/apps/ppe"

if not Path(CHROMIUM).exists():
    pytest.skip(f"no chromium at {CHROMIUM} (apt-get install -y chromium)", allow_module_level=True)
if shutil.which("npm") is None:
    pytest.skip("no npm: axe-core cannot be installed", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright not installed (requirements-dev.txt)")

# The stand-in App Bridge: what our page uses of it (shopify.idToken()), each call a fresh token from the test.
STANDIN_APP_BRIDGE = """window.shopify = {
  config: {apiKey: document.querySelector('meta[name="shopify-api-key"]').content},
  idToken: () => fetch('https://cdn.shopify.com/__standin/id-token').then((r) => r.text()),
};"""


class ShopifyAdmin:
    """A browser context that plays Shopify's side: the admin page framing our app, and App Bridge."""

    def __init__(self, browser, app_url: str, width: int, secret: str = SHOPIFY_SECRET) -> None:
        self.tokens = 0
        self.secret = secret
        self.context = browser.new_context(viewport={"width": width, "height": 900})
        self.context.add_init_script(PERF)
        self.context.route(
            APP_BRIDGE, lambda route: route.fulfill(body=STANDIN_APP_BRIDGE, content_type="text/javascript")
        )
        self.context.route("https://cdn.shopify.com/__standin/id-token", self._token)
        frame = (
            f'<iframe src="{app_url}" title="Post-purchase engine" style="border:0;width:100%;height:880px"></iframe>'
        )
        body = (
            f"<!doctype html><html lang='en'><title>Shopify admin</title><body style='margin:0'>{frame}</body></html>"
        )
        self.context.route(ADMIN, lambda route: route.fulfill(body=body, content_type="text/html"))

    def _token(self, route) -> None:
        self.tokens += 1
        headers = {"Access-Control-Allow-Origin": "*"}
        route.fulfill(body=session_token(SHOP, secret=self.secret), content_type="text/plain", headers=headers)


def track(page, live: str) -> tuple[list[str], list[dict]]:
    """Every document navigation (a redirect would show here) and every call to our server but static files."""
    documents: list[str] = []
    calls: list[dict] = []
    page.on("framenavigated", lambda frame: documents.append(frame.url))

    def seen(request) -> None:
        if request.url.startswith(live) and "/static/" not in request.url:
            calls.append(
                {"url": request.url, "type": request.resource_type, "auth": request.headers.get("authorization")}
            )

    page.on("request", seen)
    return documents, calls


def shown_cells(frame) -> dict[str, str]:
    """The cohort table's cells as the browser shows them ("" for a month not yet come: its text is hidden)."""
    return frame.evaluate(
        "() => Object.fromEntries([...document.querySelectorAll('[data-cell]')]"
        ".map((e) => [e.dataset.cell, e.querySelector('.ppe-visually-hidden') ? '' : e.textContent]))"
    )


def shown_figures(frame) -> dict[str, str]:
    return frame.evaluate(
        "() => Object.fromEntries([...document.querySelectorAll('[data-figure]')]"
        ".map((e) => [e.dataset.figure, e.textContent]))"
    )


def serious_violations(target, axe: Path, *, iframes: bool = True) -> list[tuple[str, str, int]]:
    """axe-core's serious and critical violations in `target`'s document (a page or the app's frame): rule, impact,
    how many nodes."""
    target.add_script_tag(path=str(axe))
    options = "{resultTypes: ['violations']" + ("" if iframes else ", iframes: false") + "}"
    result = target.evaluate(f"() => axe.run(document, {options})")
    return [
        (v["id"], v["impact"], len(v["nodes"])) for v in result["violations"] if v["impact"] in ("serious", "critical")
    ]


def measure(page, axe_script: Path, tmp_path: Path, name: str) -> dict:
    """Screenshots, LCP/CLS and axe-core's serious and critical violations of the page as it stands."""
    page.locator("summary").first.click()  # interactions for INP: open a chart's numbers, then move by keyboard
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.wait_for_timeout(300)
    perf = page.evaluate("() => window.__perf")
    bad = serious_violations(page, axe_script)
    SHOTS.mkdir(parents=True, exist_ok=True)
    shot = SHOTS / f"{name}.png"
    page.screenshot(path=str(shot), full_page=True)
    print(f"\n{name}: LCP {perf['lcp']:.0f} ms, CLS {perf['cls']:.4f}, INP {perf['inp']:.0f} ms, screenshot {shot}")
    return {"lcp": perf["lcp"], "cls": perf["cls"], "inp": perf["inp"], "violations": bad}


def check(measured: dict) -> None:
    assert measured["lcp"] <= 2500 and measured["cls"] <= 0.1 and measured["inp"] <= 200, measured
    assert measured["violations"] == [], measured["violations"]
