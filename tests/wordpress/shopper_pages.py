"""What test_wordpress_browser.py checks on the shopper's pages of the test's WordPress: the reviews it seeds in
our app for the product page, the account page's title as WooCommerce gives it, and the referral link field
clear of the widget's launcher on a phone.
"""

from __future__ import annotations

from datetime import timedelta

from app.extensions import db
from app.platform.types import utcnow
from app.reviews.models import Review
from app.reviews.models.review import HELD, PUBLISHED
from app.stores.models import Store

# Product 93's reviews in our app (newest first): 5, 4 and 4 stars published (4.3 on average); a held one and
# another product's, which its page must not count.
REVIEWS = [
    ("93", 5, True, "Soft from the first wash."),
    ("93", 4, True, "Runs a little large; size down."),
    ("93", 4, True, "Good colour, kept its shape."),
    ("93", 1, False, "Awaiting moderation."),
    ("94", 2, True, "Another product's review."),
]


def seed_reviews(store: Store) -> None:
    now = utcnow()
    for n, (product, rating, published, body) in enumerate(REVIEWS):
        db.session.add(
            Review(store_id=store.id, product_id=product, order_platform_id=str(800 + n), rating=rating, body=body,
                   display_name=f"Buyer {n}", verified=True, status=PUBLISHED if published else HELD,
                   published_at=now - timedelta(hours=n) if published else None)
        )  # fmt: skip


def endpoint_title(page, title: str) -> None:
    """The account page titled as WooCommerce titles an endpoint (the doubles' wc_page_endpoint_title): <title>
    always; the page's heading only where the theme renders it inside the main loop, which block themes do from
    WordPress 6.4 (Debian's 6.1 renders Twenty Twenty-Three's post-title before the loop starts, so it stays "My
    account", as with WooCommerce itself: woocommerce/woocommerce#33774)."""
    assert page.title() == f"{title} – Test shop"
    version = page.locator('meta[name="generator"]').get_attribute("content").split()[-1]
    in_loop = tuple(int(part) for part in version.split(".")[:2]) >= (6, 4)
    assert page.locator("h1").all_inner_texts() == [title if in_loop else "My account"]


def clear_of_launcher(page) -> None:
    """At 390 px, the referral link field brought into view as Tab brings it (focus) is not under the launcher."""
    page.set_viewport_size({"width": 390, "height": 844})
    launcher = page.locator(".ppe-launcher")
    launcher.wait_for(timeout=15000)
    page.evaluate("window.scrollTo(0, 0)")
    field = page.locator(".ppe-share-url")
    field.focus()
    box, over = field.bounding_box(), launcher.bounding_box()
    assert box["y"] >= 0 and box["y"] + box["height"] <= 844, box  # in view
    apart = box["y"] + box["height"] <= over["y"] or over["y"] + over["height"] <= box["y"]
    assert apart or box["x"] + box["width"] <= over["x"], (box, over)
