"""Reviews written back to the stores, over real HTTP against the stand-in Shopify and WooCommerce servers."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.extensions import db
from app.records.models import Customer
from app.reviews.models import Review, ReviewPublication
from app.reviews.publishing_tasks import publish_store_reviews, schedule_review_publishing
from app.reviews.service import moderate
from app.stores.models import Store
from app.stores.uninstall import on_uninstalled
from tests.helpers import SHOP, add_store, add_woo_store_at, shopify_standin, woo_standin
from tests.messaging.test_messaging import run_jobs


@pytest.fixture
def shopify(app, monkeypatch):
    with shopify_standin(app, monkeypatch, slow_seconds=2.5) as server:
        yield server


@pytest.fixture
def woo(app, monkeypatch):
    with woo_standin(app, monkeypatch, timeout=1.0) as site:
        yield site


def review(store: Store, product: str, rating: int, mail_clock, *, n: int, body: str | None = "Solid.") -> Review:
    customer = Customer(store_id=store.id, email=f"buyer{n}@example.com", email_key=f"buyer{n}@example.com")
    customer.first_name = f"Buyer{n}"
    db.session.add(customer)
    db.session.flush()
    row = Review(
        store_id=store.id, product_id=product, order_platform_id=str(7000 + n), customer_id=customer.id,
        rating=rating, body=body, verified=True, status="held", photos=[],
    )  # fmt: skip
    db.session.add(row)
    db.session.flush()
    moderate(row, "publish", mail_clock())  # the admin path: marks the product's write-back dirty
    db.session.commit()
    return row


def rows(store_id: int) -> dict[str, ReviewPublication]:
    db.session.expire_all()
    found = db.session.scalars(select(ReviewPublication).where(ReviewPublication.store_id == store_id))
    return {r.product_id: r for r in found}


def stars(server, product: str) -> tuple[dict | None, str | None]:
    fields = server.state(SHOP).writeback.metafields
    owner = f"gid://shopify/Product/{product}"
    rating = fields.get((owner, "reviews", "rating"))
    count = fields.get((owner, "reviews", "rating_count"))
    return (json.loads(rating["value"]) if rating else None), (count["value"] if count else None)


def test_shopify_rating_metafields_exact_after_second_review_and_rejection(app, ctx, mail_clock, shopify):
    store = add_store()
    first = review(store, "111", 5, mail_clock, n=1)
    assert publish_store_reviews(store.id)["done"] == 1
    assert stars(shopify, "111") == ({"value": "5.0", "scale_min": "1.0", "scale_max": "5.0"}, "1")
    review(store, "111", 4, mail_clock, n=2)
    review(store, "111", 4, mail_clock, n=3)
    publish_store_reviews(store.id)
    assert stars(shopify, "111")[0]["value"] == "4.3" and stars(shopify, "111")[1] == "3"  # 13/3 = 4.33
    moderate(db.session.get(Review, first.id), "reject", mail_clock())
    db.session.commit()
    publish_store_reviews(store.id)
    assert stars(shopify, "111") == ({"value": "4.0", "scale_min": "1.0", "scale_max": "5.0"}, "2")
    assert rows(store.id)["111"].status == "done"


def test_last_review_rejected_deletes_the_rating(app, ctx, mail_clock, shopify):
    store = add_store()
    only = review(store, "222", 3, mail_clock, n=1)
    publish_store_reviews(store.id)
    assert stars(shopify, "222")[1] == "1"
    moderate(db.session.get(Review, only.id), "reject", mail_clock())
    db.session.commit()
    publish_store_reviews(store.id)
    assert stars(shopify, "222") == (None, None) and shopify.calls["metafieldsDelete"] == 1


def test_shopify_batches_twelve_products_per_call(app, ctx, mail_clock, shopify):
    store = add_store()
    for n in range(30):
        review(store, str(500 + n), 1 + n % 5, mail_clock, n=n)
    result = publish_store_reviews(store.id)
    assert result["done"] == 30 and shopify.calls["metafieldsSet"] == 3  # 12 + 12 + 6 products
    for n in range(30):
        assert stars(shopify, str(500 + n)) == (
            {"value": f"{1 + n % 5}.0", "scale_min": "1.0", "scale_max": "5.0"},
            "1",
        )


def test_throttled_call_is_retried_after_its_wait(app, ctx, mail_clock, shopify):
    store = add_store()
    review(store, "111", 5, mail_clock, n=1)
    shopify.graphql_failures.append("throttle")  # 500 requested, 100 available, 100/s restored: wait 4 s
    assert publish_store_reviews(store.id)["retry"] == 1
    row = rows(store.id)["111"]
    assert (row.status, row.attempts, row.last_error) == ("pending", 1, "RateLimited")
    assert row.due_at == mail_clock.now + timedelta(seconds=4)
    assert stars(shopify, "111") == (None, None)
    mail_clock.advance(3)
    assert schedule_review_publishing(app)["due_stores"] == 0  # not before its wait
    mail_clock.advance(1)
    assert schedule_review_publishing(app)["kicked"] == 1
    run_jobs(app)
    assert stars(shopify, "111")[1] == "1" and rows(store.id)["111"].status == "done"


def test_permanent_error_is_visible_and_uninstall_stops(app, ctx, client, mail_clock, shopify):
    store = add_store()
    review(store, "111", 5, mail_clock, n=1)
    shopify.graphql_failures.append(403)
    publish_store_reviews(store.id)
    token = json.loads(app.test_cli_runner().invoke(args=["stores", "admin-token", str(store.id)]).output)["token"]
    listed = client.get("/admin/api/v1/reviews/publishing", headers={"Authorization": f"Bearer {token}"}).json
    assert [(p["product_id"], p["status"], p["last_error"]) for p in listed["publications"]] == [
        ("111", "failed", "AdminAPIError")
    ]
    review(store, "222", 4, mail_clock, n=2)
    on_uninstalled(db.session, db.session.get(Store, store.id))
    db.session.commit()
    assert rows(store.id)["222"].status == "stopped" and schedule_review_publishing(app)["due_stores"] == 0


def test_woo_review_arrives_once_despite_timeout_and_5xx(app, ctx, mail_clock, woo):
    store = add_woo_store_at(woo)
    first = review(store, "31", 5, mail_clock, n=1, body="Sturdy mug.")
    # WooCommerce derives `verified` from the reviewer's paid orders (the field is read-only)
    woo.orders.append(
        {"status": "completed", "billing": {"email": "buyer1@example.com"}, "line_items": [{"product_id": 31}]}
    )
    woo.fail("POST", "/products/reviews", 503, times=1)
    assert publish_store_reviews(store.id)["retry"] == 1
    assert woo.writeback.reviews == {} and rows(store.id)["31"].due_at == mail_clock.now + timedelta(seconds=30)
    mail_clock.advance(30)
    woo.slow("POST", "/products/reviews", 2.5)  # created, but the answer comes after our 1 s timeout
    assert publish_store_reviews(store.id)["retry"] == 1
    assert len(woo.writeback.reviews) == 1 and db.session.get(Review, first.id).platform_review_id is None
    mail_clock.advance(60)  # second backoff: 30 * 2
    assert publish_store_reviews(store.id)["done"] == 1  # the 409 duplicate hands back the one created
    assert publish_store_reviews(store.id) == {"done": 0, "retry": 0, "failed": 0}  # the job ran twice
    [stored] = woo.writeback.reviews.values()
    assert (stored["product_id"], stored["rating"], stored["verified"], stored["status"]) == (31, 5, True, "approved")
    assert (stored["reviewer"], stored["reviewer_email"]) == ("Buyer1", "buyer1@example.com")
    db.session.expire_all()
    assert db.session.get(Review, first.id).platform_review_id == str(stored["id"])
    posts = [r for r in woo.requests if r == ("POST", "/wp-json/wc/v3/products/reviews")]
    assert len(posts) == 3  # 503, the slow one, the 409; nothing from the second run


def test_woo_second_review_and_rejection_after_publishing(app, ctx, mail_clock, woo):
    store = add_woo_store_at(woo)
    first = review(store, "31", 4, mail_clock, n=1, body=None)  # stars only: the text is the stars
    publish_store_reviews(store.id)
    review(store, "31", 2, mail_clock, n=2)
    publish_store_reviews(store.id)
    assert sorted(r["rating"] for r in woo.writeback.reviews.values()) == [2, 4]
    assert {r["review"] for r in woo.writeback.reviews.values()} == {"<p>★★★★</p>", "<p>Solid.</p>"}
    moderate(db.session.get(Review, first.id), "reject", mail_clock())
    db.session.commit()
    publish_store_reviews(store.id)
    row = rows(store.id)["31"]
    created = db.session.get(Review, first.id).platform_review_id
    assert (row.status, row.last_error) == ("failed", f"rejected_on_platform:{created}")
    assert len(woo.writeback.reviews) == 2  # not deleted: the merchant removes it in WordPress


def test_average_is_an_exact_decimal(app, ctx, mail_clock):
    from app.reviews.publishing import product_rating

    store = add_store()
    for n, rating in enumerate((5, 4, 4)):
        review(store, "9", rating, mail_clock, n=n)
    average, count = product_rating(db.session, store.id, "9")
    assert count == 3 and isinstance(average, Decimal) and average * 3 == Decimal(13)
