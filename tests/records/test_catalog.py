"""Product images in review e-mails: the products are fetched from the store (Shopify `nodes`, validated
against the real 2026-10 schema by the stand-in; WooCommerce GET /products?include=) before the e-mail is
built, cached, and a store that cannot answer never blocks the e-mail. Real SMTP server, real HTTP."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.extensions import db
from app.messaging.models import Message
from app.records.catalog import stale_product_ids
from app.records.models import Product
from connectors.catalog import ProductInfo, woo_product_info
from tests.helpers import (
    SHOP,
    add_store,
    add_woo_store_at,
    dumps,
    fixture_json,
    process_all,
    shopify_standin,
    woo_headers,
    woo_standin,
)
from tests.messaging.conftest import parts
from tests.reviews.conftest import carrier, days, fulfillment, order, post, send_due

KUBEK_IMG = "https://cdn.shopify.com/s/files/1/0001/kubek.jpg"
KUBEK_URL = "https://sklep.example/products/kubek"


@pytest.fixture(autouse=True)
def fetch_products(app, monkeypatch):
    monkeypatch.setitem(app.config, "CATALOG_FETCH", True)  # off by default in tests (no stand-in store)


@pytest.fixture
def shopify(app, monkeypatch):
    with shopify_standin(app, monkeypatch) as server:
        yield server


@pytest.fixture
def woo(app, monkeypatch):
    with woo_standin(app, monkeypatch, timeout=2.0) as site:
        yield site


def delivered_order(app, client, mail_clock, order_id: int, *, wait: float = 7) -> None:
    post(app, client, "orders/create", order(order_id, locale="en"))
    post(app, client, "fulfillments/create", fulfillment(order_id, order_id, mail_clock.now))
    post(app, client, "fulfillment_events/create", carrier(order_id, order_id, mail_clock.now))
    mail_clock.advance(wait * 86400)
    send_due(app)


def test_shopify_images_in_the_email_then_from_the_cache(app, client, ctx, smtp, mail_clock, shopify):
    add_store(name="Sklep")
    catalog = shopify.state(SHOP).catalog
    catalog.add_product("111", "Kubek (catalogue title)", KUBEK_IMG, KUBEK_URL)
    catalog.add_product("222", "Talerz", None, None)  # no featured media, not on the online store
    delivered_order(app, client, mail_clock, 9001, wait=1)
    delivered_order(app, client, mail_clock, 9002, wait=6)  # 9001 is due now, 9002 a day later
    assert len(smtp.messages) == 1
    text, html = parts(smtp.messages[0][2])
    assert f'src="{KUBEK_IMG}?width=600"' in html  # featuredMedia.preview.image.url(transform: {maxWidth: 600})
    assert f'href="{KUBEK_URL}"' in html and f"<{KUBEK_URL}>" in text
    assert html.count("<img") == 1 and "Talerz" in html
    assert "Kubek (catalogue title)" in text
    assert catalog.asked == [["gid://shopify/Product/111", "gid://shopify/Product/222"]]
    assert shopify.calls["nodes"] == 1 and all("nodes(ids: $ids)" in d for d in shopify.documents)
    rows = {p.product_id: p for p in db.session.scalars(select(Product))}
    assert rows["111"].image_url == f"{KUBEK_IMG}?width=600" and rows["222"].image_url is None

    mail_clock.advance(86400)  # 9002, the same products, a day later: from the cache
    send_due(app)
    assert len(smtp.messages) == 2
    assert f'src="{KUBEK_IMG}?width=600"' in parts(smtp.messages[1][2])[1]
    assert shopify.calls["nodes"] == 1 and len(catalog.asked) == 1


@pytest.mark.parametrize("failure", ["throttle", 503])
def test_shopify_catalogue_unavailable_sends_once_without_images(app, client, ctx, smtp, mail_clock, shopify, failure):
    add_store()
    shopify.state(SHOP).catalog.add_product("111", "Kubek", KUBEK_IMG, KUBEK_URL)
    shopify.graphql_failures.append(failure)
    delivered_order(app, client, mail_clock, 9001)
    send_due(app)
    assert len(smtp.messages) == 1
    text, html = parts(smtp.messages[0][2])
    assert "Kubek" in text and "Talerz" in text and "<img" not in html and KUBEK_URL not in text
    assert db.session.scalar(select(Product.id)) is None  # nothing cached: the next e-mail asks again
    assert [m.status for m in db.session.scalars(select(Message))] == ["sent"]


def completed_woo_order(app, client, mail_clock, *, line_image: str | None) -> None:
    payload = fixture_json("woocommerce", "order")
    gmt = mail_clock.now.replace(tzinfo=None).isoformat(timespec="seconds")
    payload.update(status="completed", date_completed_gmt=gmt, date_modified_gmt=gmt, date_paid_gmt=gmt)
    if line_image:
        payload["line_items"][1]["image"] = {"id": 5, "src": line_image}  # WooCommerce 8.x+ line items
    body = dumps(payload)
    assert (
        client.post("/webhooks/woocommerce", data=body, headers=woo_headers("order.updated", body)).status_code == 200
    )
    process_all(app)
    mail_clock.advance(7 * 86400)  # delay_days after completion: WooCommerce's completion counts as delivery
    send_due(app)


def test_woo_images_from_the_store_and_from_the_line_item(app, client, ctx, smtp, mail_clock, woo):
    add_woo_store_at(woo)
    woo.add_product(
        93, "Woo Single #1", "https://woo.example.com/uploads/single.jpg", "https://woo.example.com/p/single/"
    )
    woo.add_product(22, "Ship Your Idea", "https://woo.example.com/uploads/idea.jpg", "https://woo.example.com/p/idea/")
    completed_woo_order(app, client, mail_clock, line_image="https://woo.example.com/uploads/idea-black-m.jpg")
    assert len(smtp.messages) == 1
    _, html = parts(smtp.messages[0][2])
    assert 'src="https://woo.example.com/uploads/single.jpg"' in html
    assert 'src="https://woo.example.com/uploads/idea-black-m.jpg"' in html  # the variant bought wins
    assert "uploads/idea.jpg" not in html and 'href="https://woo.example.com/p/idea/"' in html
    assert woo.product_queries == [["93", "22"]]

    mail_clock.advance(5 * 86400)  # the reminder shows the same products, from the cache
    send_due(app)
    assert (
        len(smtp.messages) == 2 and 'src="https://woo.example.com/uploads/single.jpg"' in parts(smtp.messages[1][2])[1]
    )
    assert len(woo.product_queries) == 1


@pytest.mark.parametrize("status", [429, 503, 401])
def test_woo_catalogue_unavailable_sends_once_without_images(app, client, ctx, smtp, mail_clock, woo, status):
    add_woo_store_at(woo)
    woo.add_product(93, "Woo Single #1", "https://woo.example.com/uploads/single.jpg", "https://woo.example.com/p/1/")
    woo.fail("GET", "/products", status, times=5, **({"Retry-After": "30"} if status == 429 else {}))
    completed_woo_order(app, client, mail_clock, line_image=None)
    send_due(app)
    assert len(smtp.messages) == 1
    text, html = parts(smtp.messages[0][2])
    assert "Woo Single #1" in text and "<img" not in html
    assert db.session.scalar(select(Product.id)) is None


def test_ttl_and_https_only(app, ctx, mail_clock):
    from app.records.catalog import store_products

    store = add_store()
    store_products(db.session, store.id, ["1", "2"], {"1": ProductInfo("1", "A", None, None)}, mail_clock.now)
    db.session.commit()
    assert db.session.scalars(select(Product.found).order_by(Product.product_id)).all() == [True, False]
    assert stale_product_ids(db.session, store.id, ["1", "2", "3"], mail_clock.now + days(6)) == ["3"]
    assert stale_product_ids(db.session, store.id, ["1", "2", "3"], mail_clock.now + days(7)) == ["1", "2", "3"]
    info = woo_product_info(
        {"id": 5, "name": "X", "permalink": "javascript:alert(1)", "images": [{"src": "http://a/b"}]}
    )
    assert (info.image_url, info.url) == (None, None)
