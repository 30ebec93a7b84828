"""Strict converters for platform JSON: ids, money, timestamps.

Every converter raises MalformedPayload instead of guessing, so a bad payload
is parked as failed in the inbox (and visible) rather than half-applied.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, TypeAlias

from .events import ShippingAddress
from .exceptions import MalformedPayload

#: A decoded JSON object, as webhook payloads and API answers arrive: values are checked where they are read.
JSONObject: TypeAlias = dict[str, Any]

_MAX_ID = 2**63 - 1


def platform_id(value: Any, field: str = "id") -> str:
    """A platform id as a string. Ints and digit strings only: a float id has already lost precision."""
    if isinstance(value, bool) or value is None:
        raise MalformedPayload(f"{field}: missing or not an id")
    if isinstance(value, int):
        if not 0 < value <= _MAX_ID:
            raise MalformedPayload(f"{field}: out of the 64-bit range")
        return str(value)
    if isinstance(value, str) and value.strip():
        return value.strip()
    raise MalformedPayload(f"{field}: {type(value).__name__} is not an id")


def optional_id(value: Any, field: str = "id") -> str | None:
    """Like platform_id, but 0, '' and None mean "none" (WooCommerce's guest customer_id is 0)."""
    if value in (None, 0, "", "0"):
        return None
    return platform_id(value, field)


def money(value: Any, field: str = "amount") -> Decimal:
    """Platform money is a decimal string ("29.35"); ints are accepted, floats are not."""
    if value is None or value == "":
        return Decimal("0")
    if isinstance(value, bool) or isinstance(value, float):
        raise MalformedPayload(f"{field}: money must be a string, not {type(value).__name__}")
    try:
        amount = Decimal(str(value))
    except InvalidOperation as exc:
        raise MalformedPayload(f"{field}: {value!r} is not an amount") from exc
    if not amount.is_finite():
        raise MalformedPayload(f"{field}: {value!r} is not an amount")
    return amount


def timestamp(value: Any, field: str = "timestamp", *, assume_utc: bool = False) -> datetime | None:
    """ISO 8601 to an aware UTC datetime.

    Shopify sends offsets ("2021-12-31T19:00:00-05:00"); WooCommerce's *_gmt
    fields have none and are UTC, so callers pass assume_utc for those.
    """
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise MalformedPayload(f"{field}: not a timestamp")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise MalformedPayload(f"{field}: {value!r} is not ISO 8601") from exc
    if parsed.tzinfo is None:
        if not assume_utc:
            raise MalformedPayload(f"{field}: {value!r} has no UTC offset")
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def required_timestamp(value: Any, field: str, *, assume_utc: bool = False) -> datetime:
    parsed = timestamp(value, field, assume_utc=assume_utc)
    if parsed is None:
        raise MalformedPayload(f"{field}: missing")
    return parsed


def text(value: Any, limit: int = 255) -> str | None:
    """A display string, trimmed and bounded; empty means None."""
    if value is None:
        return None
    cleaned = str(value).strip()
    return cleaned[:limit] or None


def obj(payload: Any, field: str = "payload") -> JSONObject:
    if not isinstance(payload, dict):
        raise MalformedPayload(f"{field}: expected a JSON object")
    return payload


REFERRAL_TOKEN_KEY = "_ppe_ref"  # noqa: S105  (an attribute name, not a secret)


def shipping_address(data: Any, *, address1: str, address2: str, zip_key: str, country: str) -> ShippingAddress | None:
    """A ShippingAddress from a platform's address object (key names differ), None when empty."""
    if not isinstance(data, dict):
        return None
    address = ShippingAddress(
        address1=text(data.get(address1)),
        address2=text(data.get(address2)),
        city=text(data.get("city")),
        zip=text(data.get(zip_key), 32),
        country_code=text(data.get(country), 8),
        phone=text(data.get("phone"), 32),
    )
    return address if address.address1 or address.zip else None


def fingerprint(*parts: Any) -> str | None:
    """SHA-256 of the parts (so no card detail is kept), None unless every part is present."""
    import hashlib

    values = [str(part).strip().lower() for part in parts]
    if not all(values):
        return None
    return hashlib.sha256("|".join(values).encode()).hexdigest()


def name_value(items: Any, key: str, *, name: str = "name", value: str = "value") -> str | None:
    """The value of `key` in a list of {name, value} pairs (Shopify note_attributes, WooCommerce meta_data)."""
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict) and item.get(name) == key and isinstance(item.get(value), str | int):
            return text(str(item[value]), 512)
    return None
