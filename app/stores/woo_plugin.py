"""Our WordPress plugin's side of connecting (extensions/woocommerce/ppe-rewards, docs/wordpress-plugin.md).

The merchant presses "Connect" in WP admin; nothing is copied by hand:
1. `GET /woocommerce/plugin/connect?site=&return_to=&challenge=`: `return_to` must be on the site's own host
   (the one-time code goes there) and `challenge` is base64url(SHA-256(verifier)), the verifier staying in
   WordPress (PKCE, RFC 7636 S256). This runs our `GET /woocommerce/connect` for the site (woo_install.connect:
   its checks, the pending connection) and only replaces the wc-auth `return_url` with ours below, carrying
   the plugin's parameters signed (SECRET_KEY) so nothing is stored for them.
2. WooCommerce posts the keys to our callback, then sends the merchant to
   `GET /woocommerce/plugin/return?r=<signed>&success=1&user_id=<ours>`. When that connection is completed
   for that site, we redirect to `return_to` with `ppe_code=<one-time code>`: signed, naming the store, the
   site and the challenge, valid `CODE_TTL_SECONDS`.
3. The plugin POSTs `{code, site, verifier}` to `/woocommerce/plugin/exchange` from its server and gets the
   public store key and the storefront secret (stores/storefront_keys.py). Single use: the code's nonce is
   claimed with SET NX in Redis (a unique key, kept past the code's lifetime), and the verifier must match
   the challenge, so a code leaked through a log or a Referer is useless.

Later calls from the plugin (status, disconnect: app/inbox/woo_plugin_calls.py) are signed with the storefront
secret: `X-PPE-Store: <public key>` and `X-PPE-Signature: t=<unix>,s=<hex HMAC-SHA256(secret,
"<t>.<METHOD>.<path>.<body>")>`, at most `SIGNATURE_MAX_SKEW_SECONDS` from our clock.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import re
import secrets
import time
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from flask import Blueprint, Response, current_app, redirect, request
from itsdangerous import BadSignature
from redis.exceptions import RedisError
from sqlalchemy.exc import DBAPIError
from werkzeug.wrappers import Response as BaseResponse

from app.extensions import db
from app.platform.queue import get_redis
from app.security import secret_box, timed_serializer
from app.stores.models import Store
from app.stores.models.woocommerce import COMPLETED
from app.stores.storefront_keys import ensure_keys, read_keys, store_for_public_key
from app.stores.woo_connect import ConnectError, find_connection, normalise_site_url
from app.stores.woo_install import connect as start_connect  # GET /woocommerce/connect, which Connect runs
from connectors.woocommerce import site_key

bp = Blueprint("woo_plugin", __name__, url_prefix="/woocommerce/plugin")
log = logging.getLogger(__name__)

#: How long the code in the return URL may wait for the plugin's exchange (the plugin exchanges at once).
CODE_TTL_SECONDS = 300
#: The merchant's time at the store's approval page, between our connect and their return.
RETURN_TTL_SECONDS = 3600
SIGNATURE_MAX_SKEW_SECONDS = 300
_CHALLENGE = re.compile(r"[A-Za-z0-9_-]{43}")
_VERIFIER = re.compile(r"[A-Za-z0-9._~-]{43,128}")
_SIGNATURE = re.compile(r"t=([0-9]{1,12}),s=([0-9a-f]{64})")
_USED_PREFIX = "wooplugin:used:"


def _answer(status: int, message: str, **extra: object) -> Response:
    return Response(json.dumps({"status": message, **extra}), status=status, mimetype="application/json")


def challenge_of(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def _same_site(return_to: str, site_url: str) -> bool:
    try:
        target, site = urlsplit(return_to), urlsplit(site_url)
        # The site's own host (the code is for it alone), and never http for an https site (it would travel clear).
        return (
            target.scheme in (site.scheme, "https")
            and target.netloc.lower() == site.netloc.lower()
            and not (target.username or target.password)
        )
    except ValueError:
        return False


def _with_query(url: str, **params: str) -> str:
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in params]
    return urlunsplit(parts._replace(query=urlencode(query + list(params.items()))))


@bp.get("/connect")
def connect() -> BaseResponse:
    try:
        site_url = normalise_site_url(request.args.get("site", ""))
    except ConnectError as exc:
        return _answer(400, str(exc))
    return_to, challenge = request.args.get("return_to", ""), request.args.get("challenge", "")
    if len(return_to) > 1000 or not _same_site(return_to, site_url):
        return _answer(400, "return_to must be an address on the site")
    if not _CHALLENGE.fullmatch(challenge):
        return _answer(400, "challenge must be base64url(SHA-256(verifier))")
    answer = start_connect()
    location = answer.headers.get("Location", "")
    if answer.status_code != 302 or not location.startswith(f"{site_url}/wc-auth/v1/authorize?"):
        return answer  # refused by connect (its status and reason)
    signed = timed_serializer("woo-plugin-return").dumps([site_url, return_to, challenge])
    app_url = str(current_app.config.get("APP_URL", "")).rstrip("/")
    ours = f"{app_url}/woocommerce/plugin/return?{urlencode({'r': signed})}"
    return redirect(_with_query(location, return_url=ours), code=302)


@bp.get("/return")
def returned() -> BaseResponse:
    try:
        site_url, return_to, challenge = timed_serializer("woo-plugin-return").loads(
            request.args.get("r", ""), max_age=RETURN_TTL_SECONDS
        )
    except (BadSignature, ValueError, TypeError):
        return _answer(400, "invalid_return")
    connection = find_connection(db.session, request.args.get("user_id", ""), lock=False)
    db.session.rollback()
    if request.args.get("success") != "1" or connection is None:
        return redirect(_with_query(return_to, ppe_error="not_approved"), code=302)
    if connection.status != COMPLETED or connection.store_id is None or connection.domain != site_key(site_url):
        return redirect(_with_query(return_to, ppe_error="not_connected"), code=302)
    code = timed_serializer("woo-plugin-code").dumps(
        [connection.store_id, site_url, challenge, secrets.token_urlsafe(16)]
    )
    log.info("woo_plugin.code_issued", extra={"store_id": connection.store_id})
    return redirect(_with_query(return_to, ppe_code=code), code=302)


@bp.post("/exchange")
def exchange() -> Response:
    """Server to server: the one-time code and the verifier for the storefront keys."""
    payload = request.get_json(force=True, silent=True)
    if not isinstance(payload, dict) or not all(isinstance(payload.get(k), str) for k in ("code", "site", "verifier")):
        return _answer(400, "malformed")
    try:
        store_id, site_url, challenge, nonce = timed_serializer("woo-plugin-code").loads(
            payload["code"], max_age=CODE_TTL_SECONDS
        )
        claimed_site = normalise_site_url(payload["site"])
    except (BadSignature, ConnectError, ValueError, TypeError):
        return _answer(400, "invalid_code")
    verifier = payload["verifier"]
    if (
        site_key(claimed_site) != site_key(site_url)
        or not _VERIFIER.fullmatch(verifier)
        or not hmac.compare_digest(challenge_of(verifier), challenge)
    ):
        return _answer(400, "invalid_code")
    try:  # the unique key that makes the code single use; it outlives the code
        first = get_redis().set(_USED_PREFIX + str(nonce), 1, nx=True, ex=CODE_TTL_SECONDS * 2)
    except RedisError:
        return _answer(503, "unavailable")
    if not first:
        return _answer(409, "code_used")
    store = db.session.get(Store, int(store_id))
    if store is None or store.status != "active" or store.platform != "woocommerce":
        db.session.rollback()
        return _answer(410, "store_not_connected")
    try:
        keys = ensure_keys(db.session, secret_box(), store)
        db.session.commit()
    except DBAPIError:
        db.session.rollback()
        return _answer(503, "unavailable")
    log.info("woo_plugin.exchanged", extra={"store_id": store.id})
    return _answer(
        200,
        "connected",
        store_key=keys.public_key,
        secret=keys.secret,
        site_key=store.domain,
        api_url=str(current_app.config.get("APP_URL", "")).rstrip("/"),
    )


def sign_call(secret: str, method: str, path: str, body: bytes, now: int) -> str:
    """The X-PPE-Signature header the plugin sends (here for tests and as the reference)."""
    message = f"{now}.{method.upper()}.{path}.".encode() + body
    return f"t={now},s={hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()}"


def verified_store(headers: Any, method: str, path: str, body: bytes, *, now: float | None = None) -> Store | None:
    """The store a signed plugin call comes from, or None (unknown key, bad or stale signature)."""
    now = time.time() if now is None else now
    store = store_for_public_key(db.session, secret_box(), str(headers.get("X-PPE-Store", "")))
    match = _SIGNATURE.fullmatch(str(headers.get("X-PPE-Signature", "")))
    if store is None or match is None or store.platform != "woocommerce":
        return None
    keys = read_keys(secret_box(), store)
    stamp = int(match.group(1))
    if keys is None or not keys.secret or abs(now - stamp) > SIGNATURE_MAX_SKEW_SECONDS:
        return None
    expected = sign_call(keys.secret, method, path, body, stamp)
    return store if hmac.compare_digest(expected, match.group(0)) else None
