"""The stand-in WooCommerce store's authentication: the wc-auth key handshake and REST request authentication.

Split from tests/standins/woocommerce.py (WooStandin mixes WooAuth in). wc-auth: the merchant approves at once,
the keys are POSTed to callback_url, then a redirect to return_url; a callback that does not answer 200 deletes the key
(WC_Auth::maybe_delete_key). https://woocommerce.github.io/woocommerce-rest-api-docs/#auth-endpoint
As WC_Auth::make_validation does (includes/class-wc-auth.php), before any key is made: every parameter is required,
the scope is read, write or read_write, URLs without "://" get "https://" put in front, and a callback_url that is
not https is refused ("The callback_url needs to be over SSL"), each as a 401 error page. The keys are posted with
the certificate verified (wp_safe_remote_post): `ca_bundle` is the certificate the stand-in trusts.
REST requests: Basic auth or consumer_key/consumer_secret query parameters (the HTTPS forms), or OAuth 1.0a in the
query string (RFC 5849 base string, HMAC-SHA1/SHA256, key = consumer_secret + "&"), checked the way
WC_REST_Authentication does (the last duplicate query key wins, as in PHP's $_GET; stale timestamps and reused
nonces are refused). https://woocommerce.github.io/woocommerce-rest-api-docs/#authentication-over-http
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, quote, unquote_plus, urlencode, urlsplit

import requests
from werkzeug.wrappers import Request, Response


def _enc(value: str) -> str:
    return quote(value, safe="~")


def _formatted(url: str) -> str:
    # WC_Auth::get_formatted_url: decoded once more, and https:// when it names no scheme.
    url = unquote_plus(url)
    return url if "://" in url else "https://" + url


def _denied(message: str) -> Response:
    # wp_die( 'Error: <message>.', 'Access denied', 401 ): an HTML page, no key made or kept.
    return Response(f"<p>Error: {message}.</p>", status=401, mimetype="text/html")


def error_response(status: int, code: str, message: str) -> Response:
    body = json.dumps({"code": code, "message": message, "data": {"status": status}})
    return Response(body, status=status, mimetype="application/json")


class WooAuth:
    """The authentication half of WooStandin (which holds these attributes)."""

    url: str
    keys: dict[str, dict[str, Any]]
    callbacks: list[tuple[int, dict[str, Any]]]
    grant_permissions: str | None
    _callback_urls: list[str]
    _nonces: set[tuple[int, str]]
    ca_bundle: str | None
    add_key: Callable[[str], tuple[str, str]]  # WooStandin.add_key(permissions)

    # wc-auth: the merchant approves at once; keys are POSTed to callback_url, then a redirect.
    def _authorize(self, request: Request) -> Response:
        args = request.args
        for name in ("app_name", "user_id", "return_url", "callback_url", "scope"):
            if not args.get(name):
                return _denied(f"Missing parameter {name}")
        if args["scope"] not in ("read", "write", "read_write"):
            return _denied(f"Invalid scope {args['scope']}")
        callback_url, return_url = _formatted(args["callback_url"]), _formatted(args["return_url"])
        if not callback_url.lower().startswith("https://"):
            return _denied("The callback_url needs to be over SSL")
        key, secret = self.add_key(self.grant_permissions or args["scope"])
        body = {
            "key_id": self.keys[key]["key_id"],
            "user_id": args["user_id"],
            "consumer_key": key,
            "consumer_secret": secret,
            "key_permissions": self.keys[key]["permissions"],
        }
        try:
            status = requests.post(callback_url, json=body, timeout=10, verify=self.ca_bundle or True).status_code
        except requests.RequestException:
            status = 0
        self.callbacks.append((status, body))
        self._callback_urls.append(callback_url)
        sep = "&" if "?" in return_url else "?"
        if status != 200:  # WC_Auth::maybe_delete_key, then wp_die(..., 401)
            self.keys.pop(key, None)
            return Response(
                "Error: An error occurred in the request and at the time were unable to send the consumer data.",
                status=401,
            )
        target = f"{return_url}{sep}{urlencode({'success': 1, 'user_id': args['user_id']})}"
        return Response("", status=302, headers={"Location": target})

    def _authenticate(self, request: Request) -> str | Response:
        query = dict(parse_qsl(urlsplit(request.url).query, keep_blank_values=True))  # last wins, as in PHP
        if request.authorization and request.authorization.type == "basic":
            key, secret = request.authorization.username or "", request.authorization.password or ""
        elif "consumer_key" in query:
            key, secret = query["consumer_key"], query.get("consumer_secret", "")
        elif "oauth_signature" in query:
            return self._check_oauth(request, query)
        else:
            return error_response(401, "woocommerce_rest_authentication_error", "Consumer key is missing.")
        stored = self.keys.get(key)
        if stored is None or not hmac.compare_digest(stored["secret"], secret):
            return error_response(401, "woocommerce_rest_authentication_error", "Consumer secret is invalid.")
        return key

    def _check_oauth(self, request: Request, query: dict[str, str]) -> str | Response:
        stored = self.keys.get(query.get("oauth_consumer_key", ""))
        if stored is None:
            return error_response(401, "woocommerce_rest_authentication_error", "Consumer key is invalid.")
        method = query.get("oauth_signature_method", "")
        if method not in ("HMAC-SHA1", "HMAC-SHA256"):
            message = "Invalid signature - method not supported."
            return error_response(401, "woocommerce_rest_authentication_error", message)
        params = sorted((k, v) for k, v in query.items() if k != "oauth_signature")
        normalised = "&".join(f"{_enc(k)}={_enc(v)}" for k, v in params)
        base_url = f"{self.url}{request.path}"
        base = "&".join((request.method, _enc(base_url), _enc(normalised)))
        digest = hashlib.sha256 if method == "HMAC-SHA256" else hashlib.sha1
        expected = base64.b64encode(hmac.new((stored["secret"] + "&").encode(), base.encode(), digest).digest())
        if not hmac.compare_digest(expected.decode(), query["oauth_signature"]):
            return error_response(
                401, "woocommerce_rest_authentication_error", "Invalid signature - provided signature does not match."
            )
        stamp = int(query.get("oauth_timestamp", "0") or 0)
        nonce = query.get("oauth_nonce", "")
        if abs(time.time() - stamp) > 15 * 60 or (stamp, nonce) in self._nonces:
            return error_response(401, "woocommerce_rest_authentication_error", "Invalid timestamp or nonce.")
        self._nonces.add((stamp, nonce))
        return query["oauth_consumer_key"]
