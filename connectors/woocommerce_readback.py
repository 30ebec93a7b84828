"""What a WooCommerce store answers it stored, compared with what we sent, field by field.

WooCommerce accepts fields it then drops without a word: in the REST coupons controller a writable schema property
is applied only when WC_Coupon has a setter for it (`date_expires_gmt` has none: a coupon sent with it has no
expiry), plugins filter objects before they are saved (woocommerce_rest_pre_insert_*), and dates keep whole
seconds. So every write reads back the object in the answer (the REST API answers the stored object) and a
difference in a field we rely on is an error with the fields named (StoredDifferently), never a silent success.

Formats of the answer (https://woocommerce.github.io/woocommerce-rest-api-docs/#coupon-properties): amounts as
strings with two decimals, `date_expires_gmt` as `YYYY-MM-DDTHH:MM:SS` in UTC (null: no expiry), 0 limits as null,
codes and restricted e-mails lowercased.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

Mismatches = dict[str, tuple[object, object]]


def coupon_mismatches(sent: Mapping[str, Any], stored: Mapping[str, Any]) -> Mismatches:
    """The fields of a coupon body (woocommerce_writeback.coupon_body) the stored coupon does not hold."""
    found: Mismatches = {}

    def check(name: str, want: object, have: object) -> None:
        if want != have:
            found[name] = (want, have)

    check("code", str(sent["code"]).lower(), str(stored.get("code", "")).lower())
    check("discount_type", sent["discount_type"], stored.get("discount_type"))
    check("amount", _money(sent["amount"]), _money(stored.get("amount")))
    check("minimum_amount", _money(sent.get("minimum_amount")), _money(stored.get("minimum_amount")))
    for flag in ("individual_use", "free_shipping"):
        check(flag, bool(sent[flag]), bool(stored.get(flag)))
    for limit in ("usage_limit", "usage_limit_per_user"):
        check(limit, sent.get(limit) or None, stored.get(limit) or None)
    check(
        "email_restrictions",
        sorted(e.lower() for e in sent["email_restrictions"]),
        sorted(str(e).lower() for e in stored.get("email_restrictions") or []),
    )
    check(
        "date_expires_gmt", _moment(sent.get("date_expires")), _moment(stored.get("date_expires_gmt"), naive_utc=True)
    )
    wanted_meta = {m["key"]: str(m["value"]) for m in sent.get("meta_data") or []}
    have_meta = {m.get("key"): str(m.get("value")) for m in stored.get("meta_data") or [] if isinstance(m, dict)}
    for key, value in wanted_meta.items():
        check(f"meta_data.{key}", value, have_meta.get(key))
    return found


def meta_mismatches(sent: Mapping[str, str], stored: Mapping[str, Any]) -> Mismatches:
    """The meta_data keys of a customer update the customer in the answer does not hold with the value sent."""
    have = {m.get("key"): m.get("value") for m in stored.get("meta_data") or [] if isinstance(m, dict)}
    # A key the store does not hold reads as "" (get_meta's answer), which is how we send "no tier".
    return {
        key: (value, have.get(key))
        for key, value in sent.items()
        if ("" if have.get(key) is None else str(have.get(key))) != value
    }


def review_mismatches(sent: Mapping[str, Any], stored: Mapping[str, Any]) -> Mismatches:
    """Product, rating, reviewer e-mail and status of a created review. The text is not compared: WordPress
    filters it (wp_filter_post_kses, wpautop) on its way in and out. `verified` is read-only: WooCommerce derives
    it from the reviewer's orders."""
    found: Mismatches = {}
    pairs = {
        "product_id": (int(sent["product_id"]), _int(stored.get("product_id"))),
        "rating": (int(sent["rating"]), _int(stored.get("rating"))),
        "reviewer_email": (str(sent["reviewer_email"]).lower(), str(stored.get("reviewer_email", "")).lower()),
        "status": (sent.get("status", "approved"), stored.get("status")),
    }
    for name, (want, have) in pairs.items():
        if want != have:
            found[name] = (want, have)
    return found


def _money(value: Any) -> Decimal | None:
    if value in (None, ""):
        return Decimal("0")
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _moment(value: Any, *, naive_utc: bool = False) -> str | None:
    """A date as `YYYY-MM-DDTHH:MM:SS` UTC, to the second (the store's resolution); None for none or garbage."""
    if not value or not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value  # shown as stored, and unequal to anything we send
    if parsed.tzinfo is None:
        if not naive_utc:
            return None
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC).replace(tzinfo=None, microsecond=0).isoformat()
