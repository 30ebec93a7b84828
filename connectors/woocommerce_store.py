"""A WooCommerce site's details: its name and time zone from WordPress, its currency and e-mail from WooCommerce.

Where each comes from (what a key from wc-auth can read):
- `GET /wp-json/` (WP_REST_Server::get_index, public): `name` (the blogname option, HTML-escaped), `timezone_string`
  (an IANA name, or "" when the merchant picked a fixed offset) and `gmt_offset` (hours). `_fields` keeps the
  answer small (https://developer.wordpress.org/rest-api/using-the-rest-api/global-parameters/#_fields).
  The WordPress settings endpoint (/wp/v2/settings: title, timezone, email) would need a WordPress login: the
  consumer keys only authenticate the wc/ namespaces (WC_REST_Authentication).
- `GET /wp-json/wc/v3/settings/general` (https://woocommerce.github.io/woocommerce-rest-api-docs/#setting-options):
  `woocommerce_currency`; `GET /wp-json/wc/v3/settings/email`: `woocommerce_email_from_address`, the address
  WooCommerce's own e-mails come from (its default is the WordPress admin e-mail).
- /system_status has the currency too (settings.currency) but runs the whole status report on each call; its
  `environment.default_timezone` is PHP's zone, which WordPress always sets to UTC, not the store's.
Each part that fails (a security plugin hiding the index, a key without the settings capability) leaves its fields
None; 5xx, timeouts and 429 raise as everywhere else.
"""

from __future__ import annotations

from typing import Any

import requests

from .exceptions import StoreUnavailable
from .store_details import StoreDetails, clean_currency, clean_email, clean_name, clean_timezone, offset_zone
from .woocommerce_admin import AccessDenied, NotFound, WooAdminClient, _check, _json

INDEX_FIELDS = "name,timezone_string,gmt_offset"


class WooStoreReader(WooAdminClient):
    def store_details(self) -> StoreDetails:
        index = self._index()
        zone = clean_timezone(index.get("timezone_string")) or (
            offset_zone(index.get("gmt_offset")) if not index.get("timezone_string") else None
        )
        return StoreDetails(
            name=clean_name(index.get("name")),
            currency=clean_currency(self._setting("general", "woocommerce_currency")),
            timezone=zone,
            contact_email=clean_email(self._setting("email", "woocommerce_email_from_address")),
        )

    def _index(self) -> dict[str, Any]:
        url = self._api.url.rstrip("/") + "/wp-json/"
        try:
            response = requests.get(url, params={"_fields": INDEX_FIELDS}, timeout=self._api.timeout)
        except requests.RequestException as exc:
            raise StoreUnavailable(f"site.index: {type(exc).__name__}") from None
        try:
            _check(response, "site.index")
            body = response.json()
        except (AccessDenied, NotFound, ValueError):
            return {}
        return body if isinstance(body, dict) else {}

    def _setting(self, group: str, setting_id: str) -> Any:
        try:
            items = _json(self._call("get", f"settings/{group}", f"settings.{group}"), f"settings.{group}")
        except (AccessDenied, NotFound):
            return None
        for item in items if isinstance(items, list) else []:
            if isinstance(item, dict) and item.get("id") == setting_id:
                return item.get("value")
        return None
