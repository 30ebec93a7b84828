"""A store's own details as its platform reports them: name, currency, time zone, the store's e-mail.

Platform-neutral (`StoreDetails`), each field None when the platform did not say or said something unusable, so a
caller keeps what it had. Readers: woocommerce_store.py (the /wp-json index and the settings groups) and
ShopifyWriteback.store_details (the `shop` object).
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_CURRENCY = re.compile(r"^[A-Z]{3}$")
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class StoreDetails:
    name: str | None = None
    currency: str | None = None  # ISO 4217
    timezone: str | None = None  # an IANA zone name zoneinfo knows
    contact_email: str | None = None


def clean_name(value: Any) -> str | None:
    # WordPress keeps the site title HTML-escaped (esc_html when saved): "Tom &amp; Jerry&#039;s".
    text = " ".join(html.unescape(value).split()) if isinstance(value, str) else ""
    return text[:255] or None


def clean_currency(value: Any) -> str | None:
    text = value.strip().upper() if isinstance(value, str) else ""
    return text if _CURRENCY.match(text) else None


def clean_timezone(value: Any) -> str | None:
    if not isinstance(value, str) or not value.strip() or len(value) > 64:
        return None
    try:
        ZoneInfo(value.strip())
    except (ZoneInfoNotFoundError, ValueError):
        return None
    return value.strip()


def offset_zone(hours: Any) -> str | None:
    """A fixed UTC offset in hours as an IANA zone: 0 is UTC, +2 is Etc/GMT-2 (the Etc names' sign is inverted).
    Offsets that are not whole hours (UTC+5:30 picked as an offset) have no IANA name: None."""
    try:
        value = float(hours)
    except (TypeError, ValueError):
        return None
    if not value.is_integer() or not -14 <= value <= 12:
        return None
    return "UTC" if value == 0 else f"Etc/GMT{-int(value):+d}"


def clean_email(value: Any) -> str | None:
    text = value.strip() if isinstance(value, str) else ""
    # The WooCommerce "From" field allows several addresses; the first is the store's.
    text = text.split(",")[0].strip()
    return text if len(text) <= 320 and _EMAIL.match(text) else None
