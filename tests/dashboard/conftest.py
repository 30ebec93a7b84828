"""Shared by the dashboard's tests: App Bridge-style session tokens, a magic-link sign-in, reading the figures."""

from __future__ import annotations

import re
import shutil
import subprocess
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import jwt
import pytest
from werkzeug.serving import make_server

from tests.conftest import SHOPIFY_SECRET

API_KEY = "test-api-key"
CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # The stand-in admin is a public origin and our app listens on 127.0.0.1: Chrome's Local Network Access
    # would refuse that frame (ERR_BLOCKED_BY_LOCAL_NETWORK_ACCESS_CHECKS), which a deployed app never meets.
    "--disable-features=LocalNetworkAccessChecks",
]
AXE_VERSION = "4.11.0"
AXE_DIR = Path(__file__).resolve().parents[1] / "artifacts" / "node"

FIGURE = re.compile(r'<dd data-figure="([^"]+)">([^<]*)</dd>')
CELL = re.compile(r"<td data-cell='([^']+)'[^>]*>(?:<span[^>]*>[^<]*</span>|([^<]*))</td>")

# Installed before any page script: the largest contentful paint, the layout shifts and the slowest interaction
# (INP's worst case: events of 16 ms or more with an interactionId), as the browser reports them.
# LCP stops at the first full-page screenshot (`__perf.shot`, set by FREEZE_LCP): Chromium takes one by growing the
# viewport to the whole page, which makes every element below the fold a new, later LCP candidate.
FREEZE_LCP = "() => { if (window.__perf) window.__perf.shot = true; }"
PERF = """window.__perf = {lcp: 0, cls: 0, inp: 0};
new PerformanceObserver((l) => { for (const e of l.getEntries()) if (e.interactionId)
  window.__perf.inp = Math.max(window.__perf.inp, e.duration); })
  .observe({type: 'event', durationThreshold: 16, buffered: true});
new PerformanceObserver((l) => { for (const e of l.getEntries())
  if (!window.__perf.shot) window.__perf.lcp = e.startTime; })
  .observe({type: 'largest-contentful-paint', buffered: true});
new PerformanceObserver((l) => { for (const e of l.getEntries()) if (!e.hadRecentInput) window.__perf.cls += e.value; })
  .observe({type: 'layout-shift', buffered: true});"""


@pytest.fixture
def dash(app, monkeypatch):
    """The shared app with an API key (Shopify's client id) and the Overview's today fixed at 2026-04-01."""
    monkeypatch.setitem(app.config, "SHOPIFY_API_KEY", API_KEY)
    monkeypatch.setitem(app.config, "DASHBOARD_CLOCK", lambda: datetime(2026, 4, 1, 9, tzinfo=UTC))
    return app


def session_token(shop: str, *, secret: str = SHOPIFY_SECRET, aud: str = API_KEY, exp_in: float = 60) -> str:
    """Signed as Shopify signs App Bridge session tokens (HS256 with the app's secret, aud = client id)."""
    now = time.time()
    claims = {
        "iss": f"https://{shop}/admin",
        "dest": f"https://{shop}",
        "aud": aud,
        "sub": "42",
        "exp": int(now + exp_in),
        "nbf": int(now - 5),
        "iat": int(now - 5),
        "jti": uuid.uuid4().hex,
        "sid": uuid.uuid4().hex,
    }
    return jwt.encode(claims, secret, algorithm="HS256")


def login_link(app, store) -> str:
    """What `flask stores admin-link` prints (the path and query of its URL)."""
    import json

    runner = app.test_cli_runner()
    result = runner.invoke(args=["stores", "admin-link", str(store.id)])
    assert result.exit_code == 0, result.output
    url = json.loads(result.output)["url"]
    return url[url.index("/app/") :]


def figures(html: str) -> dict[str, str]:
    return dict(FIGURE.findall(html))


def cells(html: str) -> dict[str, str]:
    """The cohort table's cells: {"cohorts.retention:<month>:<k>": text}, "" for a month not yet come."""
    return {key: text for key, text in CELL.findall(html)}


CSRF = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')


def signed_in(app, store, page: str = "/app"):
    """A test client with the store's dashboard cookie (by its magic link), and the CSRF token its forms carry."""
    client = app.test_client()
    assert client.get(login_link(app, store)).status_code == 303
    match = CSRF.search(client.get(page).text)
    assert match, "no form on the page"
    return client, match.group(1)


def bearer(shop: str) -> dict[str, str]:
    """What our script sends inside the Shopify admin: a fresh session token and the fragment header."""
    return {"Authorization": f"Bearer {session_token(shop)}", "X-PPE-Fragment": "1"}


@pytest.fixture(scope="module")
def axe_script() -> Path:
    """axe-core's script, installed from npm into tests/artifacts/node on first use."""
    if shutil.which("npm") is None:
        pytest.skip("no npm: axe-core cannot be installed")
    script = AXE_DIR / "node_modules" / "axe-core" / "axe.min.js"
    if not script.exists():
        AXE_DIR.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            ["npm", "install", "--prefix", str(AXE_DIR), "--no-audit", "--no-fund", f"axe-core@{AXE_VERSION}"],
            check=True,
            capture_output=True,
            timeout=300,
        )
    return script


@pytest.fixture
def live(dash):
    """The app on a real port, for the browser."""
    server = make_server("127.0.0.1", 0, dash, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture
def browser():
    """Debian's chromium, headless, driven by Playwright."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no chromium at {CHROMIUM} (apt-get install -y chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright not installed (requirements-dev.txt)")
    with sync_api.sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        yield instance
        instance.close()


@pytest.fixture
def shopify_standin(dash, monkeypatch):
    from tests.standins.shopify import StandInServer, StandInShopify

    with StandInServer(StandInShopify(api_key=API_KEY, api_secret=SHOPIFY_SECRET)) as standin:
        monkeypatch.setitem(dash.config, "SHOPIFY_ADMIN_ORIGIN", standin.origin())
        yield standin
