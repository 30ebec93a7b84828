"""Signed links in review mail: one-click stars (request, product, rating) and get-help (request); and the
order's review page (store, order), printed as a QR code on the parcel's card (app/inserts).

itsdangerous URLSafeTimedSerializer with SECRET_KEY and a salt per purpose, so a star link can never be
replayed as an unsubscribe or an admin token. They expire (REVIEW_LINK_TTL_DAYS, default 60): a bad
signature is refused with 400, an expired one with 410 (app/reviews/).
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired

from app.errors import Gone, InvalidInput
from app.security import timed_serializer

STAR_SALT = "review-star-link"
HELP_SALT = "review-help-link"
ORDER_SALT = "review-order-link"
DEFAULT_TTL_DAYS = 60
CARD_TTL_DAYS = 400  # a printed card sits in a drawer for a while; a year and a bit, then 410


class LinkInvalid(InvalidInput):
    """Tampered or malformed."""

    code = "link_invalid"


class LinkExpired(Gone):
    """Signed by us but older than the TTL."""

    code = "link_expired"


@dataclass(frozen=True)
class StarLink:
    store_id: int
    request_id: int
    product_id: str
    rating: int
    locale: str


@dataclass(frozen=True)
class HelpLink:
    store_id: int
    request_id: int
    locale: str


@dataclass(frozen=True)
class OrderLink:
    store_id: int
    order_platform_id: str
    locale: str


def _ttl() -> int:
    return int(current_app.config.get("REVIEW_LINK_TTL_DAYS", DEFAULT_TTL_DAYS)) * 86400


def star_token(store_id: int, request_id: int, product_id: str, rating: int, locale: str) -> str:
    return timed_serializer(STAR_SALT).dumps([store_id, request_id, product_id, rating, locale])


def help_token(store_id: int, request_id: int, locale: str) -> str:
    return timed_serializer(HELP_SALT).dumps([store_id, request_id, locale])


def order_token(store_id: int, order_platform_id: str, locale: str) -> str:
    return timed_serializer(ORDER_SALT).dumps([store_id, order_platform_id, locale])


def _load(salt: str, token: str, ttl: int | None = None) -> list:
    try:
        value = timed_serializer(salt).loads(token, max_age=ttl or _ttl())
    except SignatureExpired as exc:
        raise LinkExpired() from exc
    except BadSignature as exc:
        raise LinkInvalid() from exc
    if not isinstance(value, list):
        raise LinkInvalid()
    return value


def read_star_token(token: str) -> StarLink:
    value = _load(STAR_SALT, token)
    if len(value) != 5:
        raise LinkInvalid()
    store_id, request_id, product_id, rating, locale = value
    if not (isinstance(store_id, int) and isinstance(request_id, int) and isinstance(product_id, str)):
        raise LinkInvalid()
    if not isinstance(rating, int) or not 1 <= rating <= 5:
        raise LinkInvalid()
    return StarLink(store_id, request_id, product_id, rating, str(locale or "en"))


def read_help_token(token: str) -> HelpLink:
    value = _load(HELP_SALT, token)
    if len(value) != 3 or not isinstance(value[0], int) or not isinstance(value[1], int):
        raise LinkInvalid()
    return HelpLink(value[0], value[1], str(value[2] or "en"))


def read_order_token(token: str) -> OrderLink:
    value = _load(ORDER_SALT, token, CARD_TTL_DAYS * 86400)
    if len(value) != 3 or not isinstance(value[0], int) or not isinstance(value[1], str) or not value[1]:
        raise LinkInvalid()
    return OrderLink(value[0], value[1], str(value[2] or "en"))


def star_url(store_id: int, request_id: int, product_id: str, rating: int, locale: str) -> str:
    return f"{current_app.config['APP_URL']}/r/{star_token(store_id, request_id, product_id, rating, locale)}"


def help_url(store_id: int, request_id: int, locale: str) -> str:
    return f"{current_app.config['APP_URL']}/r/help/{help_token(store_id, request_id, locale)}"


def order_review_url(store_id: int, order_platform_id: str, locale: str) -> str:
    return f"{current_app.config['APP_URL']}/r/order/{order_token(store_id, order_platform_id, locale)}"
