"""Shared by the browser tests (test_widget_browser.py, test_widget_browser_points.py): the app on a real port, a
WooCommerce-style product page on its own origin, a seeded store, and Debian's chromium driven by Playwright.

Playwright's own browser downloads are never used: `executable_path=/usr/bin/chromium` (.ci/run installs it with
apt-get when missing); importing this module skips the importing test module when chromium or playwright is absent.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests
from werkzeug.serving import make_server

from app.extensions import db
from app.loyalty.ledger import award_action
from app.records.models import Customer
from app.reviews.links import star_token
from app.reviews.models import ReviewRequest
from app.security import secret_box
from app.storefront.auth import mint_customer_token
from app.stores.models.woocommerce import WooStoreState
from app.stores.service import add_store as add_store_service
from app.stores.storefront_keys import ensure_keys
from tests.helpers import WOO_SECRET, WOO_SITE, add_store, fixture_json, process_all, woo_headers
from tests.standins.woocommerce import WooStandin

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")


ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"  # tests/artifacts (git ignores it)


if not Path(CHROMIUM).exists():
    pytest.skip(f"no chromium at {CHROMIUM} (apt-get install -y chromium)", allow_module_level=True)


sync_api = pytest.importorskip("playwright.sync_api", reason="playwright not installed (requirements-dev.txt)")


def _serve(server) -> threading.Thread:
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return thread


@pytest.fixture
def live(app) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    _serve(server)
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


PAGE = """<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8"><title>Woo Single #1 - Test store</title>
<style>body{{font:16px/1.5 system-ui,sans-serif;margin:0 auto;max-width:52rem;padding:1rem;color:#222}}</style>
</head><body>
<main><h1>Woo Single #1</h1>
<span data-ppe="stars" data-product-id="93" style="display:inline-block;min-height:1.5em"></span>
<p>A single, simple, well-made thing. 9.00 EUR</p>
<div data-ppe="reviews" data-product-id="93" style="display:block;min-height:22rem"></div></main>
<script defer src="{api}/widget/latest/widget.js" data-api="{api}" data-store="{key}" data-token="{token}"
  data-primary="#7b2d8e"></script>
</body></html>"""


@pytest.fixture
def shop_page(live) -> Iterator[dict]:
    """The store's product page on its own origin (a second server), and the seeded store."""
    page = {"html": ""}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's name)
            body = page["html"].encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):  # quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    _serve(server)
    origin = f"http://127.0.0.1:{server.server_port}"
    page["origin"] = origin
    yield page
    server.shutdown()


REWARD = {"id": "five", "type": "fixed_amount", "points": 100, "value": "5", "currency": "EUR"}


def _seed(app, live: str, origin: str, site: WooStandin | None = None, tiers: list | None = None) -> dict:
    """The store (at the stand-in WooCommerce site when given, so the redemption job can create the coupon)."""
    if site is None:
        store = db.session.merge(add_store("woocommerce", currency="EUR"))
    else:
        key, secret = site.add_key()
        creds = {"consumer_key": key, "consumer_secret": secret, "webhook_secret": WOO_SECRET}
        store = add_store_service(db.session, secret_box(), "woocommerce", site.url, creds, currency="EUR")
        db.session.add(WooStoreState(store_id=store.id, api_url=site.url, webhooks={}))  # as wc-auth connect does
    store.settings = {
        "storefront": {"origins": [origin]},
        "loyalty": {"actions": {"signup": 200, "review": 25, "birthday": 0}, "rewards": [REWARD], "tiers": tiers or []},
    }
    keys = ensure_keys(db.session, secret_box(), store)
    db.session.commit()
    order = fixture_json("woocommerce", "order")
    order["customer_id"] = 42
    body = json.dumps(order).encode()
    source = (site.url + "/") if site else WOO_SITE
    with app.test_client() as client:
        headers = woo_headers("order.created", body, source=source)
        assert client.post("/webhooks/woocommerce", data=body, headers=headers).status_code
    process_all(app)
    customer = db.session.query(Customer).filter_by(store_id=store.id, platform_id="42").one()
    award_action(db.session, store, customer, "signup", "42")
    request_row = ReviewRequest(store_id=store.id, order_platform_id=str(order["id"]), customer_id=customer.id)
    request_row.status = "sent"
    db.session.add(request_row)
    db.session.commit()
    # The review is submitted the way the widget's form would: over HTTP, through the storefront door.
    answer = requests.post(
        f"{live}/api/v1/reviews?store={keys.public_key}",
        json={
            "token": star_token(store.id, request_row.id, "93", 5, "en"),
            "title": "Exactly as pictured",
            "body": "Sturdy, quick delivery, would buy again.",
            "display_name": "Ann K.",
        },
        timeout=10,
    )
    assert answer.status_code == 201 and answer.json()["review"]["status"] == "published", answer.text
    token = mint_customer_token(store.domain, "42", keys.secret, expires_at=int(time.time()) + 600)
    return {
        "store": store,
        "customer": customer,
        "key": keys.public_key,
        "token": token,
        "email": order["billing"]["email"],
    }


@pytest.fixture
def browser() -> Iterator:
    with sync_api.sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=["--disable-gpu"])
        yield instance
        instance.close()


def _open(browser, shop_page, live: str, seeded: dict, lang: str = "en"):
    shop_page["html"] = PAGE.format(lang=lang, api=live, key=seeded["key"], token=seeded["token"])
    page = browser.new_page(viewport={"width": 1100, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    # Every answer the page got, (status, url): the tests count the widget's requests.
    page.answers = []  # type: ignore[attr-defined]
    page.on("response", lambda answer: page.answers.append((answer.status, answer.url)))
    page.goto(shop_page["origin"] + "/product/woo-single-1")
    return page, errors


TIERS = [
    {"name": "Silver", "threshold": "100", "basis": "points_earned", "window": "lifetime", "multiplier": "1"},
    {"name": "Gold", "threshold": "1000", "basis": "points_earned", "window": "lifetime", "multiplier": "1"},
]


@pytest.fixture
def site() -> Iterator[WooStandin]:
    standin = WooStandin().start()
    yield standin
    standin.stop()


def _tab_until(page, selector: str, limit: int = 40) -> int:
    """Tab from where focus is until `selector` has it; the number of presses (fails if never)."""
    for presses in range(1, limit + 1):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => document.activeElement.matches(s)", selector):
            return presses
    raise AssertionError(f"{selector} never reached by Tab")


# WCAG 2.1 contrast ratio (https://www.w3.org/TR/WCAG21/#dfn-contrast-ratio), of an element's text against the
# first opaque background up its ancestors.
CONTRAST = """(el) => {
  const rgb = (c) => c.match(/[\\d.]+/g).map(Number);
  const lum = (c) => { const v = rgb(c).slice(0, 3).map((x) => { x /= 255; return x <= 0.03928 ? x / 12.92
    : Math.pow((x + 0.055) / 1.055, 2.4); }); return 0.2126 * v[0] + 0.7152 * v[1] + 0.0722 * v[2]; };
  let bg = el;
  while (bg && (getComputedStyle(bg).backgroundColor.match(/[\\d.]+/g) || [0, 0, 0, 0]).length === 4
         && rgb(getComputedStyle(bg).backgroundColor)[3] === 0) bg = bg.parentElement;
  const a = lum(getComputedStyle(el).color);
  const b = lum(bg ? getComputedStyle(bg).backgroundColor : 'rgb(255,255,255)');
  return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
}"""
