"""Our WordPress plugin's connect flow over real HTTP (app/stores/woo_plugin.py, app/inbox/woo_plugin_calls.py):
Connect runs our /woocommerce/connect at the stand-in store, which approves, and the merchant comes back to the
plugin's page with a one-time code; the plugin exchanges it (with its PKCE verifier) for the storefront keys,
then makes signed status and disconnect calls.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from urllib.parse import parse_qs, urlsplit

import pytest
from requests import Response

from app.extensions import db
from app.inbox.models import WebhookDelivery
from app.security import secret_box
from app.storefront.auth import mint_customer_token, verify_customer_token
from app.stores import woo_plugin
from app.stores.storefront_keys import read_keys
from app.stores.woo_plugin import sign_call
from tests.stores.woocommerce import conftest as shared
from tests.stores.woocommerce.conftest import app_url, run_jobs, the_store, web

site, wctx, woo_app = shared.site, shared.wctx, shared.woo_app
ADMIN_PAGE = "/wp-admin/admin.php?page=ppe-rewards"


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def plugin_connect(woo_app, site, challenge: str, return_to: str | None = None) -> Response:
    """The merchant presses Connect; returns our last redirect (towards the plugin's page, not followed)."""
    start = web.get(
        f"{app_url(woo_app)}/woocommerce/plugin/connect",
        params={"site": site.url, "return_to": return_to or site.url + ADMIN_PAGE, "challenge": challenge},
        allow_redirects=False,
        timeout=10,
    )
    assert start.status_code == 302, start.text
    assert start.headers["Location"].startswith(site.url + "/wc-auth/v1/authorize?")
    approved = web.get(start.headers["Location"], allow_redirects=False, timeout=10)  # the store approves
    assert approved.status_code == 302
    assert approved.headers["Location"].startswith(app_url(woo_app) + "/woocommerce/plugin/return?")
    back = web.get(approved.headers["Location"], allow_redirects=False, timeout=10)
    assert back.status_code == 302, back.text
    return back


def code_in(answer: Response) -> str:
    location = answer.headers["Location"]
    return parse_qs(urlsplit(location).query)["ppe_code"][0]


def exchange(woo_app, site, code: str, verifier: str) -> Response:
    body = {"code": code, "site": site.url, "verifier": verifier}
    return web.post(f"{app_url(woo_app)}/woocommerce/plugin/exchange", json=body, timeout=10)


def signed(keys: dict, method: str, path: str, body: bytes = b"", now: int | None = None) -> dict[str, str]:
    stamp = int(time.time()) if now is None else now
    return {"X-PPE-Store": keys["store_key"], "X-PPE-Signature": sign_call(keys["secret"], method, path, body, stamp)}


def test_connect_lands_on_the_plugin_page_with_a_code_it_exchanges_once(app, woo_app, site, wctx):
    verifier, challenge = pkce()
    back = plugin_connect(woo_app, site, challenge)
    assert back.headers["Location"].startswith(site.url + ADMIN_PAGE + "&ppe_code=")
    code = code_in(back)
    store = the_store()
    assert store.status == "active"

    assert exchange(woo_app, site, code, pkce()[0]).status_code == 400  # another verifier: a leaked code
    got = exchange(woo_app, site, code, verifier)
    assert got.status_code == 200, got.text
    keys = got.json()
    stored = read_keys(secret_box(), the_store())
    assert stored is not None and (keys["store_key"], keys["secret"]) == (stored.public_key, stored.secret)
    assert keys["site_key"] == urlsplit(site.url).netloc and keys["api_url"] == app_url(woo_app)
    # The keys are the ones our storefront checks tokens with.
    token = mint_customer_token(keys["site_key"], "7", keys["secret"], expires_at=int(time.time()) + 600)
    assert verify_customer_token(token, stored.secret or "", now=time.time()).customer_id == "7"

    again = exchange(woo_app, site, code, verifier)
    assert (again.status_code, again.json()["status"]) == (409, "code_used")


def test_codes_are_bound_to_their_site_and_expire(app, woo_app, site, wctx, monkeypatch):
    verifier, challenge = pkce()
    code = code_in(plugin_connect(woo_app, site, challenge))
    other = web.post(
        f"{app_url(woo_app)}/woocommerce/plugin/exchange",
        json={"code": code, "site": "https://elsewhere.example", "verifier": verifier},
        timeout=10,
    )
    assert (other.status_code, other.json()["status"]) == (400, "invalid_code")
    forged = code[:-2] + ("AA" if not code.endswith("AA") else "BB")
    assert exchange(woo_app, site, forged, verifier).status_code == 400
    monkeypatch.setattr(woo_plugin, "CODE_TTL_SECONDS", -1)  # every code is now past its lifetime
    assert exchange(woo_app, site, code, verifier).json()["status"] == "invalid_code"


@pytest.mark.parametrize(
    "return_to",
    ["https://attacker.example/wp-admin/", "javascript:alert(1)", "//attacker.example/x", "{site}@attacker.example/"],
)
def test_the_code_only_goes_back_to_the_site(app, woo_app, site, wctx, return_to):
    _, challenge = pkce()
    answer = web.get(
        f"{app_url(woo_app)}/woocommerce/plugin/connect",
        params={"site": site.url, "return_to": return_to.format(site=site.url), "challenge": challenge},
        allow_redirects=False,
        timeout=10,
    )
    assert answer.status_code == 400 and site.callbacks == []


def test_a_refused_connect_keeps_its_reason(app, woo_app, site, wctx):
    woo_app.config["WOO_ALLOW_PRIVATE_SITES"] = False
    try:
        _, challenge = pkce()
        answer = web.get(
            f"{app_url(woo_app)}/woocommerce/plugin/connect",
            params={"site": site.url, "return_to": site.url + ADMIN_PAGE, "challenge": challenge},
            allow_redirects=False,
            timeout=10,
        )
    finally:
        woo_app.config["WOO_ALLOW_PRIVATE_SITES"] = True
    assert answer.status_code == 400 and answer.json()["status"] == "site must be a public address"


def test_a_tampered_return_gets_no_code(app, woo_app, site, wctx):
    answer = web.get(
        f"{app_url(woo_app)}/woocommerce/plugin/return",
        params={"r": "x.y.z", "success": "1", "user_id": "u"},
        allow_redirects=False,
        timeout=10,
    )
    assert answer.status_code == 400


def test_status_and_disconnect_are_signed_calls(app, woo_app, site, wctx):
    verifier, challenge = pkce()
    keys = exchange(woo_app, site, code_in(plugin_connect(woo_app, site, challenge)), verifier).json()
    base = app_url(woo_app)
    path = "/woocommerce/plugin/status"
    assert web.get(base + path, timeout=10).status_code == 401
    stale = signed(keys, "GET", path, now=int(time.time()) - 3600)
    assert web.get(base + path, headers=stale, timeout=10).status_code == 401
    wrong = {**signed(keys, "GET", path), "X-PPE-Signature": sign_call("not-it", "GET", path, b"", int(time.time()))}
    assert web.get(base + path, headers=wrong, timeout=10).status_code == 401

    status = web.get(base + path, headers=signed(keys, "GET", path), timeout=10)
    assert status.status_code == 200 and status.json()["status"] == "active"
    assert status.json()["last_webhook_at"] is None
    store = the_store()
    db.session.add(
        WebhookDelivery(store_id=store.id, platform="woocommerce", topic="order.updated", dedupe_key="k1", body=b"{}")
    )
    db.session.commit()
    status = web.get(base + path, headers=signed(keys, "GET", path), timeout=10).json()
    assert status["last_webhook_at"] is not None

    path = "/woocommerce/plugin/disconnect"
    body = json.dumps({}).encode()
    tampered = signed(keys, "POST", path, b"{}")
    assert web.post(base + path, data=b'{"x":1}', headers=tampered, timeout=10).status_code == 401
    answer = web.post(base + path, data=body, headers=signed(keys, "POST", path, body), timeout=10)
    assert answer.status_code == 202
    run_jobs(woo_app)
    assert the_store().status == "uninstalled"


def test_the_dashboard_link_is_a_signed_call_whose_link_signs_in_once(app, woo_app, site, wctx):
    """The plugin's "Open the dashboard": its server asks with its signed call, the merchant's browser opens
    the link we answer, once (app/dashboard/plugin_link.py)."""
    verifier, challenge = pkce()
    keys = exchange(woo_app, site, code_in(plugin_connect(woo_app, site, challenge)), verifier).json()
    base, path = app_url(woo_app), "/app/plugin-link"
    assert web.post(base + path, data=b"{}", timeout=10).status_code == 401
    forged = {
        **signed(keys, "POST", path, b"{}"),
        "X-PPE-Signature": sign_call("x", "POST", path, b"{}", int(time.time())),
    }
    assert web.post(base + path, data=b"{}", headers=forged, timeout=10).status_code == 401
    other_path = signed(keys, "POST", "/woocommerce/plugin/disconnect", b"{}")  # a signature for another route
    assert web.post(base + path, data=b"{}", headers=other_path, timeout=10).status_code == 401

    answer = web.post(base + path, data=b"{}", headers=signed(keys, "POST", path, b"{}"), timeout=10)
    assert answer.status_code == 200, answer.text
    assert answer.headers["Cache-Control"] == "no-store"
    link = answer.json()["url"]
    assert link.startswith(base + "/app/login?token=") and answer.json()["expires_in"] > 0
    assert keys["secret"] not in link
    browser = web.get(link, allow_redirects=False, timeout=10)
    assert browser.status_code == 303 and "ppe_dash=" in browser.headers["Set-Cookie"]
    assert web.get(link, allow_redirects=False, timeout=10).status_code == 401  # single use
    fresh = web.post(base + path, data=b"{}", headers=signed(keys, "POST", path, b"{}"), timeout=10).json()["url"]
    assert fresh != link and web.get(fresh, allow_redirects=False, timeout=10).status_code == 303
