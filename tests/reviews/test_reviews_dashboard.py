"""The dashboard's Reviews page: the queue by status, rating and product, paged; approve, hide and reply as POSTs
that publish back like the admin API and write an audit row naming the merchant; the low-rating alerts; another
store's reviews neither shown nor touched; a cookie session's POST without its CSRF token refused."""

from __future__ import annotations

from sqlalchemy import select

from app.admin.models import AuditEntry
from app.extensions import db
from app.reviews.models import Review, ReviewPublication
from app.support.models import SupportMessage
from tests.dashboard.conftest import bearer, signed_in
from tests.helpers import SHOP, add_store


def _review(store, n: int, *, rating: int = 3, status: str = "held", product: str = "111", **kw) -> Review:
    row = Review(
        store_id=store.id,
        product_id=product,
        product_title=kw.pop("title", f"Mug {product}"),
        order_platform_id=str(n),
        rating=rating,
        status=status,
        body=kw.pop("body", f"review body {n}"),
        **kw,
    )
    db.session.add(row)
    db.session.commit()
    return row


def _two_stores():
    mine = add_store("woocommerce", domain="https://mine.example", name="Mine")
    other = add_store("woocommerce", domain="https://other.example", name="Other")
    return mine, other


def _audit(store) -> list[AuditEntry]:
    db.session.expire_all()
    return list(db.session.scalars(select(AuditEntry).where(AuditEntry.store_id == store.id).order_by(AuditEntry.id)))


def test_queue_shows_the_stores_pending_reviews_filtered_and_paged(dash, ctx):
    mine, other = _two_stores()
    for n in range(23):
        _review(mine, n, rating=1 + n % 5, product="111" if n % 2 else "222")
    _review(mine, 100, status="published", body="a published one")
    _review(other, 200, body="the other store's words")
    client, _ = signed_in(dash, mine, "/app/reviews")
    page = client.get("/app/reviews").text
    assert page.count('data-review="') == 20 and "Page 1 of 2" in page
    assert "the other store's words" not in page and "a published one" not in page
    assert 'aria-current="page">Pending <span class="ppe-count">23</span>' in page
    second = client.get("/app/reviews?page=2").text
    assert second.count('data-review="') == 3 and 'rel="prev"' in second
    published = client.get("/app/reviews?status=published").text
    assert "a published one" in published and published.count('data-review="') == 1
    five = client.get("/app/reviews?rating=5&product=111").text
    expected = [n for n in range(23) if 1 + n % 5 == 5 and n % 2]
    assert sorted(int(b) for b in _bodies(five)) == expected
    assert client.get("/app/reviews?page=99&rating=9").status_code == 200  # bad values: the defaults


def _bodies(html: str) -> list[str]:
    return [part.split("<", 1)[0] for part in html.split("review body ")[1:]]


def test_approve_publishes_back_and_is_audited_as_the_merchant(dash, ctx):
    mine, _ = _two_stores()
    review = _review(mine, 1, rating=2)
    client, csrf = signed_in(dash, mine, "/app/reviews")
    link_row = _audit(mine)[-1]
    assert link_row.action == "dashboard_link.issue" and link_row.actor_kind == "cli"
    answer = client.post(f"/app/reviews/{review.id}/publish?rating=2", data={"csrf_token": csrf})
    assert answer.status_code == 303
    assert answer.headers["Location"] == "/app/reviews?done=publish&rating=2"
    db.session.expire_all()
    assert db.session.get(Review, review.id).status == "published"
    publication = db.session.scalar(select(ReviewPublication).where(ReviewPublication.store_id == mine.id))
    assert publication.product_id == "111" and publication.status == "pending"  # the write-back is queued
    row = _audit(mine)[-1]
    assert (row.action, row.target, row.diff) == (
        "review.publish",
        f"review:{review.id}",
        {"status": ["held", "published"]},
    )
    # Who: the sign-in link's session, named by the fingerprint the link's issue row carries.
    assert row.actor_kind == "dashboard_link" and link_row.target == f"dashboard_link:{row.actor_id}"
    shown = client.get(answer.headers["Location"]).text
    assert 'role="status"' in shown and "Review approved" in shown


