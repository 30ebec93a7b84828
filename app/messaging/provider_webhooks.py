"""POST /webhooks/twilio and GET|POST /webhooks/whatsapp: the providers' signed callbacks, verified and stored
before the 200 (models.ProviderCallback), processed later by workers (callbacks.py via callback_tasks.py).

- Twilio signs with X-Twilio-Signature: base64(HMAC-SHA1(auth token, the full URL Twilio called + every POST
  parameter's name and value, sorted by name)). The URL is APP_URL + the path and query, the address we gave
  Twilio (behind a proxy the request's own host may differ). https://www.twilio.com/docs/usage/webhooks/webhooks-security
- Meta signs with X-Hub-Signature-256: "sha256=" + hex HMAC-SHA256 of the raw body with the app secret; the GET
  verification answers hub.challenge when hub.mode is "subscribe" and hub.verify_token is ours.
  https://developers.facebook.com/docs/graph-api/webhooks/getting-started
Comparisons are constant-time (hmac.compare_digest). A duplicate (Twilio's retry, Meta's redelivery) is found by
the unique (provider, dedupe_key) and answered 200 without a second row. Nothing from outside reaches a 500:
an unconfigured provider answers 404, a bad signature 401 (Twilio and Meta both retry on non-2xx).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
from urllib.parse import parse_qsl

from flask import Blueprint, Response, current_app, request
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.messaging.models import ProviderCallback

log = logging.getLogger(__name__)
blueprint = Blueprint("provider_webhooks", __name__, url_prefix="/webhooks")
TWILIO, WHATSAPP = "twilio", "whatsapp"


def twilio_signature(token: str, url: str, params: list[tuple[str, str]]) -> str:
    data = url + "".join(f"{key}{value}" for key, value in sorted(params, key=lambda kv: kv[0]))
    return base64.b64encode(hmac.new(token.encode(), data.encode(), hashlib.sha1).digest()).decode()


def hub_signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _store(provider: str, dedupe_key: str, body: bytes) -> Response:
    try:
        with db.session.begin_nested():
            db.session.add(ProviderCallback(provider=provider, dedupe_key=dedupe_key[:191], body=body, attempts=0))
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        log.info("messaging.callback_duplicate", extra={"provider": provider})
    return Response("", 200) if provider == WHATSAPP else Response("<Response/>", 200, mimetype="text/xml")


@blueprint.post("/twilio")
def twilio() -> Response:
    token = current_app.config.get("TWILIO_AUTH_TOKEN")
    if not token:
        return Response("not configured", 404)
    body = request.get_data(cache=True)
    params = parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
    query = request.query_string.decode("latin-1")
    url = current_app.config["APP_URL"] + request.path + (f"?{query}" if query else "")
    given = request.headers.get("X-Twilio-Signature", "")
    if not hmac.compare_digest(given.encode(), twilio_signature(token, url, params).encode()):
        log.info("messaging.callback_refused", extra={"provider": TWILIO, "reason": "signature"})
        return Response("invalid signature", 401)
    fields = dict(params)
    sid = fields.get("MessageSid") or fields.get("SmsSid")
    if not sid or fields.get("AccountSid") != current_app.config.get("TWILIO_ACCOUNT_SID"):
        return Response("unexpected callback", 400)
    status = fields.get("MessageStatus") or fields.get("SmsStatus") or "received"
    return _store(TWILIO, f"{sid}:{status}", body)


@blueprint.get("/whatsapp")
def whatsapp_verify() -> Response:
    token = current_app.config.get("WHATSAPP_VERIFY_TOKEN")
    given = request.args.get("hub.verify_token", "")
    if token and request.args.get("hub.mode") == "subscribe" and hmac.compare_digest(given.encode(), token.encode()):
        return Response(request.args.get("hub.challenge", ""), 200, mimetype="text/plain")
    return Response("forbidden", 403)


@blueprint.post("/whatsapp")
def whatsapp() -> Response:
    secret = current_app.config.get("WHATSAPP_APP_SECRET")
    if not secret:
        return Response("not configured", 404)
    body = request.get_data(cache=True)
    given = request.headers.get("X-Hub-Signature-256", "")
    if not hmac.compare_digest(given.encode(), hub_signature(secret, body).encode()):
        log.info("messaging.callback_refused", extra={"provider": WHATSAPP, "reason": "signature"})
        return Response("invalid signature", 401)
    return _store(WHATSAPP, "sha256:" + hashlib.sha256(body).hexdigest(), body)
