"""The form and the APIs: link errors, photo checks, moderation, the merchant's alert, reading and its cache."""

from __future__ import annotations

import io
import json
from urllib.parse import urlparse

from sqlalchemy import select

from app.extensions import db
from app.messaging.models import Message
from app.reviews.models import Review, ReviewRequest
from tests.helpers import add_store
from tests.reviews.conftest import carrier, fulfillment, order, post

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _links(app, client, mail_clock, order_id: int = 9001) -> list[str]:
    """Star link paths for the order's request, once its e-mail is queued (product 111 then 222)."""
    from app.reviews.tasks import schedule_review_requests
    from tests.messaging.test_messaging import run_jobs

    post(app, client, "orders/create", order(order_id))
    post(app, client, "fulfillments/create", fulfillment(order_id, order_id, mail_clock.now))
    post(app, client, "fulfillment_events/create", carrier(order_id, order_id, mail_clock.now))
    mail_clock.advance(7 * 86400)
    schedule_review_requests(app)
    run_jobs(app)
    db.session.expire_all()
    message = db.session.scalars(
        select(Message).where(Message.dedupe_key.like("review_request:%")).order_by(Message.id.desc())
    ).first()
    return [urlparse(u).path for p in message.context["products"] for u in p["star_urls"]]


def _public_key(store) -> str:
    from app.security import secret_box
    from app.stores.storefront_keys import ensure_keys

    key = ensure_keys(db.session, secret_box(), db.session.merge(store)).public_key
    db.session.commit()
    return key


def test_bad_and_expired_links(app, client, ctx, mail_clock, monkeypatch):
    key = _public_key(add_store())
    links = _links(app, client, mail_clock)
    assert client.get(links[0][:-3] + "xyz").status_code == 400
    assert client.get("/r/garbage").status_code == 400
    monkeypatch.setitem(app.config, "REVIEW_LINK_TTL_DAYS", -1)  # every link is now past its age
    answer = client.get(links[0])
    assert answer.status_code == 410 and "expired" in answer.get_data(as_text=True)
    assert client.post(f"/api/v1/reviews?store={key}", json={"token": links[0].rsplit("/", 1)[1]}).status_code == 410


def test_photos_checked_by_content_and_size(app, client, ctx, mail_clock, monkeypatch):
    add_store()
    link = _links(app, client, mail_clock)[4]
    fake = {"rating": "5", "photos": (io.BytesIO(b"GIF89a not allowed"), "cat.png")}
    answer = client.post(link, data=fake, content_type="multipart/form-data")
    assert answer.status_code == 400 and "JPEG, PNG lub WebP" in answer.get_data(as_text=True)
    monkeypatch.setattr("app.reviews.form.MAX_PHOTO_BYTES", 1000)
    big = {"rating": "5", "photos": (io.BytesIO(PNG + b"\x00" * 2000), "big.png")}
    answer = client.post(link, data=big, content_type="multipart/form-data")
    assert answer.status_code in (400, 413) and "najwyżej 5 MB" in answer.get_data(as_text=True)
    assert db.session.scalar(select(Review.id)) is None
    good = {"rating": "5", "photos": (io.BytesIO(PNG), "ok.bin")}
    assert client.post(link, data=good, content_type="multipart/form-data").status_code == 201
    review = db.session.scalars(select(Review)).one()
    assert review.photos[0]["content_type"] == "image/png"
    assert client.get(f"/r/photos/{review.photos[0]['key']}").data == PNG


def test_profanity_held_and_low_rating_alerts_the_merchant(app, client, ctx, mail_clock):
    store = add_store()
    store.contact_email = "owner@shop.example"  # the store's e-mail from the platform: where alerts go by default
    db.session.commit()
    links = _links(app, client, mail_clock)
    assert client.post(links[4], data={"rating": "5", "body": "Kurwa, jaki dobry kubek"}).status_code == 201
    assert client.post(links[5], data={"rating": "1", "body": "Broken on arrival"}).status_code == 201
    assert client.post(links[5], data={"rating": "2"}).status_code == 409  # one review per product per order
    db.session.expire_all()
    reviews = {r.product_id: r for r in db.session.scalars(select(Review))}
    assert (reviews["111"].status, reviews["111"].moderation_reason) == ("held", "profanity")
    assert (reviews["222"].status, reviews["222"].moderation_reason) == ("held", "below_threshold")
    alerts = db.session.scalars(select(Message).where(Message.template == "merchant_low_rating_alert")).all()
    assert [(m.to_address, m.context["rating"], m.context["product_title"]) for m in alerts] == [
        ("owner@shop.example", 1, "Talerz")
    ]
    assert db.session.scalars(select(ReviewRequest.follow_up)).one() is True


def test_summary_and_list_with_cache_invalidation(app, client, ctx, mail_clock):
    store = add_store()
    token = json.loads(app.test_cli_runner().invoke(args=["stores", "admin-token", str(store.id)]).output)["token"]
    admin = {"Authorization": f"Bearer {token}"}
    key = client.get("/admin/api/v1/reviews/public-key", headers=admin).json["public_key"]
    first, second = _links(app, client, mail_clock, 9001), _links(app, client, mail_clock, 9002)
    assert client.post(first[4], data={"rating": "5", "body": "Great"}).status_code == 201
    assert key.startswith("ppk_")  # the admin alias gives the storefront's one public key
    summary = client.get(f"/api/v1/products/111/reviews/summary?store={key}").json
    assert summary == {
        "product_id": "111",
        "count": 1,
        "average": "5.00",
        "distribution": {**{str(n): 0 for n in range(1, 5)}, "5": 1},
    }
    # A 3-star review is held: not in the summary until the merchant publishes it.
    submitted = client.post(
        "/api/v1/reviews", json={"token": second[2].rsplit("/", 1)[1], "body": "ok"}, headers={"X-PPE-Store": key}
    )
    assert submitted.status_code == 201 and submitted.json["review"]["status"] == "held"
    assert client.get(f"/api/v1/products/111/reviews/summary?store={key}").json["count"] == 1
    held = client.get("/admin/api/v1/reviews?status=held", headers=admin).json["reviews"]
    assert [r["rating"] for r in held] == [3]
    assert client.post(f"/admin/api/v1/reviews/{held[0]['id']}/publish", headers=admin).status_code == 200
    summary = client.get(f"/api/v1/products/111/reviews/summary?store={key}").json  # the cached one is stale now
    assert (summary["count"], summary["average"], summary["distribution"]["3"]) == (2, "4.00", 1)
    lowest = client.get(f"/api/v1/products/111/reviews?sort=lowest&store={key}").json
    assert [r["rating"] for r in lowest["reviews"]] == [3, 5] and lowest["total"] == 2
    assert "customer_id" not in lowest["reviews"][0]
    assert client.get("/api/v1/products/111/reviews?store=ppk_1_forgedforgedforged").status_code == 401
    assert client.get("/api/v1/products/111/reviews").json["error"] == "store_key_required"
    assert client.get(f"/api/v1/products/111/reviews?sort=best&store={key}").status_code == 400