def test_hide_and_reply(dash, ctx):
    mine, _ = _two_stores()
    review = _review(mine, 1, status="published", rating=5)
    client, csrf = signed_in(dash, mine, "/app/reviews")
    assert client.post(f"/app/reviews/{review.id}/reject", data={"csrf_token": csrf}).status_code == 303
    db.session.expire_all()
    assert db.session.get(Review, review.id).status == "rejected"
    empty = client.post(f"/app/reviews/{review.id}/reply", data={"csrf_token": csrf, "reply": "   "})
    assert empty.headers["Location"].endswith("done=reply_invalid")
    assert "was not saved" in client.get(empty.headers["Location"]).text
    answer = client.post(f"/app/reviews/{review.id}/reply", data={"csrf_token": csrf, "reply": " Thank you! "})
    assert answer.status_code == 303 and answer.headers["Location"] == "/app/reviews?done=reply"
    db.session.expire_all()
    assert db.session.get(Review, review.id).merchant_reply == "Thank you!"
    assert [(r.action, r.diff) for r in _audit(mine)[-2:]] == [
        ("review.reject", {"status": ["published", "rejected"]}),
        ("review.reply", {"reply_chars": [None, 10]}),
    ]


def test_another_stores_review_is_not_found_and_untouched(dash, ctx):
    mine, other = _two_stores()
    theirs = _review(other, 1)
    client, csrf = signed_in(dash, mine, "/app/reviews")
    before = len(_audit(mine))
    for path in ("publish", "reject", "reply"):
        answer = client.post(f"/app/reviews/{theirs.id}/{path}", data={"csrf_token": csrf, "reply": "hi"})
        assert answer.status_code == 404
    db.session.expire_all()
    row = db.session.get(Review, theirs.id)
    assert row.status == "held" and row.merchant_reply is None
    assert len(_audit(mine)) == before and _audit(other) == []
    huge = 2**63  # past BIGINT: no row, and no database error
    assert client.post(f"/app/reviews/{huge}/publish", data={"csrf_token": csrf}).status_code == 404


def test_post_without_the_csrf_token_is_refused(dash, ctx):
    mine, _ = _two_stores()
    review = _review(mine, 1)
    client, csrf = signed_in(dash, mine, "/app/reviews")
    before = len(_audit(mine))
    assert client.post(f"/app/reviews/{review.id}/publish").status_code == 400
    assert client.post(f"/app/reviews/{review.id}/publish", data={"csrf_token": csrf[::-1]}).status_code == 400
    db.session.expire_all()
    assert db.session.get(Review, review.id).status == "held" and len(_audit(mine)) == before


def test_inside_the_shopify_admin_the_session_tokens_user_acts(dash, ctx):
    store = add_store("shopify", name="Shopify Shop")
    review = _review(store, 1)
    client = dash.test_client()
    part = client.get("/app/reviews", headers=bearer(SHOP))
    assert part.status_code == 200 and part.text.startswith('<div data-title="Reviews">')
    answer = client.post(f"/app/reviews/{review.id}/publish", headers=bearer(SHOP), follow_redirects=True)
    assert answer.status_code == 200 and "Review approved" in answer.text  # the fetch follows the 303
    row = _audit(store)[-1]
    assert (row.action, row.actor_kind, row.actor_id) == ("review.publish", "shopify_user", "42")


def test_low_rating_alerts_of_the_store_only(dash, ctx):
    mine, other = _two_stores()
    for store, words in ((mine, "arrived broken"), (other, "someone else's complaint")):
        db.session.add(
            SupportMessage(
                store_id=store.id, kind="low_rating", source_key="review:1", body=words, rating=1, product_title="Mug"
            )
        )
    db.session.add(SupportMessage(store_id=mine.id, kind="help", source_key="help:1", body="where is my parcel"))
    db.session.commit()
    client, _ = signed_in(dash, mine, "/app/reviews")
    page = client.get("/app/reviews").text
    assert "arrived broken" in page and "someone else" not in page and "where is my parcel" not in page


def test_the_page_speaks_polish(dash, ctx):
    store = add_store("shopify")
    _review(store, 1, rating=2, moderation_reason="below_threshold")
    part = dash.test_client().get("/app/reviews?locale=pl", headers=bearer(SHOP)).text
    assert part.startswith('<div data-title="Opinie">') and "Kolejka moderacji" in part and "Zatwierdź" in part
    assert "Ocena poniżej progu automatycznej publikacji" in part and "2 gwiazdki" in part
