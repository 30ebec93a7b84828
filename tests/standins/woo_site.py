"""The stand-in WooCommerce site's details, answered as WordPress and WooCommerce answer them.

- `GET /wp-json/` (WP_REST_Server::get_index, public, no key needed): name (the blogname option, stored
  HTML-escaped: esc_html on save), description, url, home, gmt_offset, timezone_string ("" when the merchant picked
  a fixed offset such as UTC+2), namespaces, routes. `_fields` limits the answer (rest_filter_response_fields).
- `GET /wp-json/wc/v3/settings/<group>` (WC_REST_Setting_Options_Controller, a key with the manage_woocommerce
  capability): a list of setting objects {id, label, description, type, default, tip, value, group_id, ...}.
  `general` holds woocommerce_currency, `email` holds woocommerce_email_from_address (default: the admin e-mail).
"""

from __future__ import annotations

import html
import json
from typing import Any

from werkzeug.wrappers import Request, Response


def site_index(site: Any, request: Request) -> Response:
    index: dict[str, Any] = {
        "name": html.escape(site.site_name, quote=True).replace("&#x27;", "&#039;"),
        "description": "Just another WordPress site",
        "url": site.url,
        "home": site.url,
        "gmt_offset": site.gmt_offset,
        "timezone_string": site.timezone_string,
        "namespaces": ["oembed/1.0", "wc/v3", "wp/v2"],
        "authentication": [],
        "routes": {"/": {"namespace": "", "methods": ["GET"]}},
    }
    fields = [f for f in request.args.get("_fields", "").split(",") if f]
    if fields:
        index = {k: v for k, v in index.items() if k in fields}
    return Response(json.dumps(index), mimetype="application/json")


def _setting(group: str, setting_id: str, label: str, kind: str, value: str, default: str) -> dict[str, Any]:
    return {
        "id": setting_id, "label": label, "description": "", "type": kind, "default": default, "tip": "",
        "value": value, "group_id": group,
        "_links": {"self": [{"href": f"/wp-json/wc/v3/settings/{group}/{setting_id}"}]},
    }  # fmt: skip


def settings_group(site: Any, group: str) -> Response:
    if group == "general":
        items = [
            _setting(group, "woocommerce_store_address", "Address line 1", "text", "1 Main Street", ""),
            _setting(group, "woocommerce_default_country", "Country / State", "select", "DE:DE-BE", "US:CA"),
            _setting(group, "woocommerce_currency", "Currency", "select", site.currency, "USD"),
            _setting(group, "woocommerce_price_num_decimals", "Number of decimals", "number", "2", "2"),
        ]
    else:
        items = [
            _setting(group, "woocommerce_email_from_name", '"From" name', "text", site.site_name, site.site_name),
            _setting(group, "woocommerce_email_from_address", '"From" address', "email", site.email_from, ""),
        ]
    return Response(json.dumps(items), mimetype="application/json")
