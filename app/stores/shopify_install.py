"""Shopify install endpoints.

GET  /shopify/install   Shopify's install request (shop, timestamp, hmac): verified, then 302 to the
                        shop's /admin/oauth/authorize with a one-time state.
GET  /shopify/callback  back from the authorize page (code, shop, state, timestamp, hmac): verified,
                        state consumed, code exchanged for an expiring offline token, store installed,
                        its details read (name, currency, time zone, e-mail: stores/details.py), shop-specific
                        webhooks of older installs removed, 302 to the app in the shop's admin.
POST /shopify/session   embedded app load: `Authorization: Bearer <App Bridge session token>`; when we hold
                        no token for the shop, token exchange for an expiring offline token, install as above.

Webhooks are app-specific subscriptions declared in shopify.app.toml (Shopify keeps them for every install;
https://shopify.dev/docs/apps/build/webhooks/subscribe). No install creates a shop-specific subscription; each
install, and the next /shopify/session of a store an older version installed, removes the ones older installs
created (sync_store_webhooks), or each topic would arrive twice. `flask stores sync-webhooks` does it for every
store at once. A failure there does not fail the install: it is logged as stores.shopify_install.webhooks_failed,
recorded on ShopifyInstall (webhooks_status = "error", last_error), and retried at the next /shopify/session or
install.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, redirect, request
from werkzeug.wrappers import Response as BaseResponse  # what redirect() returns; flask's Response subclasses it

from app.extensions import db
from app.platform.logs import reason
from app.security import bearer, secret_box
from app.stores import shopify_auth as auth
from app.stores.details import refresh_details
from app.stores.models import Store
from app.stores.models.shopify import WEBHOOKS_ACTIVE, WEBHOOKS_ERROR, ShopifyInstall
from app.stores.shopify_tokens import admin_client, clock, installed, shop_store, token_client, verified_shop
from connectors.exceptions import ConnectorError
from connectors.shopify import COMPLIANCE_TOPICS, ShopifyConnector
from connectors.shopify_admin import TokenGrant, TokenRequestError
from connectors.shopify_shop import shop_details
from connectors.shopify_webhooks import remove_shop_subscriptions

bp = Blueprint("install", __name__)

log = logging.getLogger(__name__)

APP_SUBSCRIPTION = "shopify.app.toml"  # ShopifyInstall.webhooks: the topic is an app-specific subscription
DEFAULT_SCOPES = "read_orders,read_fulfillments,read_customers,write_customers,write_discounts,write_products"


#: Called as hook(store_id) once a shop's install or reinstall is committed and its webhooks registered: the
#: inbox starts the history import here (inbox/history_import.on_installed).
INSTALLED_HOOKS: list[Callable[[int], Any]] = []


def register_installed_hook(hook: Callable[[int], Any]) -> None:
    if hook not in INSTALLED_HOOKS:
        INSTALLED_HOOKS.append(hook)


def app_topics() -> list[str]:
    """The topics shopify.app.toml subscribes for every shop (app-specific subscriptions): all we parse.

    Compliance topics are declared there too (they can only be). tests/stores/shopify/test_shopify_webhooks.py
    reads the file and checks it says the same.
    """
    return [topic for topic in ShopifyConnector.topics if topic not in COMPLIANCE_TOPICS]


def _app_url() -> str:
    return str(current_app.config.get("APP_URL", "http://127.0.0.1:8000")).rstrip("/")


def sync_store_webhooks(store_id: int) -> bool:
    """Make the store's subscriptions the TOML's alone: remove the shop-specific ones an older install created
    (each topic would arrive twice); records and logs the outcome. Safe to repeat."""
    store = db.session.get(Store, store_id)
    if store is None or store.platform != "shopify":
        return False
    install = db.session.get(ShopifyInstall, store_id) or ShopifyInstall(store_id=store_id, webhooks={})
    db.session.add(install)
    try:
        removed = remove_shop_subscriptions(admin_client(store), app_topics())
        install.webhooks = dict.fromkeys(app_topics(), APP_SUBSCRIPTION)
        install.webhooks_status, install.last_error = WEBHOOKS_ACTIVE, None
        log.info("stores.shopify_install.webhooks_synced", extra={"store_id": store_id, "removed": removed})
    except (ConnectorError, auth.NotInstalled) as exc:
        install.webhooks_status, install.last_error = WEBHOOKS_ERROR, f"{type(exc).__name__}: {exc}"[:2000]
        log.warning(
            "stores.shopify_install.webhooks_failed",
            extra={"store_id": store_id, "error": type(exc).__name__, "reason": reason(exc)},
        )
    db.session.commit()
    return install.webhooks_status == WEBHOOKS_ACTIVE


def needs_webhook_sync(install: ShopifyInstall | None) -> bool:
    """Never synced, failed, or installed by an older version (its topics map to shop-specific gids)."""
    if install is None or install.webhooks_status != WEBHOOKS_ACTIVE:
        return True
    return any(value != APP_SUBSCRIPTION for value in (install.webhooks or {}).values())


def _install(shop: str, grant: TokenGrant, now: float) -> Store:
    store = auth.store_grant(db.session, secret_box(), shop, grant, now)
    install = db.session.get(ShopifyInstall, store.id) or ShopifyInstall(store_id=store.id, webhooks={})
    install.scopes = grant.scope[:1024]
    db.session.add(install)
    db.session.commit()
    log.info("stores.shopify_install.completed", extra={"store_id": store.id})
    _refresh_details(store)
    sync_store_webhooks(store.id)
    for hook in INSTALLED_HOOKS:  # after the webhooks: what happens from now on is not missed meanwhile
        hook(store.id)
    return store


def _refresh_details(store: Store) -> None:
    """The shop's name, currency, time zone and e-mail (stores/details.py); a failure leaves them for next time."""
    try:
        client = admin_client(store)
    except auth.NotInstalled:
        return
    db.session.commit()  # no transaction held open across the call
    if refresh_details(store, lambda: shop_details(client)):
        db.session.commit()


