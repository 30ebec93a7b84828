"""The review form's page: the product as the e-mail showed it (the catalogue's title and picture, the line item's
own picture first) and the "already reviewed" state when the link is opened again (not a form that would only
answer 409 once the shopper has typed a review)."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.records.models import Order
from app.reviews.links import star_token
from app.reviews.models import Review, ReviewRequest
from tests.messaging.conftest import PRODUCT_IMAGE, seed_shopper_pages


def test_the_form_shows_the_product_picture_and_stars_as_a_radio_group(app, client, ctx):
    paths = seed_shopper_pages()
    html = client.get(paths["review"]).get_data(as_text=True)
    assert f'<img src="{PRODUCT_IMAGE}" alt=""' in html and "Stoneware mug, speckled glaze" in html
    radios = [line for line in html.splitlines() if 'type="radio"' in line]
    assert len(radios) == 5 and ["checked" in line for line in radios] == [False, False, False, True, False]
    assert html.count('<span class="vh">') == 5 and "4 stars" in html  # each star's name for screen readers
    order = db.session.scalars(select(Order)).one()
    order.line_items = [{**order.line_items[0], "image_url": "https://shop.example/variant-blue.png"}]
    db.session.commit()
    html = client.get(paths["review"]).get_data(as_text=True)
    assert '<img src="https://shop.example/variant-blue.png"' in html and PRODUCT_IMAGE not in html


def test_the_link_opened_again_says_it_is_already_reviewed(app, client, ctx):
    paths = seed_shopper_pages()
    assert client.post(paths["review"], data={"rating": "2", "title": "Chipped rim"}).status_code == 201
    assert db.session.scalars(select(Review.status)).one() == "held"  # 2 stars: below the publishing threshold
    again = client.get(paths["review"])
    html = again.get_data(as_text=True)
    assert again.status_code == 200 and "You have already reviewed this product. Thank you!" in html
    assert "<form" not in html and 'aria-label="2 stars"' in html and "Chipped rim" in html
    assert "It will appear once the shop has looked at it." in html
    assert "Stoneware mug, speckled glaze" in html


def test_the_link_opened_again_shows_what_was_written_as_text(app, client, ctx):
    paths = seed_shopper_pages()
    written = "Rim <script>alert(1)</script> chipped & glued"
    assert client.post(paths["review"], data={"rating": "5", "body": written}).status_code == 201
    html = client.get(paths["review"]).get_data(as_text=True)
    assert "Rim &lt;script&gt;alert(1)&lt;/script&gt; chipped &amp; glued" in html and "<script>alert" not in html
    assert "It will appear once the shop has looked at it." not in html  # 5 stars: published at once
    review = db.session.scalars(select(Review)).one()
    review.status = "rejected"  # the store hid it
    db.session.commit()
    html = client.get(paths["review"]).get_data(as_text=True)
    assert "The shop has chosen not to show it on its pages." in html and "rejected" not in html


def test_a_closed_request_says_so_before_the_shopper_types(app, client, ctx):
    paths = seed_shopper_pages()
    request_row = db.session.scalars(select(ReviewRequest)).one()
    request_row.status = "cancelled"  # the order was cancelled after the e-mail went out
    db.session.commit()
    answer = client.get(paths["review"])
    assert answer.status_code == 410 and "This review request is no longer open." in answer.text
    assert "<form" not in answer.text and client.post(paths["review"], data={"rating": "5"}).status_code == 410
    request_row.status = "sent"
    db.session.commit()
    assert client.get(paths["review"]).status_code == 200  # open again: the form
    token = star_token(request_row.store_id, request_row.id, "999", 5, "en")  # a product not in the order
    assert client.get(f"/r/{token}").status_code == 410
