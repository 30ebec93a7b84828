"""GET /woocommerce/connect, POST /woocommerce/callback, GET /woocommerce/return (`flask woocommerce disconnect`:
inbox/cli.py, beside the webhook upkeep it undoes).

callback_url is APP_URL + /woocommerce/callback. WooCommerce refuses a callback_url
that is not https:// ("The callback_url needs to be over SSL", WC_Auth::make_validation in
includes/class-wc-auth.php), loopback or not, and verifies its certificate (wp_safe_remote_post).
So /connect answers 503 when APP_URL is not https rather than send the merchant to that error
(tests serve the app over https with a certificate of their own: tests/standins/tls.py).
"""

from __future__ import annotations

import ipaddress
import json
import logging
import socket
from urllib.parse import urlsplit

from flask import Blueprint, Response, current_app, redirect, request
from sqlalchemy.exc import DBAPIError
from werkzeug.wrappers import Response as BaseResponse  # what redirect() returns; flask's Response subclasses it

from app.extensions import db
from app.security import secret_box
from app.stores.cache import forget_store
from app.stores.models.woocommerce import COMPLETED
from app.stores.service import find_store
from app.stores.woo_connect import (
    CONNECTED_HOOKS,
    ConnectError,
    authorize_url,
    complete_connection,
    find_connection,
    normalise_site_url,
    start_connection,
)

# Routes under /woocommerce, commands under `flask woocommerce`.
bp = Blueprint("install_woo", __name__, url_prefix="/woocommerce", cli_group="woocommerce")

log = logging.getLogger(__name__)


def _answer(status: int, message: str, **extra: object) -> Response:
    return Response(json.dumps({"status": message, **extra}), status=status, mimetype="application/json")


def _app_url() -> str:
    return str(current_app.config.get("APP_URL", "http://127.0.0.1:8000")).rstrip("/")


def _private_host(host: str) -> bool:
    """Does the site resolve to an address we must not call from our workers (SSRF)?"""
    try:
        infos = socket.getaddrinfo(host, None)
    except OSError:
        return False  # unresolvable now: the calls will fail on their own
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global:
            return True
    return False


@bp.get("/connect")
def connect() -> BaseResponse:
    app_url = _app_url()
    if urlsplit(app_url).scheme != "https":
        log.error("woo_connect.app_url_not_https")
        return _answer(503, "APP_URL must be https:// for WooCommerce to post the keys")
    try:
        site_url = normalise_site_url(request.args.get("site", ""))
    except ConnectError as exc:
        return _answer(400, str(exc))
    if not current_app.config.get("WOO_ALLOW_PRIVATE_SITES", False) and _private_host(
        urlsplit(site_url).hostname or ""
    ):
        return _answer(400, "site must be a public address")
    ttl = int(current_app.config.get("WOO_CONNECT_TTL_SECONDS", 3600))
    try:
        connection, user_id = start_connection(db.session, site_url, ttl_seconds=ttl)
        db.session.commit()
    except DBAPIError:
        db.session.rollback()
        return _answer(503, "unavailable")
    log.info("woo_connect.started", extra={"connection_id": connection.id})
    target = authorize_url(
        site_url,
        app_name=current_app.config.get("APP_NAME", "Post-purchase engine"),
        user_id=user_id,
        return_url=f"{app_url}/woocommerce/return",
        callback_url=f"{app_url}/woocommerce/callback",
    )
    return redirect(target, code=302)


@bp.post("/callback")
def callback() -> Response:
    """Answers exactly 200 only when we hold (or already held) the key; see stores/woo_connect.py."""
    payload = request.get_json(force=True, silent=True)
    try:
        result = complete_connection(db.session, secret_box(), payload)
        db.session.commit()
    except DBAPIError:
        # Non-200: WooCommerce deletes the key and the merchant sees an error and can retry.
        db.session.rollback()
        log.error("woo_connect.callback_db_error")
        return _answer(503, "unavailable")
    log.info("woo_connect.callback", extra={"outcome": result.outcome, "store_id": result.store_id})
    if result.activated and result.store_id is not None:
        store = find_store(db.session, str(result.store_id))
        if store is not None:
            forget_store("woocommerce", store.domain)
        for hook in CONNECTED_HOOKS:
            hook(result.store_id)
    return _answer(result.status, result.outcome)


@bp.get("/return")
def returned() -> Response:
    """Where WooCommerce sends the merchant back (success=1|0&user_id=...)."""
    connection = find_connection(db.session, request.args.get("user_id", ""), lock=False)
    db.session.rollback()
    if connection is not None and connection.status == COMPLETED:
        return _answer(200, "connected")
    return _answer(200, "not_connected")
