"""Strict converters for platform JSON: ids, money, timestamps.

Every converter raises MalformedPayload instead of guessing, so a bad payload
is parked as failed in the inbox (and visible) rather than half-applied.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, TypeAlias

from .events import ShippingAddress
from .exceptions import MalformedPayload

#: A decoded JSON object, as webhook payloads and API answers arrive: values are checked where they are read.
JSONObject: TypeAlias = dict[str, Any]

_MAX_ID = 2**63 - 1
#: Money columns are NUMERIC(18, 4) (app/platform/types.Money): an amount at or past this can never be stored.
MAX_AMOUNT = Decimal(10) ** 14
#: Dates outside these years are no real order's or customer's, and year 1 or 9999 overflow date arithmetic
#: (a return window added, a UTC offset removed) later, where they could only be retried in vain.
_MIN_YEAR, _MAX_YEAR = 1970, 2999
_ISO_CHARS = re.compile(r"[0-9][0-9T:.,+\-Z ]{0,40}")
#: Line-item quantities are stored as 32-bit integers.
_MAX_QUANTITY = 2**31 - 1


def platform_id(value: Any, field: str = "id") -> str:
    """A platform id as a string: an int or a digit string in 1..2**63-1, the range both platforms use (and
    BIGINT's). A float id has already lost precision; "x" or "NaN" would fail every later int() of it (a
    balance write-back), so they make the payload malformed here, where it is parked with its raw bytes."""
    if isinstance(value, bool) or value is None:
        raise MalformedPayload(f"{field}: missing or not an id")
    if isinstance(value, int):
        if not 0 < value <= _MAX_ID:
            raise MalformedPayload(f"{field}: out of the 64-bit range")
        return str(value)
    if isinstance(value, str):
        cleaned = value.strip(" ")
        # [1-9][0-9]{0,18} without the regex (a third of the cost; nine ids an order in a Shopify history
        # import): isdigit() takes "١٢" and "²", so only once isascii()
        if not (cleaned.isascii() and cleaned.isdigit() and cleaned[0] != "0" and len(cleaned) <= 19):
            raise MalformedPayload(f"{field}: {value[:32]!r} is not a numeric id")
        if len(cleaned) == 19 and int(cleaned) > _MAX_ID:
            raise MalformedPayload(f"{field}: out of the 64-bit range")
        return cleaned
    raise MalformedPayload(f"{field}: {type(value).__name__} is not an id")


def is_platform_id(value: Any) -> bool:
    try:
        platform_id(value)
    except MalformedPayload:
        return False
    return True


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
    if abs(amount) >= MAX_AMOUNT:
        raise MalformedPayload(f"{field}: {str(value)[:32]!r} is past the largest amount stored")
    return amount


def quantity(value: Any, field: str = "quantity") -> int:
    """A count: an int (or digit string) from 0 to 2**31-1."""
    if value is None or value == "":
        return 0
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise MalformedPayload(f"{field}: {type(value).__name__} is not a quantity")
    if isinstance(value, str):
        if not re.fullmatch(r"[0-9]{1,10}", value.strip(" ")):
            raise MalformedPayload(f"{field}: {value[:32]!r} is not a quantity")
        count = int(value)
    else:
        count = value
    if not 0 <= count <= _MAX_QUANTITY:
        raise MalformedPayload(f"{field}: {count} is out of range")
    return count


def timestamp(value: Any, field: str = "timestamp", *, assume_utc: bool = False) -> datetime | None:
    """ISO 8601 to an aware UTC datetime.

    Shopify sends offsets ("2021-12-31T19:00:00-05:00"); WooCommerce's *_gmt
    fields have none and are UTC, so callers pass assume_utc for those.
    """
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise MalformedPayload(f"{field}: not a timestamp")
    if not _ISO_CHARS.fullmatch(value):  # fromisoformat ignores some trailing characters (a NUL)
        raise MalformedPayload(f"{field}: {value[:40]!r} is not ISO 8601")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise MalformedPayload(f"{field}: {value!r} is not ISO 8601") from exc
    if not _MIN_YEAR <= parsed.year <= _MAX_YEAR:
        raise MalformedPayload(f"{field}: {value!r} is outside the years {_MIN_YEAR}-{_MAX_YEAR}")
    if parsed.tzinfo is None:
        if not assume_utc:
            raise MalformedPayload(f"{field}: {value!r} has no UTC offset")
        # combine, not replace(tzinfo=UTC): the same datetime (fold too), and 4x cheaper, which counts four times
        # an order in a WooCommerce history import (bench/history_parse.py)
        parsed = datetime.combine(parsed.date(), parsed.time(), UTC)
    return parsed.astimezone(UTC)


def required_timestamp(value: Any, field: str, *, assume_utc: bool = False) -> datetime:
    parsed = timestamp(value, field, assume_utc=assume_utc)
    if parsed is None:
        raise MalformedPayload(f"{field}: missing")
    return parsed


def text(value: Any, limit: int = 255) -> str | None:
    """A display string, trimmed and bounded; empty means None. A NUL can never be stored (PostgreSQL refuses
    it in text), so it makes the payload malformed rather than failing every attempt to write it."""
    if value is None:
        return None
    cleaned = str(value).strip()
    if "\x00" in cleaned:
        raise MalformedPayload("text: contains a NUL character")
    return cleaned[:limit] or None


def lenient_text(value: Any, limit: int = 255) -> str | None:
    """text() for facts from other plugins or optional fields: a non-string or a NUL is None, not an error."""
    if not isinstance(value, str | int) or isinstance(value, bool):
        return None
    try:
        return text(value, limit)
    except MalformedPayload:
        return None


#: Shopify allows up to 250 tags of up to 255 characters on a customer (Admin API, Customer.tags).
MAX_TAGS, MAX_TAG_LENGTH = 250, 255


def tags(value: Any) -> tuple[str, ...] | None:
    """Shopify's comma-separated `tags` string as case-folded tags (first spelling wins, empties dropped); a list
    (GraphQL's [String!]) is taken as it is; None when the payload does not carry the field. Tags compare
    case-insensitively, so a merchant's "VIP" and "vip" are one tag (docs/segments.md)."""
    if value is None:
        return None
    items = value.split(",") if isinstance(value, str) else value if isinstance(value, list) else None
    if items is None:
        raise MalformedPayload("tags: neither a string nor a list")
    found: dict[str, None] = {}
    for item in items:
        tag = lenient_text(item, MAX_TAG_LENGTH)
        if tag and "," not in tag:
            found.setdefault(tag.lower(), None)
    return tuple(found)[:MAX_TAGS]


#: A tracking number as carriers print them: letters and digits, and the spaces, dots, slashes and dashes some add.
_TRACKING_NUMBER = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ._/-]{0,63}")


