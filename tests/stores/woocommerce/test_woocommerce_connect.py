"""Connecting a WooCommerce store, over real HTTP: our app on a loopback server, a stand-in store,
and the real `woocommerce` client package between them. The wc-auth callback, key checks, site validation.

Webhook upkeep, reconciliation, disconnect and the admin client's errors are in test_woocommerce_upkeep.py.
"""

from __future__ import annotations

import json
import secrets
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select, text, update

from app.extensions import db
from app.platform.types import utcnow
from app.stores.models import Store
from app.stores.models.woocommerce import REFUSED, WooConnection, WooStoreState
from tests.helpers import dumps, woo_headers
from tests.stores.woocommerce import conftest as shared
from tests.stores.woocommerce.conftest import (
    TOPICS,
    app_url,
    connect,
    credentials,
    delivery_url,
    run_jobs,
    the_store,
    web,
    woo_order,
)

# The shared fixtures, bound by name in this module (where pytest looks for them); an import would read
# as unused to the linter.
site, wctx, woo_app = shared.site, shared.wctx, shared.woo_app


def test_connect_registers_webhooks_once_and_keeps_secrets_sealed(app, woo_app, site, wctx):
    landed = connect(woo_app, site)
    assert landed.status_code == 200 and landed.json() == {"status": "connected"}
    assert landed.url.startswith(app_url(woo_app) + "/woocommerce/return?success=1")
    [(status, posted)] = site.callbacks
    assert status == 200 and posted["key_permissions"] == "read_write"

    store = the_store()
    assert (store.status, store.domain) == ("active", urlsplit(site.url).netloc)
    creds = credentials(store)
    assert creds["consumer_key"] == posted["consumer_key"] and creds["consumer_secret"] == posted["consumer_secret"]
    secret = creds["webhook_secret"]
    assert len(secret) >= 32 and secret.isalnum()
    raw = db.session.execute(text("SELECT credentials FROM stores WHERE id = :i"), {"i": store.id}).scalar()
    for value in (posted["consumer_secret"], posted["consumer_key"], secret):
        assert value.encode() not in bytes(raw)

    run_jobs(woo_app)  # the registration job the callback enqueued
    ours = site.webhooks_for(delivery_url(woo_app))
    assert sorted(w["topic"] for w in ours) == TOPICS
    assert {w["status"] for w in ours} == {"active"} and {w["secret_for_tests"] for w in ours} == {secret}
    state = db.session.get(WooStoreState, store.id)
    assert state.webhooks_status == "active" and set(state.webhooks) == set(TOPICS)
    listed = json.loads(woo_app.test_cli_runner().invoke(args=["stores", "list"]).output)
    assert [(s["platform"], s["installed"], s["webhooks_status"]) for s in listed] == [("woocommerce", True, "active")]
    assert listed[0]["webhook_topics"] == TOPICS

    # A signed delivery from the store is accepted with the new per-store secret.
    body = dumps(woo_order(900, "webhook@example.com"))
    headers = woo_headers("order.updated", body, source=site.url + "/", secret=secret)
    assert web.post(delivery_url(woo_app), data=body, headers=headers, timeout=10).json() == {"status": "accepted"}

    # Reconnecting: same store, a new key and secret, the same six webhooks updated rather than duplicated.
    assert connect(woo_app, site).json() == {"status": "connected"}
    run_jobs(woo_app)
    store = the_store()
    new_secret = credentials(store)["webhook_secret"]
    assert new_secret != secret and credentials(store)["consumer_key"] == site.callbacks[-1][1]["consumer_key"]
    ours = site.webhooks_for(delivery_url(woo_app))
    assert sorted(w["topic"] for w in ours) == TOPICS
    assert {w["secret_for_tests"] for w in ours} == {new_secret}


def test_retried_callback_answers_200_and_changes_nothing(app, woo_app, site, wctx):
    connect(woo_app, site)
    before = credentials(the_store())
    assert site.repost_callback() == 200
    assert site.repost_callback() == 200
    assert db.session.scalar(select(func.count()).select_from(Store)) == 1
    assert credentials(the_store()) == before


