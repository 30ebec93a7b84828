"""The Shopify UI extensions' checkout and order blocks in real Chromium, against our live server: each built bundle
runs in the harness page (tests/extensions/browser_harness.py; harness.html, on its own origin as Shopify's sandbox
is), which gives it the `shopify` API its target documents and a session token we sign as Shopify does. The rewards
page: test_rewards_page_browser.py. Screenshots go to tests/artifacts/screenshots/extensions/ (gitignored).
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.extensions import db
from app.loyalty.api import update_settings
from app.stores.models import Store
from app.stores.settings import update_store_settings
from app.surveys.models import SurveyRequest
from tests.extensions import browser_harness as h
from tests.extensions.browser_harness import open_block, screenshots
from tests.extensions.seed import BOB
from tests.storefront import conftest as shared
from tests.storefront.conftest import sync_api

browser, live = shared.browser, shared.live
bundles, harness, shopify, seeded = h.bundles, h.harness, h.shopify, h.seeded
pytestmark = pytest.mark.slow


def test_thank_you_block_shows_the_points_the_order_earns(seeded, live, harness, browser, bundles):
    expect = sync_api.expect
    thank_you = ("ppe-thank-you/ThankYou.js", "ppe-thank-you/locales/en.default.json")
    # Alice's order is in our records: its points as the ledger holds them, and her referral link.
    page, errors = open_block(
        browser, harness, live, *thank_you, order=seeded.pending, total={"amount": 45.5, "currencyCode": "EUR"}
    )
    expect(page.get_by_text("This order earns you 45 points")).to_be_visible(timeout=10000)
    expect(page.get_by_text("Share with a friend")).to_be_visible(timeout=10000)
    link = page.locator("s-clipboard-item").get_attribute("text")
    assert link and "/ref/" in link
    page.get_by_role("button", name="Copy link").click()
    expect(page.get_by_role("button", name="Link copied")).to_be_visible()
    assert page.evaluate("window.__copied") == [link]
    assert page.get_by_role("status").count() == 0  # not her first order: no welcome
    screenshots(page, "thank-you")
    assert errors == []
    # A guest's first order we have not heard of yet: the store's earn rule on the checkout total, in Polish.
    page, errors = open_block(
        browser,
        harness,
        live,
        "ppe-thank-you/ThankYou.js",
        "ppe-thank-you/locales/pl.json",
        lang="pl",
        customer=None,
        order="990001",
        firstOrder=True,
        total={"amount": 80.0, "currencyCode": "EUR"},
    )
    expect(page.get_by_text("To zamówienie daje Ci 80 punktów")).to_be_visible(timeout=10000)
    expect(page.get_by_text("Punkty będzie można wykorzystać 14 dni po dostawie.")).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("Witamy w programie nagród")
    assert page.get_by_text("Poleć znajomemu").count() == 0  # a guest has no referral link
    screenshots(page, "thank-you-guest-pl")
    assert errors == []


def test_thank_you_survey_answered_once_and_remembered(app, seeded, live, harness, browser, bundles):
    """The store's survey is on (NPS): Alice answers on the Thank-you page; the answer is stored once for the order
    (the same fork as the e-mail survey: a promoter is asked for a review); the extension's storage remembers it,
    so the reloaded page asks nothing and calls nothing. The store's own words for pending points show too."""
    expect = sync_api.expect
    store = db.session.get(Store, seeded.store_id)
    update_store_settings(db.session, store, {"surveys": {"enabled": True, "kind": "nps"}})
    update_settings(db.session, store, {"pending_text": {"en": "Points wait {days} days in case of a return."}})
    db.session.commit()
    page, errors = open_block(
        browser,
        harness,
        live,
        "ppe-thank-you/ThankYou.js",
        "ppe-thank-you/locales/en.default.json",
        order=seeded.pending,
        total={"amount": 45.5, "currencyCode": "EUR"},
    )
    calls: list[str] = []
    page.on("request", lambda r: calls.append(r.method) if "/survey" in r.url else None)
    expect(page.get_by_text("How likely are you to recommend us to a friend?")).to_be_visible(timeout=10000)
    expect(page.get_by_text("Points wait 14 days in case of a return.")).to_be_visible()
    expect(page.get_by_role("button", name=" out of 10")).to_have_count(11)
    expect(page.get_by_text("Not at all likely")).to_be_visible()
    screenshots(page, "thank-you-survey")
    page.get_by_role("button", name="9 out of 10").click()
    expect(page.get_by_text("Thank you for your answer!")).to_be_visible(timeout=10000)
    review = page.get_by_role("link", name="Write a review")
    expect(review).to_be_visible()
    assert "/r/order/" in review.get_attribute("href")
    screenshots(page, "thank-you-survey-answered")
    db.session.expire_all()
    [row] = db.session.scalars(select(SurveyRequest)).all()
    assert (row.order_platform_id, row.score, row.group, row.status) == (seeded.pending, 9, "promoter", "answered")
    assert errors == []
    calls.clear()
    page.reload()
    page.wait_for_selector("body[data-ready='1']", timeout=15000)
    expect(page.get_by_text("Thank you for your answer!")).to_be_visible(timeout=10000)
    assert page.get_by_role("button", name="0 out of 10").count() == 0
    assert calls == []  # remembered by the extension's storage: no call for the survey at all


def test_order_status_block_shows_the_state(seeded, live, harness, browser, bundles):
    expect = sync_api.expect
    block = ("ppe-order-status/OrderStatus.js", "ppe-order-status/locales/en.default.json")
    page, errors = open_block(browser, harness, live, *block, order=seeded.delivered)
    expect(page.get_by_text("120 points")).to_be_visible(timeout=10000)
    expect(page.locator("s-badge")).to_have_text("Spendable")
    reviews = page.get_by_role("link", name="Write a review")
    expect(reviews).to_have_count(2)
    reviews.first.click()
    [opened] = page.evaluate("window.__opened")
    assert "/r/order/" in opened  # the neutral order review page, no stars chosen
    screenshots(page, "order-status")
    assert errors == []
    for order_id, badge, text in (
        (seeded.pending, "Pending", "45 points"),
        (seeded.cancelled, "Reversed", "30 points"),
    ):
        page, errors = open_block(browser, harness, live, *block, order=order_id)
        expect(page.locator("s-badge")).to_have_text(badge, timeout=10000)
        expect(page.get_by_text(text)).to_be_visible()
        assert page.get_by_role("link", name="Write a review").count() == 0
        assert errors == []
    page, _ = open_block(
        browser,
        harness,
        live,
        "ppe-order-status/OrderStatus.js",
        "ppe-order-status/locales/pl.json",
        lang="pl",
        order=seeded.pending,
    )
    expect(page.locator("s-badge")).to_have_text("Oczekujące", timeout=10000)
    # Bob's order seen with Alice's token: the API answers 404 and the block shows nothing.
    page, errors = open_block(browser, harness, live, *block, order=seeded.bobs)
    page.wait_for_load_state("networkidle")
    assert page.locator("s-section").count() == 0 and page.locator("s-spinner").count() == 0
    assert [e for e in errors if "404" not in e] == []
    page, _ = open_block(browser, harness, live, *block, order=seeded.bobs, customer=BOB)
    expect(page.locator("s-badge")).to_have_text("Pending", timeout=10000)
