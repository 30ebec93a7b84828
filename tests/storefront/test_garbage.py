"""Nothing from outside reaches a 500 at the storefront: garbage Origins and unsigned token claims are refused
(403/401), through the WSGI door and the Flask views alike (as tests/storefront/test_storefront_door.py compares)."""

from __future__ import annotations

import base64
import json

from tests.storefront.test_storefront_door import BALANCE, ORIGIN, _check, _store, _token, clock, passed_on  # noqa: F401

BROKEN_ORIGINS = ["http://[::1", "http://door.example.com:99999", "https://door.example.com:abc", "http://[zz]"]
BROKEN_SITES = ["door.example.com:99999", "host:99999", "[::1", "https://[::1", "door.example.com:abc", ":x"]


def _unsigned(site: str) -> str:
    """A token whose claims name `site`, with a signature no secret made."""
    claims = json.dumps({"store": site, "cid": "501", "exp": 1_800_000_600}).encode()
    return base64.urlsafe_b64encode(claims).rstrip(b"=").decode() + ".c2lnbmF0dXJl"


def _bearer(site: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {_unsigned(site)}", "Origin": ORIGIN}


def test_broken_origins_are_refused_on_both_paths(app, client, ctx, clock, passed_on):  # noqa: F811
    _store_row, keys = _store("door.example.com")
    good = {"Authorization": f"Bearer {_token(keys.secret)}"}
    cases = {f"origin {origin}": ("GET", BALANCE, {**good, "Origin": origin}, 403, True) for origin in BROKEN_ORIGINS}
    cases |= {
        f"preflight {origin}": ("OPTIONS", f"{BALANCE}?store={keys.public_key}", {"Origin": origin}, 403, False)
        for origin in BROKEN_ORIGINS
    }
    _check(app, client, passed_on, cases)


def test_token_claims_naming_no_site_are_refused_on_both_paths(app, client, ctx, clock, passed_on):  # noqa: F811
    _store("door.example.com")
    cases = {f"store claim {site}": ("GET", BALANCE, _bearer(site), 401, True) for site in BROKEN_SITES}
    _check(app, client, passed_on, cases)