def test_unknown_or_expired_user_id_gets_no_store_and_the_key_is_deleted(app, woo_app, site, wctx):
    # A callback for a user_id we never issued: non-200, so WooCommerce deletes the key it made.
    query = {
        "app_name": "x",
        "scope": "read_write",
        "user_id": secrets.token_urlsafe(32),
        "return_url": app_url(woo_app) + "/woocommerce/return",
        "callback_url": app_url(woo_app) + "/woocommerce/callback",
    }
    answer = web.get(site.url + "/wc-auth/v1/authorize", params=query, timeout=10)
    assert answer.status_code == 401 and site.callbacks[-1][0] == 404
    assert site.keys == {}
    assert db.session.scalar(select(func.count()).select_from(Store)) == 0

    # A connection that expired before the merchant approved.
    start = web.get(f"{app_url(woo_app)}/woocommerce/connect", params={"site": site.url}, allow_redirects=False)
    db.session.execute(update(WooConnection).values(expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    assert web.get(start.headers["Location"], timeout=10).status_code == 401
    assert site.callbacks[-1][0] == 410 and site.keys == {}
    assert db.session.scalar(select(func.count()).select_from(Store)) == 0

    # Garbage is refused without touching anything.
    assert web.post(app_url(woo_app) + "/woocommerce/callback", data=b"nope", timeout=10).status_code == 400


def test_read_only_key_is_refused(app, woo_app, site, wctx):
    site.grant_permissions = "read"
    landed = connect(woo_app, site)
    assert landed.status_code == 401 and site.callbacks[-1][0] == 403
    assert site.keys == {}  # deleted by the store because we did not answer 200
    assert db.session.scalar(select(func.count()).select_from(Store)) == 0
    assert db.session.scalar(select(WooConnection.status)) == REFUSED
    # The same approval replayed with a read_write key cannot revive a refused connection.
    body = {**site.callbacks[-1][1], "key_permissions": "read_write"}
    assert web.post(app_url(woo_app) + "/woocommerce/callback", json=body, timeout=10).status_code == 403


@pytest.mark.parametrize(
    "site_arg",
    ["ftp://shop.example.com", "https://user:pw@shop.example.com", "https://shop.example.com/#x", "", "https://"],
)
def test_connect_validates_the_site(app, woo_app, wctx, site_arg):
    answer = web.get(f"{app_url(woo_app)}/woocommerce/connect", params={"site": site_arg}, allow_redirects=False)
    assert answer.status_code == 400
    assert db.session.scalar(select(func.count()).select_from(WooConnection)) == 0


def test_connect_refuses_private_sites_outside_tests(app, woo_app, wctx):
    woo_app.config["WOO_ALLOW_PRIVATE_SITES"] = False
    try:
        url = f"{app_url(woo_app)}/woocommerce/connect"
        for private in ("http://127.0.0.1:8080", "http://10.1.2.3", "http://[::1]/shop"):
            assert web.get(url, params={"site": private}, allow_redirects=False).status_code == 400
    finally:
        woo_app.config["WOO_ALLOW_PRIVATE_SITES"] = True
    assert db.session.scalar(select(func.count()).select_from(WooConnection)) == 0


def test_connect_redirect_carries_the_documented_parameters(app, woo_app, wctx):
    answer = web.get(
        f"{app_url(woo_app)}/woocommerce/connect",
        params={"site": "https://Shop.Example.com/store/"},
        allow_redirects=False,
    )
    location = urlsplit(answer.headers["Location"])
    assert (location.scheme, location.netloc, location.path) == (
        "https",
        "shop.example.com",
        "/store/wc-auth/v1/authorize",
    )
    query = {k: v[0] for k, v in parse_qs(location.query).items()}
    assert query["scope"] == "read_write" and query["callback_url"] == app_url(woo_app) + "/woocommerce/callback"
    assert query["return_url"] == app_url(woo_app) + "/woocommerce/return" and len(query["user_id"]) >= 40
    stored = db.session.scalar(select(WooConnection))
    assert stored.user_id_hash != query["user_id"] and query["user_id"] not in stored.user_id_hash


def test_the_store_posts_keys_only_to_an_https_callback(app, woo_app, site, wctx):
    """WC_Auth::make_validation, before any key is made: callback_url must be https (a URL without a scheme is
    given https://); the merchant sees a 401 error page."""
    query = {"app_name": "x", "scope": "read_write", "user_id": "u1", "return_url": "https://a.example/return"}
    http_callback = app_url(woo_app).replace("https://", "http://") + "/woocommerce/callback"
    refused = web.get(site.url + "/wc-auth/v1/authorize", params={**query, "callback_url": http_callback})
    assert refused.status_code == 401 and "The callback_url needs to be over SSL" in refused.text
    assert site.keys == {} and site.callbacks == []
    bare = app_url(woo_app).removeprefix("https://") + "/woocommerce/callback"  # read as https://
    web.get(site.url + "/wc-auth/v1/authorize", params={**query, "callback_url": bare}, allow_redirects=False)
    assert site.callbacks[-1][0] == 404  # it reached us over https: an unknown user_id, answered non-200
    bad_scope = web.get(site.url + "/wc-auth/v1/authorize", params={**query, "scope": "all", "callback_url": bare})
    assert bad_scope.status_code == 401 and "Invalid scope all" in bad_scope.text and site.keys == {}


def test_connect_refuses_an_app_url_that_is_not_https(app, woo_app, site, wctx, monkeypatch):
    # WooCommerce would refuse the callback on its own page; we say why before sending the merchant there.
    served = app_url(woo_app)
    monkeypatch.setitem(woo_app.config, "APP_URL", "http://127.0.0.1:8000")  # a loopback address is no exception
    answer = web.get(f"{served}/woocommerce/connect", params={"site": site.url}, allow_redirects=False)
    assert answer.status_code == 503 and "https" in answer.json()["status"]
    assert db.session.scalar(select(func.count()).select_from(WooConnection)) == 0
