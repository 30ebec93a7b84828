"""A WooCommerce store's past customers and orders, a page of 100 at a time, parsed by the webhooks' parsers.

Docs relied on (https://woocommerce.github.io/woocommerce-rest-api-docs/):
- #list-all-customers: `role=all` (the default lists the `customer` role only, leaving out shop managers and
  subscribers who bought), `orderby=id`, `order=asc`;
- #list-all-orders: the same body as the order webhooks (line items with their images, the `refunds` summary
  `[{id, reason, total}]`), `orderby=id`, `order=asc`;
- #pagination: `per_page` (at most 100) and `page`; the totals in X-WP-Total and X-WP-TotalPages.
- `_fields` (WordPress's global parameter, https://developer.wordpress.org/rest-api/using-the-rest-api/global-parameters/,
  WordPress 4.9.8+, honoured by WooCommerce's routes as by every REST route): only the fields listed come back
  (comma-separated; `_links` only when listed), and WordPress skips computing the others. We list the fields the
  webhooks' parsers read (connectors/woocommerce_snapshots.py, woocommerce_tracking.py, consent.py): a page is
  about half the bytes to send and to decode. A store older than 4.9.8 ignores it and sends every field, which
  parse the same.
Pages are read by id, oldest first, so an order created during the import lands on a later page rather than
shifting the ones already read. An order read twice (a page read again after a restart) is the same snapshot:
the records ignore it (DESIGN.md, "Why events are snapshots").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import requests

from .events import Event
from .exceptions import StoreUnavailable
from .woocommerce import WooCommerceConnector
from .woocommerce_admin import PER_PAGE, WooAdminClient, _json
from .woocommerce_tracking import TRACKING_FIELD

ENDPOINTS = {"customers": "customers", "orders": "orders"}
# What the parsers read of each (top-level fields: meta_data whole, its keys vary by plugin). A field added to a
# parser must be added here, or the import never sees it: tests/inbox/test_history_woocommerce.py compares an
# order imported with these fields with the same order sent whole as a webhook.
FIELDS = {
    "customers": ("id", "email", "first_name", "last_name", "billing", "meta_data", "date_created_gmt",
                  "date_modified_gmt"),
    "orders": ("id", "number", "status", "currency", "total", "customer_id", "billing", "shipping", "line_items",
               "coupon_lines", "refunds", "meta_data", "date_created_gmt", "date_modified_gmt", "date_paid_gmt",
               "date_completed_gmt", TRACKING_FIELD),
}  # fmt: skip
_PARAMS = {"customers": {"role": "all"}, "orders": {}}
_PARSER = WooCommerceConnector()


@dataclass(frozen=True)
class Page:
    items: list[dict[str, Any]]
    total: int | None  # X-WP-Total: items over every page
    total_pages: int | None


def read_page(client: WooAdminClient, kind: str, page: int, session: requests.Session | None = None) -> Page:
    """Page `page` (from 1) of the store's customers or orders, oldest id first; through `session` (kept-alive
    connections) when given."""
    what = f"{kind}.list"
    params = {
        **_PARAMS[kind],
        "orderby": "id",
        "order": "asc",
        "per_page": str(PER_PAGE),
        "page": str(page),
        "_fields": ",".join(FIELDS[kind]),
    }
    if session is None:
        response = client._call("get", ENDPOINTS[kind], what, params=params)
    else:
        response = client.get_kept_alive(session, ENDPOINTS[kind], what, params)
    items = _json(response, what)
    if not isinstance(items, list):
        raise StoreUnavailable(f"{what}: expected a JSON list")
    total, pages = response.headers.get("X-WP-Total", ""), response.headers.get("X-WP-TotalPages", "")
    return Page(
        items=[item for item in items if isinstance(item, dict)],
        total=int(total) if total.isdigit() else None,
        total_pages=int(pages) if pages.isdigit() else None,
    )


def events(kind: str, item: dict[str, Any]) -> list[Event]:
    """A listed customer or order as the customer.updated / order.updated webhook's events."""
    if kind == "customers":
        return _PARSER.parse_customer(item, "customer.updated")
    return _PARSER.parse_order(item, "order.updated")
