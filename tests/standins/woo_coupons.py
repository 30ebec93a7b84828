"""How the stand-in WooCommerce store keeps a coupon: what the REST coupons controller of WooCommerce 7.8 stores of a
body and what it answers
(plugins/woocommerce/includes/rest-api/Controllers/Version2/class-wc-rest-coupons-v2-controller.php).

- Only writable schema properties that have a WC_Coupon setter are applied (prepare_object_for_database calls
  `set_{key}` when callable). `date_expires_gmt` is in the schema, writable, but WC_Coupon has no
  set_date_expires_gmt: it is accepted and silently dropped, as are read-only and unknown fields.
- Dates go through WC_Data::set_date_prop: `YYYY-MM-DDTHH:MM:SS` with `Z` or `+HH:MM` is that moment; without an
  offset it is read in the site's time zone; any other string is parsed, written out as UTC and then read again
  in the site's time zone. Stored as a Unix timestamp: one-second resolution.
- The answer (get_formatted_item_data): amounts with 2 decimals, `date_expires` in the site's time zone and
  `date_expires_gmt` in UTC (no offset, no fraction), 0 limits as null, codes and restricted e-mails lowercased,
  meta_data entries with their ids.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

SETTERS = (
    "code amount status discount_type description date_expires individual_use product_ids excluded_product_ids "
    "usage_limit usage_limit_per_user limit_usage_to_x_items free_shipping product_categories "
    "excluded_product_categories exclude_sale_items minimum_amount maximum_amount email_restrictions meta_data"
).split()
_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(Z|([-+])(\d{2}):(\d{2}))$")
_BOOLS = ("individual_use", "free_shipping", "exclude_sale_items")
_LIMITS = ("usage_limit", "usage_limit_per_user", "limit_usage_to_x_items")


class InvalidValue(ValueError):
    """What WooCommerce answers 400 for (a WC_Data_Exception)."""


def new_props(coupon_id: int, now: float) -> dict[str, Any]:
    """WC_Coupon's data with its defaults."""
    return {
        "id": coupon_id, "code": "", "amount": "0", "status": "publish", "date_created": int(now),
        "date_modified": int(now), "date_expires": None, "discount_type": "fixed_cart", "description": "",
        "usage_count": 0, "individual_use": False, "product_ids": [], "excluded_product_ids": [], "usage_limit": 0,
        "usage_limit_per_user": 0, "limit_usage_to_x_items": None, "free_shipping": False, "product_categories": [],
        "excluded_product_categories": [], "exclude_sale_items": False, "minimum_amount": "", "maximum_amount": "",
        "email_restrictions": [], "used_by": [], "meta_data": [],
    }  # fmt: skip


def apply(props: dict[str, Any], data: dict[str, Any], zone: str, new_id: Any, now: float) -> None:
    """Set what WooCommerce would set of a request body; everything else in it is ignored."""
    for key in SETTERS:
        value = data.get(key)
        if value is None:
            continue
        if key == "code":
            props["code"] = str(value).strip().lower()
        elif key == "date_expires":
            props["date_expires"] = date_prop(value, zone)
        elif key in _BOOLS:
            props[key] = value in (True, 1, "1", "yes", "true")
        elif key in _LIMITS:
            props[key] = int(value) if str(value).lstrip("-").isdigit() else 0
        elif key == "email_restrictions":
            props[key] = [str(e).strip().lower() for e in value if str(e).strip()]
        elif key == "meta_data":
            for meta in value:
                current = [m for m in props["meta_data"] if m["key"] == meta["key"]]
                if current:
                    current[0]["value"] = meta["value"]
                else:
                    props["meta_data"].append({"id": new_id(), "key": meta["key"], "value": meta["value"]})
        else:
            props[key] = value
    props["date_modified"] = int(now)


def date_prop(value: Any, zone: str) -> int | None:
    if value in ("", 0, "0", "0000-00-00 00:00:00"):
        return None
    if isinstance(value, int | float):
        return int(value)
    text = str(value)
    match = _ISO.match(text)
    if match:
        naive = datetime(*(int(match.group(n)) for n in range(1, 7)))  # type: ignore[misc]
        if match.group(7) == "Z":
            return int(naive.replace(tzinfo=UTC).timestamp())
        if match.group(8):
            sign = 1 if match.group(8) == "+" else -1
            offset = sign * (int(match.group(9)) * 3600 + int(match.group(10)) * 60)
            return int(naive.replace(tzinfo=UTC).timestamp()) - offset
        return int(naive.replace(tzinfo=ZoneInfo(zone)).timestamp())
    try:  # strtotime, then the result taken as the site's local time (get_gmt_from_date)
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidValue(f"invalid date {text!r}") from None
    as_utc = parsed.astimezone(UTC) if parsed.tzinfo else parsed
    return int(as_utc.replace(tzinfo=None, microsecond=0).replace(tzinfo=ZoneInfo(zone)).timestamp())


def answer(props: dict[str, Any], zone: str) -> dict[str, Any]:
    """The coupon as the REST API answers it."""
    data = {k: v for k, v in props.items()}
    for key in ("amount", "minimum_amount", "maximum_amount"):
        data[key] = _decimal(props[key])
    for key in ("date_created", "date_modified", "date_expires"):
        stamp = props[key]
        data[key] = _local(stamp, zone) if stamp is not None else None
        data[f"{key}_gmt"] = _local(stamp, "UTC") if stamp is not None else None
    for key in _LIMITS:
        data[key] = props[key] or None
    data["meta_data"] = [dict(m) for m in props["meta_data"]]
    return data


def _decimal(value: Any) -> str:
    try:
        return str(Decimal(str(value or "0")).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))
    except InvalidOperation:
        return "0.00"


def _local(stamp: int, zone: str) -> str:
    return datetime.fromtimestamp(stamp, ZoneInfo(zone)).replace(tzinfo=None).isoformat()