def tracking_number(value: Any) -> str | None:
    number = lenient_text(value, 65)  # one past the pattern's bound: too long is refused, not cut
    return number if number is not None and _TRACKING_NUMBER.fullmatch(number) else None


def obj(payload: Any, field: str = "payload") -> JSONObject:
    if not isinstance(payload, dict):
        raise MalformedPayload(f"{field}: expected a JSON object")
    return payload


def optional_obj(value: Any, field: str) -> JSONObject:
    """A nested object that may be absent or null ({}), but not a string or a list (`billing: "x"`)."""
    if value is None or value == []:  # PHP encodes an empty array as []
        return {}
    return obj(value, field)


def objects(value: Any, field: str) -> list[JSONObject]:
    """A list of objects that may be absent or null ([]); anything else in it makes the payload malformed."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise MalformedPayload(f"{field}: expected a list")
    return [obj(item, field) for item in value]


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


def content_digest(payload: JSONObject) -> str:
    """`sha256:` + the hash of the payload's canonical JSON (keys sorted, compact, UTF-8): the same for every
    serialisation of the same content. Integers past 64 bits (which orjson refuses) fall back to json."""
    import hashlib

    import orjson

    try:
        canonical = orjson.dumps(payload, option=orjson.OPT_SORT_KEYS)
    except TypeError:
        canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode(
            "utf-8", "surrogatepass"
        )
    return "sha256:" + hashlib.sha256(canonical).hexdigest()


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
