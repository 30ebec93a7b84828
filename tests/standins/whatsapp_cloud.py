"""A stand-in WhatsApp Cloud API (Graph API messages endpoint) on loopback, checking each request against Meta's
documented format and sending signed webhooks back.

Checked (https://developers.facebook.com/docs/whatsapp/cloud-api/reference/messages):
- POST /v{major}.{minor}/{phone-number-id}/messages with Authorization: Bearer <token> (else 401, code 190);
- a JSON body: messaging_product "whatsapp", recipient_type "individual" (optional), to (digits, optional "+"),
  type "text" with text {body 1-4096, preview_url bool optional} or "template" with template {name,
  language {code}, components [{type "body", parameters [{type "text", text non-empty}]}]}; nothing else;
- a template must be one the business had approved (`templates`: (name, language code) -> parameter count),
  else 132001 (does not exist in the language), a wrong parameter count 132000.
Answer: {"messaging_product", "contacts": [{"input", "wa_id"}], "messages": [{"id": "wamid..."}]}. Errors:
{"error": {"message", "type", "code", "error_data": {"messaging_product", "details"}, "fbtrace_id"}}.
What happens after the answer arrives as webhooks (statuses), as on the real platform: a free-form text to
someone outside the 24-hour window fails with 131047 (re-engagement message), a number in `undeliverable`
with 131026. Webhooks carry X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body with the app secret>
(https://developers.facebook.com/docs/graph-api/webhooks/getting-started#validate-payloads); statuses carry
`pricing` {billable, pricing_model "PMP", category, type} (the status messages webhook reference).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import requests
from werkzeug.wrappers import Request, Response

from tests.standins.http11 import keep_alive_server

PATH = re.compile(r"^/v(\d+)\.(\d+)/([0-9]+)/messages$")


def hub_signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@dataclass
class StandInWhatsApp:
    phone_number_id: str = "106540352242922"
    token: str = "wa-access-token"
    app_secret: str = "wa-app-secret"
    webhook_url: str = ""  # our /webhooks/whatsapp
    templates: dict[tuple[str, str], int] = field(default_factory=dict)
    window: set[str] = field(default_factory=set)  # wa_ids that wrote within 24 hours
    undeliverable: set[str] = field(default_factory=set)
    sent: list[dict[str, Any]] = field(default_factory=list)
    refused: list[tuple[int, int, str]] = field(default_factory=list)
    pending: list[dict[str, Any]] = field(default_factory=list)  # statuses to send back (flush)
    clock: Any = time.time  # the timestamps the webhooks carry (tests set the app's mail clock)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    base_url: str = ""
    connections: list[tuple[str, int]] = field(default_factory=list)  # client addresses, one per connection

    def __call__(self, environ: dict, start_response: Any) -> Any:
        return self.route(Request(environ))(environ, start_response)

    def _refuse(self, status: int, code: int, why: str) -> Response:
        with self._lock:
            self.refused.append((status, code, why))
        body = {
            "error": {
                "message": why,
                "type": "OAuthException",
                "code": code,
                "error_data": {"messaging_product": "whatsapp", "details": why},
                "fbtrace_id": "Az1",
            }
        }
        return Response(json.dumps(body), status=status, mimetype="application/json")

    def route(self, request: Request) -> Response:
        match = PATH.match(request.path)
        if request.method != "POST" or not match or match.group(3) != self.phone_number_id:
            return self._refuse(400, 100, f"Unsupported request {request.method} {request.path}")
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return self._refuse(401, 190, "Invalid OAuth access token")
        if request.mimetype != "application/json":
            return self._refuse(400, 100, "JSON body expected")
        try:
            data = json.loads(request.get_data())
        except ValueError:
            return self._refuse(400, 100, "invalid JSON")
        problem = self._check(data)
        if problem:
            return self._refuse(400, *problem)
        wa_id = data["to"].lstrip("+")
        wamid = "wamid." + secrets.token_urlsafe(24)
        with self._lock:
            self.sent.append(data)
        category = "utility" if data["type"] == "template" else "service"
        if wa_id in self.undeliverable:
            self.pending.append(self._status(wamid, wa_id, "failed", error=(131026, "Message undeliverable")))
        elif data["type"] == "text" and wa_id not in self.window:
            self.pending.append(self._status(wamid, wa_id, "failed", error=(131047, "Re-engagement message")))
        else:
            self.pending.append(self._status(wamid, wa_id, "sent", category=category))
            self.pending.append(self._status(wamid, wa_id, "delivered", category=category))
        answer = {
            "messaging_product": "whatsapp",
            "contacts": [{"input": data["to"], "wa_id": wa_id}],
            "messages": [{"id": wamid}],
        }
        return Response(json.dumps(answer), mimetype="application/json")

    def _check(self, data: Any) -> tuple[int, str] | None:
        if not isinstance(data, dict) or data.get("messaging_product") != "whatsapp":
            return 100, "messaging_product must be whatsapp"
        allowed = {"messaging_product", "recipient_type", "to", "type", "text", "template"}
        if set(data) - allowed or data.get("recipient_type", "individual") != "individual":
            return 100, f"unexpected parameters {sorted(set(data) - allowed)}"
        if not isinstance(data.get("to"), str) or not re.fullmatch(r"\+?[1-9][0-9]{7,14}", data["to"]):
            return 100, "to: a phone number"
        kind = data.get("type")
        if kind == "text":
            text = data.get("text")
            if not isinstance(text, dict) or set(text) - {"body", "preview_url"} or "template" in data:
                return 100, "text: {body, preview_url}"
            if not isinstance(text.get("body"), str) or not 1 <= len(text["body"]) <= 4096:
                return 100, "text.body: 1-4096 characters"
            if not isinstance(text.get("preview_url", False), bool):
                return 100, "text.preview_url: a boolean"
            return None
        if kind != "template" or "text" in data:
            return 100, "type: text or template"
        template = data.get("template")
        if not isinstance(template, dict) or set(template) - {"name", "language", "components"}:
            return 100, "template: {name, language, components}"
        language = template.get("language")
        if not isinstance(language, dict) or set(language) != {"code"} or not isinstance(language["code"], str):
            return 100, "template.language: {code}"
        params: list[Any] = []
        for component in template.get("components", []):
            if (
                not isinstance(component, dict)
                or component.get("type") != "body"
                or set(component) != {"type", "parameters"}
            ):
                return 100, "components: [{type: body, parameters}]"
            params += component["parameters"]
        for param in params:
            if not isinstance(param, dict) or param.get("type") != "text" or not str(param.get("text") or "").strip():
                return 131008, "parameter: {type: text, text: non-empty}"
        expected = self.templates.get((template.get("name"), language["code"]))
        if expected is None:
            return 132001, "Template name does not exist in the translation"
        if expected != len(params):
            return 132000, "Number of parameters does not match the expected number of params"
        return None

    def _status(
        self, wamid: str, wa_id: str, status: str, *, category: str = "utility", error: tuple[int, str] | None = None
    ) -> dict[str, Any]:
        item: dict[str, Any] = {
            "id": wamid,
            "status": status,
            "timestamp": str(int(self.clock())),
            "recipient_id": wa_id,
        }
        if error:
            item["errors"] = [
                {"code": error[0], "title": error[1], "message": error[1], "error_data": {"details": error[1]}}
            ]
        else:
            item["pricing"] = {
                "billable": category != "service",
                "pricing_model": "PMP",
                "category": category,
                "type": "regular" if category != "service" else "free_customer_service",
            }
        return {"statuses": [item]}

    # -- webhooks to the app --------------------------------------------------------------------------------

    def post_webhook(self, value: dict[str, Any], *, secret: str | None = None) -> requests.Response:
        payload = {"object": "whatsapp_business_account", "entry": [{"id": "102290129340398", "changes": [
            {"value": {"messaging_product": "whatsapp",
                       "metadata": {"display_phone_number": "15550783881", "phone_number_id": self.phone_number_id},
                       **value}, "field": "messages"}]}]}  # fmt: skip
        body = json.dumps(payload).encode()
        headers = {
            "Content-Type": "application/json",
            "X-Hub-Signature-256": hub_signature(secret or self.app_secret, body),
        }
        return requests.post(self.webhook_url, data=body, headers=headers, timeout=10)

    def flush(self) -> list[int]:
        """Send every pending status webhook; returns the HTTP statuses our server answered."""
        with self._lock:
            pending, self.pending = self.pending, []
        return [self.post_webhook(value).status_code for value in pending]

    def send_inbound(self, wa_id: str, text: str) -> requests.Response:
        self.window.add(wa_id)
        message = {
            "from": wa_id,
            "id": "wamid." + secrets.token_urlsafe(24),
            "timestamp": str(int(self.clock())),
            "type": "text",
            "text": {"body": text},
        }
        return self.post_webhook({"contacts": [{"profile": {"name": "Ola"}, "wa_id": wa_id}], "messages": [message]})

    def send_preference(self, wa_id: str, value: str) -> requests.Response:
        pref = {
            "wa_id": wa_id,
            "detail": "User requested to stop marketing messages",
            "category": "marketing_messages",
            "value": value,
            "timestamp": int(self.clock()),
        }
        return self.post_webhook(
            {"contacts": [{"profile": {"name": "Ola"}, "wa_id": wa_id}], "user_preferences": [pref]}
        )


class WhatsAppServer:
    def __init__(self, whatsapp: StandInWhatsApp) -> None:
        self.whatsapp = whatsapp
        self._server = keep_alive_server(whatsapp, whatsapp.connections)  # as the real API: HTTP/1.1, kept alive
        whatsapp.base_url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> StandInWhatsApp:
        self._thread.start()
        return self.whatsapp

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._thread.join(5)