def _refused(reason: str, status: int = 400) -> Response:
    log.info("stores.shopify_install.refused", extra={"reason": reason})
    response = jsonify(error=reason)
    response.status_code = status
    return response


def _status(reason: str) -> int:
    return 400 if reason == "shop" else 401


@bp.get("/shopify/install")
def install() -> BaseResponse:
    cfg = current_app.config
    now = clock()
    try:
        shop = auth.verify_query(dict(request.args.lists()), cfg.get("SHOPIFY_API_SECRET") or "", now)
    except auth.InstallRefused as exc:
        return _refused(exc.reason, _status(exc.reason))
    state = auth.new_state(db.session, shop, now, int(cfg.get("SHOPIFY_STATE_TTL_SECONDS", 600)))
    db.session.commit()
    url = auth.authorize_url(
        shop,
        api_key=cfg.get("SHOPIFY_API_KEY", ""),
        scopes=cfg.get("SHOPIFY_SCOPES", DEFAULT_SCOPES),
        redirect_uri=_app_url() + "/shopify/callback",
        state=state,
    )
    return redirect(url, 302)


@bp.get("/shopify/callback")
def callback() -> BaseResponse:
    cfg = current_app.config
    now = clock()
    try:
        shop = auth.verify_query(dict(request.args.lists()), cfg.get("SHOPIFY_API_SECRET") or "", now)
        auth.consume_state(db.session, shop, request.args.get("state"), now)
        db.session.commit()  # consumed even if what follows fails: a state is good for one try
    except auth.InstallRefused as exc:
        db.session.rollback()
        return _refused(exc.reason, _status(exc.reason))
    code = request.args.get("code") or ""
    if not code:
        return _refused("code")
    try:
        grant = token_client().exchange_code(shop, code)
    except ConnectorError as exc:
        log.warning("stores.shopify_install.code_exchange_failed", extra={"reason": type(exc).__name__})
        return _refused("code_exchange", 401 if isinstance(exc, TokenRequestError) else 502)
    _install(shop, grant, now)
    return redirect(f"https://{shop}/admin/apps/{cfg.get('SHOPIFY_API_KEY', '')}", 302)


@bp.post("/shopify/session")
def session_token() -> Response:
    now = clock()
    token = bearer(request.headers.get("Authorization"))
    try:
        shop = verified_shop(token)
    except auth.InstallRefused as exc:
        return _refused(exc.reason, 401)
    store = shop_store(shop)
    if store is None or not installed(store):
        try:
            grant = token_client().exchange_session_token(shop, token)
        except ConnectorError as exc:
            log.warning("stores.shopify_install.token_exchange_failed", extra={"reason": type(exc).__name__})
            return _refused("token_exchange", 401 if isinstance(exc, TokenRequestError) else 502)
        store = _install(shop, grant, now)
    else:
        if needs_webhook_sync(db.session.get(ShopifyInstall, store.id)):
            sync_store_webhooks(store.id)
    return jsonify(shop=shop, store_id=store.id)
