"""A stand-in Twilio Programmable Messaging API on loopback: refuses what real Twilio refuses, answers its
documented errors, and calls back with signed status callbacks and inbound messages.

Checked per request (https://www.twilio.com/docs/messaging/api/message-resource#create-a-message-resource):
- POST /2010-04-01/Accounts/{AccountSid}/Messages.json, application/x-www-form-urlencoded;
- HTTP basic auth AccountSid:AuthToken (else 401, code 20003);
- To in E.164 (missing: 21604; not E.164: 21211); exactly one of From (E.164) or MessagingServiceSid ("MG" + 32
  hex) (missing: 21603); Body 1-1600 characters (missing: 21602; longer: 21617); StatusCallback an http(s) URL;
  no field outside the documented ones (this stand-in is stricter than Twilio here: a typo is our bug).
The answer: 201 with the Message resource (sid "SM" + 32 hex, status "queued", price null). GET
.../Messages/{Sid}.json answers the resource with `price` (negative, a charge) and `price_unit` once sent.
Scripted errors: `invalid` numbers (21211), `unsubscribed` numbers (21610), `throttle` (the next N creates answer
429 with code 20429). Error body: {"code", "message", "more_info", "status"} (https://www.twilio.com/docs/api/errors).
Callbacks are signed as Twilio signs them: base64(HMAC-SHA1(AuthToken, URL + each POST param name and value,
sorted by name)) in X-Twilio-Signature (https://www.twilio.com/docs/usage/webhooks/webhooks-security).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import re
import secrets
import threading
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import requests
from werkzeug.wrappers import Request, Response

from tests.standins.http11 import keep_alive_server

E164 = re.compile(r"^\+[1-9][0-9]{7,14}$")
SERVICE = re.compile(r"^MG[0-9a-f]{32}$")
FIELDS = {"To", "From", "MessagingServiceSid", "Body", "StatusCallback"}
PRICE = "-0.00790"


def twilio_signature(token: str, url: str, params: dict[str, str]) -> str:
    data = url + "".join(f"{key}{params[key]}" for key in sorted(params))
    return base64.b64encode(hmac.new(token.encode(), data.encode(), hashlib.sha1).digest()).decode()


def _error(status: int, code: int, message: str) -> Response:
    body = {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }
    return Response(json.dumps(body), status=status, mimetype="application/json")


@dataclass
class StandInTwilio:
    account_sid: str = "AC" + "0" * 31 + "1"
    auth_token: str = "twilio-auth-token"
    invalid: set[str] = field(default_factory=set)
    unsubscribed: set[str] = field(default_factory=set)
    throttle: int = 0
    sent: list[dict[str, str]] = field(default_factory=list)  # every accepted create, its form fields
    refused: list[tuple[int, int, str]] = field(default_factory=list)  # (status, code, why) of refused requests
    messages: dict[str, dict[str, Any]] = field(default_factory=dict)
    _seq: Any = field(default_factory=lambda: itertools.count(1))
    _lock: threading.Lock = field(default_factory=threading.Lock)
    base_url: str = ""
    connections: list[tuple[str, int]] = field(default_factory=list)  # client addresses, one per connection

    def __call__(self, environ: dict, start_response: Any) -> Any:
        request = Request(environ)
        return self.route(request)(environ, start_response)

    def route(self, request: Request) -> Response:
        prefix = f"/2010-04-01/Accounts/{self.account_sid}/Messages"
        auth = request.authorization
        if (
            auth is None
            or auth.type != "basic"
            or (auth.username, auth.password) != (self.account_sid, self.auth_token)
        ):
            return self._refuse(401, 20003, "Authenticate")
        if request.path == f"{prefix}.json" and request.method == "POST":
            return self._create(request)
        match = re.fullmatch(re.escape(prefix) + r"/(SM[0-9a-f]{32})\.json", request.path)
        if match and request.method == "GET":
            found = self.messages.get(match.group(1))
            return (
                Response(json.dumps(found), mimetype="application/json") if found else _error(404, 20404, "Not found")
            )
        return self._refuse(404, 20404, f"no such resource {request.method} {request.path}")

    def _refuse(self, status: int, code: int, why: str) -> Response:
        with self._lock:
            self.refused.append((status, code, why))
        return _error(status, code, why)

    def _create(self, request: Request) -> Response:
        if request.mimetype != "application/x-www-form-urlencoded":
            return self._refuse(400, 20001, "form-encoded body expected")
        form = {key: request.form[key] for key in request.form}
        if set(form) - FIELDS:
            return self._refuse(400, 20001, f"unknown parameters {sorted(set(form) - FIELDS)}")
        to = form.get("To")
        if not to:
            return self._refuse(400, 21604, "A 'To' phone number is required.")
        if not E164.match(to):
            return self._refuse(400, 21211, f"The 'To' number {to} is not a valid phone number.")
        if ("From" in form) == ("MessagingServiceSid" in form):
            return self._refuse(400, 21603, "A 'From' phone number is required.")
        if "From" in form and not E164.match(form["From"]):
            return self._refuse(400, 21212, "Invalid From number")
        if "MessagingServiceSid" in form and not SERVICE.match(form["MessagingServiceSid"]):
            return self._refuse(400, 21701, "Messaging Service not found")
        body = form.get("Body", "")
        if not body:
            return self._refuse(400, 21602, "Message body is required.")
        if len(body) > 1600:
            return self._refuse(400, 21617, "The concatenated message body exceeds the 1600 character limit.")
        callback = form.get("StatusCallback")
        if callback is not None and not re.match(r"^https?://[^\s]+$", callback):
            return self._refuse(400, 21609, "Invalid StatusCallback")
        with self._lock:
            if self.throttle > 0:
                self.throttle -= 1
                return _error(429, 20429, "Too Many Requests")
        if to in self.invalid:
            return _error(400, 21211, f"The 'To' number {to} is not a valid phone number.")
        if to in self.unsubscribed:
            return _error(400, 21610, "Attempt to send to unsubscribed recipient")
        sid = "SM" + secrets.token_hex(16)
        resource = {
            "sid": sid, "account_sid": self.account_sid, "to": to, "from": form.get("From"),
            "messaging_service_sid": form.get("MessagingServiceSid"), "body": body, "status": "queued",
            "num_segments": "1", "direction": "outbound-api", "api_version": "2010-04-01", "price": None,
            "price_unit": "USD", "error_code": None, "error_message": None,
            "uri": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}.json", "status_callback": callback,
        }  # fmt: skip
        with self._lock:
            self.sent.append(form)
            self.messages[sid] = resource
        return Response(json.dumps(resource), status=201, mimetype="application/json")

    # -- callbacks to the app, signed -------------------------------------------------------------------

    def post_signed(self, url: str, params: dict[str, str], *, token: str | None = None) -> requests.Response:
        signature = twilio_signature(token or self.auth_token, url, params)
        return requests.post(
            url, data=urlencode(params), timeout=10,
            headers={"X-Twilio-Signature": signature, "Content-Type": "application/x-www-form-urlencoded"},
        )  # fmt: skip

    def send_status(self, sid: str, status: str, error_code: int | None = None) -> requests.Response:
        """The status callback of message `sid` to the StatusCallback it was created with."""
        resource = self.messages[sid]
        resource["status"] = status
        if status in ("sent", "delivered", "undelivered", "failed"):
            resource["price"] = PRICE
        params = {
            "AccountSid": self.account_sid, "ApiVersion": "2010-04-01", "MessageSid": sid, "SmsSid": sid,
            "MessageStatus": status, "SmsStatus": status, "To": resource["to"],
            "From": resource["from"] or "+15005550006",
        }  # fmt: skip
        if error_code is not None:
            params["ErrorCode"] = str(error_code)
            resource["error_code"] = error_code
        return self.post_signed(resource["status_callback"], params)

    def send_inbound(self, url: str, sender: str, body: str, to: str = "+15005550006") -> requests.Response:
        """An incoming SMS to our number, as Twilio posts it to the number's messaging webhook."""
        sid = "SM" + secrets.token_hex(16)
        params = {
            "AccountSid": self.account_sid, "ApiVersion": "2010-04-01", "MessageSid": sid, "SmsSid": sid,
            "SmsMessageSid": sid, "SmsStatus": "received", "From": sender, "To": to, "Body": body,
            "NumMedia": "0", "NumSegments": "1",
        }  # fmt: skip
        keyword = body.strip().upper()
        if keyword in {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"}:
            params["OptOutType"] = "STOP"
        elif keyword in {"START", "UNSTOP", "YES"}:
            params["OptOutType"] = "START"
        return self.post_signed(url, params)


class TwilioServer:
    def __init__(self, twilio: StandInTwilio) -> None:
        self.twilio = twilio
        self._server = keep_alive_server(twilio, twilio.connections)  # as the real API: HTTP/1.1, kept alive
        twilio.base_url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> StandInTwilio:
        self._thread.start()
        return self.twilio

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._thread.join(5)
