"""The harness the UI extensions' browser tests run in (tests/extensions/harness.html): the bundles built once, a
file server on its own origin (as Shopify's sandbox is) for the harness, bundles and locale files, the Shopify
stand-in, the seeded store, a page opened on a scenario, and the screenshots at 1280 and 390 px
(tests/artifacts/screenshots/extensions/, gitignored; their paths are printed).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote

import pytest

from app.storefront.extension_token import mint_extension_token
from scripts.build_extensions import OUT, ROOT, build
from tests.conftest import SHOPIFY_SECRET
from tests.extensions.seed import ALICE, CLIENT_ID, seed
from tests.helpers import SHOP
from tests.standins.shopify import StandInServer, StandInShopify, admin_schema

SHOTS = ROOT / "tests/artifacts/screenshots/extensions"
WIDTHS = (1280, 390)


@pytest.fixture(scope="module")
def bundles() -> dict:
    """Every extension built once for this module; PPE_API_URL is the harness's global (the live server)."""
    return build("globalThis.PPE_HARNESS_API")


class _Files(SimpleHTTPRequestHandler):
    """The harness, the bundles (.cache/extensions-build) and the locale files (extensions/<handle>/locales)."""

    def translate_path(self, path: str) -> str:
        path = path.split("?")[0].split("#")[0]
        if path == "/harness.html":
            return str(Path(__file__).with_name("harness.html"))
        if path.startswith("/bundles/"):
            return str(OUT / path.removeprefix("/bundles/"))
        if path.startswith("/locales/"):
            return str(ROOT / "extensions" / path.removeprefix("/locales/"))
        return "/nonexistent"

    def log_message(self, *args):  # quiet
        pass


@pytest.fixture
def harness() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_Files, directory=str(ROOT)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture
def shopify(app, monkeypatch):
    admin_schema()
    with StandInServer(StandInShopify(api_key=CLIENT_ID, api_secret=SHOPIFY_SECRET)) as server:
        monkeypatch.setitem(app.config, "SHOPIFY_ADMIN_ORIGIN", server.origin())
        monkeypatch.setitem(app.config, "SHOPIFY_API_KEY", CLIENT_ID)
        yield server


@pytest.fixture
def seeded(app, ctx, shopify):
    return seed(shopify.issue_tokens(SHOP)["access_token"])


def open_block(
    browser, harness: str, live: str, bundle: str, locale: str, *, lang="en", customer=ALICE, width=1280, **extra
):
    token = mint_extension_token(SHOP, CLIENT_ID, SHOPIFY_SECRET, now=int(time.time()), customer_id=customer)
    scenario = {
        "bundle": f"{harness}/bundles/{bundle}",
        "locale": f"{harness}/locales/{locale}",
        "lang": lang,
        "token": token,
        "api": live,
        "shop": SHOP,
        "customer": customer,
        **extra,
    }
    page = browser.new_page(viewport={"width": width, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.goto(f"{harness}/harness.html#{quote(json.dumps(scenario))}")
    page.wait_for_selector("body[data-ready='1']", timeout=15000)
    return page, errors


def screenshots(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        path = SHOTS / f"{name}-{width}.png"
        page.screenshot(path=str(path), full_page=True)
        print(f"screenshot: {path}")
