"""Shopify install endpoints.

GET  /shopify/install   Shopify's install request (shop, timestamp, hmac): verified, then 302 to the
                        shop's /admin/oauth/authorize with a one-time state.
GET  /shopify/callback  back from the authorize page (code, shop, state, timestamp, hmac): verified,
                        state consumed, code exchanged for an expiring offline token, store installed,
                        its details read (name, currency, time zone, e-mail: stores/details.py), webhooks
                        registered, 302 to the app in the shop's admin.
POST /shopify/session   embedded app load: `Authorization: Bearer <App Bridge session token>`; when we hold
                        no token for the shop, token exchange for an expiring offline token, install as above.

Webhook registration failing (userErrors, 5xx, throttling) does not fail the install: the merchant
approved us and the token is stored. It is logged as stores.shopify_install.webhooks_failed, recorded on
ShopifyInstall (webhooks_status = "error", last_error), and retried by register_store_webhooks(),
which the next /shopify/session or install also calls when the status is not "active".
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, redirect, request
from werkzeug.wrappers import Response as BaseResponse  # what redirect() returns; flask's Response subclasses it

from app.extensions import db
from app.platform.logs import reason
from app.platform.queue import get_redis
from app.security import secret_box
from app.stores import shopify_auth as auth
from app.stores.details import refresh_details
from app.stores.models import Store
from app.stores.models.shopify import WEBHOOKS_ACTIVE, WEBHOOKS_ERROR, ShopifyInstall
from connectors.exceptions import ConnectorError
from connectors.shopify import COMPLIANCE_TOPICS, ShopifyConnector
from connectors.shopify_admin import AdminClient, TokenClient, TokenGrant, TokenRequestError
from connectors.shopify_shop import shop_details

bp = Blueprint("install", __name__)

log = logging.getLogger(__name__)

DEFAULT_SCOPES = "read_orders,read_fulfillments,read_customers,write_customers,write_discounts,write_products"


#: Called as hook(store_id) once a shop's install or reinstall is committed and its webhooks registered: the
#: inbox starts the history import here (inbox/history_import.on_installed).
INSTALLED_HOOKS: list[Callable[[int], Any]] = []


def register_installed_hook(hook: Callable[[int], Any]) -> None:
    if hook not in INSTALLED_HOOKS:
        INSTALLED_HOOKS.append(hook)


def clock() -> float:
    """The app's clock: SHOPIFY_CLOCK (a callable returning epoch seconds) when tests set one."""
    now: Callable[[], float] = current_app.config.get("SHOPIFY_CLOCK") or time.time
    return float(now())


def webhook_topics() -> list[str]:
    # Compliance topics cannot be subscribed through the API; shopify.app.toml declares them.
    return [topic for topic in ShopifyConnector.topics if topic not in COMPLIANCE_TOPICS]


def _origin() -> str | None:
    # Tests only: the stand-in server's http://127.0.0.1:port instead of https://{shop}.
    return current_app.config.get("SHOPIFY_ADMIN_ORIGIN") or None


def _app_url() -> str:
    return str(current_app.config.get("APP_URL", "http://127.0.0.1:8000")).rstrip("/")


def token_client() -> TokenClient:
    cfg = current_app.config
    return TokenClient(cfg.get("SHOPIFY_API_KEY", ""), cfg.get("SHOPIFY_API_SECRET") or "", origin=_origin())


def access_token(store_id: int) -> str:
    """A valid token for the store, refreshed (once, whoever else asks) when about to expire."""
    try:
        redis = get_redis()
    except Exception:  # noqa: BLE001  (Redis down: the PostgreSQL row lock still serialises refreshes)
        redis = None
    return auth.get_access_token(
        db.engine,
        secret_box(),
        store_id,
        token_client().refresh,
        now=clock,
        margin=float(current_app.config.get("SHOPIFY_TOKEN_REFRESH_MARGIN_SECONDS", 300)),
        redis=redis,
    )


def admin_client(store: Store) -> AdminClient:
    """The Admin GraphQL client for a store, for any feature that writes back to Shopify."""
    return AdminClient(store.domain, access_token(store.id), origin=_origin())


def register_store_webhooks(store_id: int) -> bool:
    """(Re)register our webhook topics for the store; records and logs the outcome. Safe to repeat."""
    store = db.session.get(Store, store_id)
    if store is None or store.platform != "shopify":
        return False
    install = db.session.get(ShopifyInstall, store_id) or ShopifyInstall(store_id=store_id, webhooks={})
    db.session.add(install)
    try:
        install.webhooks = admin_client(store).register_webhooks(webhook_topics(), _app_url() + "/webhooks/shopify")
        install.webhooks_status, install.last_error = WEBHOOKS_ACTIVE, None
        log.info("stores.shopify_install.webhooks_registered", extra={"store_id": store_id})
    except (ConnectorError, auth.NotInstalled) as exc:
        install.webhooks_status, install.last_error = WEBHOOKS_ERROR, f"{type(exc).__name__}: {exc}"[:2000]
        log.warning(
            "stores.shopify_install.webhooks_failed",
            extra={"store_id": store_id, "error": type(exc).__name__, "reason": reason(exc)},
        )
    db.session.commit()
    return install.webhooks_status == WEBHOOKS_ACTIVE


def _install(shop: str, grant: TokenGrant, now: float) -> Store:
    store = auth.store_grant(db.session, secret_box(), shop, grant, now)
    install = db.session.get(ShopifyInstall, store.id) or ShopifyInstall(store_id=store.id, webhooks={})
    install.scopes = grant.scope[:1024]
    db.session.add(install)
    db.session.commit()
    log.info("stores.shopify_install.completed", extra={"store_id": store.id})
    _refresh_details(store)
    register_store_webhooks(store.id)
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
    cfg = current_app.config
    now = clock()
    header = request.headers.get("Authorization", "")
    token = header[7:].strip() if header[:7].lower() == "bearer " else ""
    try:
        shop = auth.verify_session_token(
            token, api_key=cfg.get("SHOPIFY_API_KEY", ""), api_secret=cfg.get("SHOPIFY_API_SECRET") or "", now=now
        )
    except auth.InstallRefused as exc:
        return _refused(exc.reason, 401)
    store = db.session.scalar(db.select(Store).where(Store.platform == "shopify", Store.domain == shop))
    if store is None or store.status != "active" or not auth.has_token(secret_box(), store):
        try:
            grant = token_client().exchange_session_token(shop, token)
        except ConnectorError as exc:
            log.warning("stores.shopify_install.token_exchange_failed", extra={"reason": type(exc).__name__})
            return _refused("token_exchange", 401 if isinstance(exc, TokenRequestError) else 502)
        store = _install(shop, grant, now)
    else:
        install = db.session.get(ShopifyInstall, store.id)
        if install is None or install.webhooks_status != WEBHOOKS_ACTIVE:
            register_store_webhooks(store.id)
    return jsonify(shop=shop, store_id=store.id)
