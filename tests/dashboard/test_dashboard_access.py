"""Who reaches the dashboard: a WooCommerce merchant by a one-time link and a cookie for one store, a Shopify
merchant inside the admin by App Bridge session tokens (no OAuth redirect), nobody else; CSRF on cookie forms."""

from __future__ import annotations

from http.cookies import SimpleCookie

import pytest
from itsdangerous import TimestampSigner

from app.admin.auth import revoke_admin_tokens
from app.extensions import db
from tests.dashboard.conftest import API_KEY, login_link, session_token
from tests.helpers import SHOP, add_store


def _set_cookie(answer) -> SimpleCookie:
    cookie = SimpleCookie()
    for header in answer.headers.getlist("Set-Cookie"):
        cookie.load(header)
    return cookie


def test_magic_link_signs_in_once_with_a_strict_cookie(dash, ctx):
    store = add_store("woocommerce", name="Woo Shop")
    client = dash.test_client()
    link = login_link(dash, store)
    answer = client.get(link)
    assert answer.status_code == 303 and answer.headers["Location"] == "/app"
    header = answer.headers["Set-Cookie"]
    assert "HttpOnly" in header and "SameSite=Lax" in header and "Path=/app" in header
    assert "Secure" not in header  # http://127.0.0.1 in development; production is below
    page = client.get("/app")
    assert page.status_code == 200 and "Woo Shop" in page.text and 'data-figure="orders.count"' in page.text
    assert page.headers["Content-Security-Policy"] == "frame-ancestors 'none';"
    # The same link again, even from another browser: refused.
    again = dash.test_client().get(link)
    assert again.status_code == 401 and "ppe_dash" not in again.headers.get("Set-Cookie", "")


def test_cookie_is_secure_in_production(dash, ctx, monkeypatch):
    monkeypatch.setitem(dash.config, "APP_ENV", "production")
    store = add_store("woocommerce")
    answer = dash.test_client().get(login_link(dash, store))
    assert "Secure" in answer.headers["Set-Cookie"]


def test_expired_and_forged_links_are_refused(dash, ctx, monkeypatch):
    store = add_store("woocommerce")
    link = login_link(dash, store)
    client = dash.test_client()
    assert client.get(link.replace("token=", "token=x")).status_code == 401
    real = TimestampSigner.get_timestamp
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: real(self) + 601)
    assert client.get(link).status_code == 401
    assert client.get("/app").status_code == 401


def test_cookie_names_one_store_and_revocation_ends_it(dash, ctx):
    mine = add_store("woocommerce", name="Mine")
    add_store("woocommerce", domain="https://other.example", name="Other")
    client = dash.test_client()
    client.get(login_link(dash, mine))
    page = client.get("/app")
    assert "Mine" in page.text and "Other" not in page.text
    revoke_admin_tokens(mine)  # `flask stores admin-token --revoke`
    db.session.commit()
    assert client.get("/app").status_code == 401


def test_forms_need_the_csrf_token(dash, ctx):
    store = add_store("woocommerce")
    client = dash.test_client()
    client.get(login_link(dash, store))
    page = client.get("/app").text
    token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    assert client.post("/app/logout", data={}).status_code == 400
    assert client.post("/app/logout", data={"csrf_token": token[::-1]}).status_code == 400
    assert client.get("/app").status_code == 200  # still signed in
    out = client.post("/app/logout", data={"csrf_token": token})
    assert out.status_code == 200 and _set_cookie(out)["ppe_dash"].value == ""
    assert client.get("/app").status_code == 401


def test_without_credentials_a_sign_in_page_or_json(dash, ctx):
    client = dash.test_client()
    page = client.get("/app")
    assert page.status_code == 401 and "admin-link" in page.text and page.mimetype == "text/html"
    fragment = client.get("/app", headers={"X-PPE-Fragment": "1"})
    assert fragment.status_code == 401 and fragment.json == {"error": "unauthorized"}


def test_shopify_admin_load_is_the_frame_with_app_bridge_never_a_redirect(dash, ctx):
    add_store("shopify")
    answer = dash.test_client().get(f"/app?shop={SHOP}&host=YWRtaW4&embedded=1")
    assert answer.status_code == 200
    html = answer.text
    assert f'<meta name="shopify-api-key" content="{API_KEY}">' in html
    assert '<script src="https://cdn.shopify.com/shopifycloud/app-bridge.js"></script>' in html
    assert 'data-shell="1"' in html and "data-figure" not in html  # no store data without a token
    # App Bridge's navigation, from the page registry, keeping Shopify's query on the links.
    assert (
        f'<ui-nav-menu>\n  <a href="/app?shop={SHOP}&amp;host=YWRtaW4&amp;embedded=1" rel="home">Overview</a>' in html
    )
    assert answer.headers["Content-Security-Policy"] == f"frame-ancestors https://{SHOP} https://admin.shopify.com;"


def test_session_token_gets_the_page_and_id_token_the_whole_document(dash, ctx):
    add_store("shopify", name="Shopify Shop")
    client = dash.test_client()
    token = session_token(SHOP)
    part = client.get("/app", headers={"Authorization": f"Bearer {token}", "X-PPE-Fragment": "1"})
    assert part.status_code == 200 and part.text.startswith('<div data-title="Overview">')
    assert 'data-figure="orders.count"' in part.text
    whole = client.get(f"/app?shop={SHOP}&host=YWRtaW4&embedded=1&id_token={session_token(SHOP)}")
    assert whole.status_code == 200 and 'data-shell="0"' in whole.text and 'data-figure="orders.count"' in whole.text
    assert "Set-Cookie" not in whole.headers  # inside the admin nothing rides on cookies


@pytest.mark.parametrize(
    "token",
    [
        session_token(SHOP, secret="not-the-secret"),
        session_token(SHOP, aud="another-app"),
        session_token(SHOP, exp_in=-120),
        "not-a-jwt",
    ],
)
def test_bad_session_tokens_get_nothing(dash, ctx, token):
    add_store("shopify")
    answer = dash.test_client().get("/app", headers={"Authorization": f"Bearer {token}", "X-PPE-Fragment": "1"})
    assert answer.status_code == 401 and answer.json == {"error": "unauthorized"}


def test_a_shop_without_offline_token_is_told_to_install(dash, ctx):
    answer = dash.test_client().get(
        "/app", headers={"Authorization": f"Bearer {session_token(SHOP)}", "X-PPE-Fragment": "1"}
    )
    assert answer.status_code == 401 and answer.json == {"error": "store_not_installed"}


def test_dashboard_speaks_the_merchants_language(app, client):
    """Shopify's `locale` on the admin's first load, else Accept-Language; the rest of the merchant UI's
    catalogues fall back to English per string."""
    from app.dashboard.i18n import merchant_locale

    with app.test_request_context("/app?locale=pl-PL"):
        assert merchant_locale() == "pl"
    with app.test_request_context("/app", headers={"Accept-Language": "de-DE,pl;q=0.8,en;q=0.5"}):
        assert merchant_locale() == "pl"
    with app.test_request_context("/app", headers={"Accept-Language": "de-DE"}):
        assert merchant_locale() == "en"
