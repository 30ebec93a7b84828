"""The bench's million-order stand-ins: records made when asked for (tests/standins/generated.py) must serve the
same pages and bulk file as the same records built up front, and the bench's end check (tests/inbox/history.py's
`expected`, worked out from the order numbers) must agree with the builders themselves."""

from __future__ import annotations

from decimal import Decimal
from functools import partial

import pytest
from werkzeug.test import Client

from tests.inbox.history import PAST, expected, gql_order, woo_customer, woo_order
from tests.standins.generated import Generated
from tests.standins.shopify_bulk import _write, project, selection
from tests.standins.woocommerce import WooStandin

ORDERS, CUSTOMERS = 237, 31


@pytest.mark.parametrize("orders", [0, 1, 4, 49, 50, 51, ORDERS])
def test_expected_agrees_with_the_builders(orders):
    built = [woo_order(n, CUSTOMERS) for n in range(orders)]
    refunds = [r for o in built for r in o["refunds"]]
    assert expected(orders, CUSTOMERS) == {
        "customers": CUSTOMERS,
        "orders": orders,
        "refunds": len(refunds),
        "total_price": sum((Decimal(o["total"]) for o in built), Decimal(0)),
        "refunded_amount": -sum((Decimal(r["total"]) for r in refunds), Decimal(0)),
    }
    shopify = [gql_order(n, CUSTOMERS) for n in range(orders)]
    assert (
        sum((Decimal(o["totalPriceSet"]["shopMoney"]["amount"]) for o in shopify), Decimal(0))
        == (expected(orders, CUSTOMERS)["total_price"])
    )


def test_generated_is_the_built_list():
    made = Generated(ORDERS, partial(woo_order, customers=CUSTOMERS, when=PAST))
    built = [woo_order(n, CUSTOMERS) for n in range(ORDERS)]
    assert (len(made), list(made), made[5], made[-1], made[10:20], made[230:300]) == (
        len(built), built, built[5], built[-1], built[10:20], built[230:300]
    )  # fmt: skip
    assert list(made.reversed()) == built[::-1] and made.reversed()[3:5] == built[::-1][3:5]
    with pytest.raises(IndexError):
        made[ORDERS]


def _pages(site: WooStandin, path: str, **query: str) -> list[tuple[str, str, bytes]]:
    client, out, page = Client(site._wsgi), [], 1
    while True:
        answer = client.get(
            f"/wp-json/wc/v3/{path}",
            query_string={"consumer_key": "ck", "consumer_secret": "cs", "per_page": "100", "page": str(page), **query},
        )
        assert answer.status_code == 200
        out.append((answer.headers["X-WP-Total"], answer.headers["X-WP-TotalPages"], answer.data))
        if page >= int(answer.headers["X-WP-TotalPages"]):
            return out
        page += 1


def test_woocommerce_pages_made_when_asked_are_the_built_ones():
    sites = [WooStandin(), WooStandin()]
    for site in sites:
        site.keys["ck"] = {"secret": "cs", "permissions": "read", "key_id": 1}
    sites[0].customers = [woo_customer(n) for n in range(CUSTOMERS * 5)]
    sites[0].orders = [woo_order(n, CUSTOMERS) for n in range(ORDERS)]
    sites[1].customers = Generated(CUSTOMERS * 5, woo_customer)
    sites[1].orders = Generated(ORDERS, partial(woo_order, customers=CUSTOMERS))
    for path, query in (
        ("orders", {"orderby": "id", "order": "asc"}),  # the history import's query
        ("orders", {}),  # WooCommerce's default: newest first
        ("customers", {"role": "all", "orderby": "id", "order": "asc"}),
        ("customers", {"order": "desc"}),  # the customer role only
    ):
        built, made = (_pages(site, path, **query) for site in sites)
        assert made == built
        assert len(built) == -(-int(built[0][0]) // 100) > 1


def test_bulk_file_written_from_generated_records_is_the_built_ones(tmp_path):
    from graphql import parse

    from connectors.shopify_history import ORDERS_QUERY  # the import's own query

    compiled = selection(parse(ORDERS_QUERY))
    assert compiled is not None
    built = {"orders": [gql_order(n, CUSTOMERS) for n in range(ORDERS)], "customers": []}
    made = {"orders": Generated(ORDERS, partial(gql_order, customers=CUSTOMERS)), "customers": []}
    path, lines = _write(str(tmp_path), project(made, compiled))
    want = [line + b"\n" for line in project(built, compiled)]
    assert (path.read_bytes(), lines) == (b"".join(want), len(want))
    assert lines > ORDERS  # the orders' nested connections on lines of their own


def test_woocommerce_pages_keep_only_the_fields_asked_and_refuse_more_than_100():
    site = WooStandin()
    site.keys["ck"] = {"secret": "cs", "permissions": "read", "key_id": 1}
    site.orders = Generated(ORDERS, partial(woo_order, customers=CUSTOMERS))
    client, auth = Client(site._wsgi), {"consumer_key": "ck", "consumer_secret": "cs", "order": "asc"}
    whole = client.get("/wp-json/wc/v3/orders", query_string={**auth, "per_page": "3"}).json
    assert "_links" in whole[0] and "payment_method" in whole[0]
    for asked in ({"_fields": "total,id,billing.email,nothing"}, {"_fields[]": ["id", "total", "billing.email"]}):
        answer = client.get("/wp-json/wc/v3/orders", query_string={**auth, "per_page": "3", **asked})
        # the item's own key order; a nested field keeps its parent with that key alone; an unknown one is left out
        assert answer.json == [
            {"id": o["id"], "total": o["total"], "billing": {"email": o["billing"]["email"]}} for o in whole
        ]
        assert answer.headers["X-WP-Total"] == str(ORDERS)
    for per_page in ("101", "0"):
        refused = client.get("/wp-json/wc/v3/orders", query_string={**auth, "per_page": per_page})
        assert (refused.status_code, refused.json["code"]) == (400, "rest_invalid_param")
