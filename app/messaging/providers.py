"""SMS through Twilio's REST API and WhatsApp through Meta's Cloud API: the phone channels' adapters.

Twilio (https://www.twilio.com/docs/messaging/api/message-resource#create-a-message-resource):
  POST {TWILIO_API_BASE}/2010-04-01/Accounts/{AccountSid}/Messages.json, HTTP basic auth (AccountSid:AuthToken),
  form fields To (E.164), From or MessagingServiceSid, Body, StatusCallback. The answer is the Message resource
  (`sid` "SM...", `status`, `price`, `price_unit`); an error is {"code", "message", "more_info", "status"}:
  https://www.twilio.com/docs/api/errors. Permanent for this message: 21211 (invalid To), 21614 (not a mobile
  number), 21408 (region not enabled), 21610 (the recipient replied STOP: also recorded as an opt-out).
  Transient: 429/20429 (too many requests), 5xx, timeouts. Fetching the resource
  (GET .../Messages/{Sid}.json) gives the final `price` (negative: a charge) and `price_unit`.
WhatsApp (https://developers.facebook.com/docs/whatsapp/cloud-api/reference/messages):
  POST {WHATSAPP_API_BASE}/{version}/{phone-number-id}/messages, Authorization: Bearer <token>, JSON
  {"messaging_product": "whatsapp", "recipient_type": "individual", "to": <digits>, "type": "text",
  "text": {"body", "preview_url"}} inside the 24-hour window, else "type": "template" with {"name",
  "language": {"code"}, "components": [{"type": "body", "parameters": [{"type": "text", "text"}]}]}.
  The answer's messages[0].id ("wamid...") is what receipts name. Errors: {"error": {"code", "message",
  "error_data": {"details"}}}; https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes:
  130429/131056/80007 (rate limits) and 5xx/131000/131016 are transient, everything else permanent for this
  message (131047: outside the 24-hour window, 131026: undeliverable, 132001: template missing).
Both APIs keep connections alive: the calls go through one pooled session per process, so a message is one request
on an open connection, not a new TCP and TLS handshake (with the CA bundle loaded again, ~20 ms of CPU) each.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from http.cookiejar import DefaultCookiePolicy
from typing import Any

import requests

from app.messaging.channels import PermanentSendError, TransientSendError

log = logging.getLogger(__name__)
TWILIO_PERMANENT = frozenset({21211, 21214, 21408, 21604, 21606, 21610, 21612, 21614, 21617, 30003, 30005, 30006})
TWILIO_OPTED_OUT = 21610
WHATSAPP_TRANSIENT = frozenset({1, 2, 4, 80007, 130429, 131000, 131016, 131056, 133004})


_SESSIONS: dict[int, requests.Session] = {}


def session() -> requests.Session:
    """This process's pooled session for the providers' APIs (one per pid: a forked child opens its own sockets
    rather than sharing its parent's). It keeps no cookies: every call stands alone, as it did unpooled."""
    pid = os.getpid()
    found = _SESSIONS.get(pid)
    if found is None:
        found = _SESSIONS.setdefault(pid, requests.Session())
        found.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
    return found


class ProviderRefused(PermanentSendError):
    """A permanent refusal with the provider's error code (kept on the message as `last_error`)."""

    def __init__(self, provider: str, code: Any) -> None:
        super().__init__(f"{provider} {code}")
        self.provider, self.provider_code = provider, code


@dataclass(frozen=True)
class Sent:
    ref: str  # Twilio MessageSid / WhatsApp wamid
    status: str | None = None


def parse_price(price: Any, unit: Any) -> tuple[Decimal, str] | None:
    """Twilio's `price` ("-0.00750", a charge is negative) and `price_unit` ("USD") as a positive Decimal."""
    if price in (None, "") or not isinstance(unit, str) or len(unit) != 3:
        return None
    try:
        # Money columns keep 4 decimals (NUMERIC(18,4)); Twilio may quote 5 ("-0.00755"): rounded half up.
        return abs(Decimal(str(price))).quantize(Decimal("0.0001"), ROUND_HALF_UP), unit.upper()
    except InvalidOperation:
        return None


class TwilioSms:
    name = "twilio"

    def __init__(self, config: Any) -> None:
        self.sid, self.token = config["TWILIO_ACCOUNT_SID"], config["TWILIO_AUTH_TOKEN"]
        self.sender, self.service = config.get("TWILIO_FROM"), config.get("TWILIO_MESSAGING_SERVICE_SID")
        self.base = f"{config['TWILIO_API_BASE']}/2010-04-01/Accounts/{self.sid}"
        self.timeout = float(config.get("CHANNEL_SEND_TIMEOUT_SECONDS", 10))

    def _call(self, method: str, url: str, **kwargs: Any) -> dict[str, Any]:
        try:
            answer = session().request(method, url, auth=(self.sid, self.token), timeout=self.timeout, **kwargs)
        except requests.RequestException as exc:
            raise TransientSendError(f"twilio {type(exc).__name__}") from None
        try:
            body = answer.json()
        except ValueError:
            body = {}
        body = body if isinstance(body, dict) else {}
        if answer.status_code < 300:
            return body
        code = body.get("code")
        if answer.status_code == 429 or answer.status_code >= 500 or code == 20429:
            raise TransientSendError(f"twilio {answer.status_code} {code}")
        if answer.status_code in (401, 403):  # our credentials: fixable, so retried like an outage
            raise TransientSendError(f"twilio {answer.status_code} {code}")
        raise ProviderRefused("twilio", code if isinstance(code, int) else answer.status_code)

    def send(self, to: str, body: str, status_callback: str | None) -> Sent:
        fields = {"To": to, "Body": body}
        if self.service:
            fields["MessagingServiceSid"] = self.service
        else:
            fields["From"] = self.sender
        if status_callback:
            fields["StatusCallback"] = status_callback
        answer = self._call("POST", f"{self.base}/Messages.json", data=fields)
        sid = answer.get("sid")
        if not isinstance(sid, str) or not sid:
            raise TransientSendError("twilio answer without sid")
        return Sent(sid, answer.get("status"))

    def fetch_price(self, sid: str) -> tuple[Decimal, str] | None:
        answer = self._call("GET", f"{self.base}/Messages/{sid}.json")
        return parse_price(answer.get("price"), answer.get("price_unit"))


class WhatsAppCloud:
    name = "whatsapp"

    def __init__(self, config: Any) -> None:
        version, number = config["WHATSAPP_API_VERSION"], config["WHATSAPP_PHONE_NUMBER_ID"]
        self.url = f"{config['WHATSAPP_API_BASE']}/{version}/{number}/messages"
        self.token = config["WHATSAPP_ACCESS_TOKEN"]
        self.timeout = float(config.get("CHANNEL_SEND_TIMEOUT_SECONDS", 10))

    def _post(self, payload: dict[str, Any]) -> Sent:
        headers = {"Authorization": f"Bearer {self.token}"}
        try:
            answer = session().post(self.url, json=payload, headers=headers, timeout=self.timeout)
        except requests.RequestException as exc:
            raise TransientSendError(f"whatsapp {type(exc).__name__}") from None
        try:
            body = answer.json()
        except ValueError:
            body = {}
        body = body if isinstance(body, dict) else {}
        if answer.status_code < 300:
            messages = body.get("messages")
            ref = (
                messages[0].get("id")
                if isinstance(messages, list) and messages and isinstance(messages[0], dict)
                else None
            )
            if not isinstance(ref, str) or not ref:
                raise TransientSendError("whatsapp answer without a message id")
            return Sent(ref, "accepted")
        error = body.get("error")
        code = error.get("code") if isinstance(error, dict) else None
        if answer.status_code == 429 or answer.status_code >= 500 or code in WHATSAPP_TRANSIENT:
            raise TransientSendError(f"whatsapp {answer.status_code} {code}")
        if answer.status_code == 401 or code == 190:  # an expired or wrong token: ours to fix
            raise TransientSendError(f"whatsapp {answer.status_code} {code}")
        raise ProviderRefused("whatsapp", code if isinstance(code, int) else answer.status_code)

    @staticmethod
    def _base(to: str) -> dict[str, Any]:
        # The Cloud API takes the number with or without "+"; we send the E.164 digits as Meta's examples do.
        return {"messaging_product": "whatsapp", "recipient_type": "individual", "to": to.lstrip("+")}

    def send_text(self, to: str, body: str) -> Sent:
        return self._post({**self._base(to), "type": "text", "text": {"preview_url": False, "body": body}})

    def send_template(self, to: str, name: str, language: str, parameters: list[str]) -> Sent:
        template: dict[str, Any] = {"name": name, "language": {"code": language}}
        if parameters:
            template["components"] = [
                {"type": "body", "parameters": [{"type": "text", "text": value} for value in parameters]}
            ]
        return self._post({**self._base(to), "type": "template", "template": template})
