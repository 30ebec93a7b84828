"""Session tokens of Shopify's checkout and customer account UI extensions (`shopify.sessionToken.get()`).

Pure functions (no request, no database), like auth.py: the storefront guard (shopper.py) feeds them the
token, our client id and secret and the clock, then looks the store up by the shop the token names.

What Shopify documents for these tokens (checkout UI extensions, "Session Token API", and the customer account
API of the same name): a JWT signed HS256 with the app's client secret, lifetime five minutes, whose claims are
    dest  the shop, "store-name.myshopify.com"
    aud   the app's client id
    exp, nbf, iat  unix seconds
    jti   a unique id
    sub   optional: "gid://shopify/Customer/<id>" when a customer is logged in and the app may read customers
https://shopify.dev/docs/api/checkout-ui-extensions/latest/target-apis/platform-apis/session-token-api
https://shopify.dev/docs/api/customer-account-ui-extensions/latest/target-apis/platform-apis/session-token-api
Only the claims are trusted, never the rest of the request (Shopify's own advice there). The customer account
page says to "use the dest claim to confirm which shop the request is associated with"; the copies of these pages
we could search show no decoded example, so the spelling is not pinned: the bare shop domain is read, and so is
App Bridge's admin-token spelling https://<shop> (stores/shopify_auth.py), the host being a *.myshopify.com shop
either way (docs/shopify-extensions.md, "What Shopify documents").
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

import jwt

from app.storefront.auth import StorefrontAuthError

#: Leeway for the clocks of Shopify and this server (exp and nbf).
CLOCK_SKEW_SECONDS = 10
#: Shopify issues five-minute tokens; one that claims to live much longer was not issued by Shopify.
MAX_LIFETIME_SECONDS = 3600
_MAX_CHARS = 4096
_SHOP = re.compile(r"[a-z0-9][a-z0-9-]*\.myshopify\.com")
_CUSTOMER_GID = re.compile(r"gid://shopify/Customer/([0-9]{1,20})")
_REQUIRED = ("dest", "aud", "exp", "nbf")


@dataclass(frozen=True)
class ExtensionClaims:
    shop: str  # <shop>.myshopify.com, lower case
    customer_id: str | None  # the numeric id of sub's gid; None: no customer logged in (or no access to them)
    expires_at: int


def looks_like_jwt(token: str) -> bool:
    """Three dot-separated parts: a JWT. The WooCommerce customer token has two (auth.py), so they never mix."""
    return token.count(".") == 2


def verify_extension_token(token: str, *, client_id: str, secret: str, now: float) -> ExtensionClaims:
    """The shop and customer an extension's session token vouches for; StorefrontAuthError otherwise."""
    if not client_id or not secret:
        raise StorefrontAuthError("session_token.not_configured")
    if len(token) > _MAX_CHARS:
        raise StorefrontAuthError("session_token.malformed")
    try:
        # HS256 only (never "none" or an algorithm the token picks); times are checked below on our clock.
        claims = jwt.decode(
            token,
            secret,
            algorithms=["HS256"],
            audience=client_id,
            options={"require": list(_REQUIRED), "verify_exp": False, "verify_nbf": False, "verify_iat": False},
        )
    except jwt.InvalidAudienceError:
        raise StorefrontAuthError("session_token.wrong_audience") from None
    except jwt.InvalidSignatureError:
        raise StorefrontAuthError("session_token.bad_signature") from None
    except jwt.InvalidTokenError:
        raise StorefrontAuthError("session_token.malformed") from None
    if claims["aud"] != client_id:  # PyJWT also takes a list containing it; Shopify sends the one string
        raise StorefrontAuthError("session_token.wrong_audience")
    exp, nbf = claims["exp"], claims["nbf"]
    if type(exp) is not int or type(nbf) is not int:
        raise StorefrontAuthError("session_token.malformed")
    if exp <= now - CLOCK_SKEW_SECONDS:
        raise StorefrontAuthError("session_token.expired")
    if nbf > now + CLOCK_SKEW_SECONDS:
        raise StorefrontAuthError("session_token.not_yet_valid")
    if exp - nbf > MAX_LIFETIME_SECONDS:
        raise StorefrontAuthError("session_token.lifetime_too_long")
    dest = claims["dest"]
    shop = dest.removeprefix("https://").lower() if isinstance(dest, str) else ""
    if len(shop) > 255 or not _SHOP.fullmatch(shop):
        raise StorefrontAuthError("session_token.bad_shop")
    sub = claims.get("sub")
    customer = None
    if sub is not None:
        match = _CUSTOMER_GID.fullmatch(sub) if isinstance(sub, str) else None
        if match is None:
            raise StorefrontAuthError("session_token.bad_customer")
        customer = match.group(1)
    return ExtensionClaims(shop=shop, customer_id=customer, expires_at=exp)


def mint_extension_token(
    shop: str, client_id: str, secret: str, *, now: int, customer_id: str | None = None, ttl: int = 300
) -> str:
    """A token shaped as Shopify issues it (tests, the harness page and the documentation's reference)."""
    claims: dict[str, object] = {
        "dest": shop,
        "aud": client_id,
        "exp": now + ttl,
        "nbf": now,
        "iat": now,
        "jti": str(uuid.uuid4()),
    }
    if customer_id is not None:
        claims["sub"] = f"gid://shopify/Customer/{customer_id}"
    return jwt.encode(claims, secret, algorithm="HS256")
