"""The Shopify UI extensions' rewards page in real Chromium, against our live server, in the harness page
(tests/extensions/browser_harness.py): the balance, the tier's progress, what the shopper's own referral link brought,
and a redemption made once however often the button is pressed.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.loyalty.models import Redemption
from app.platform.types import utcnow
from app.records.models import Customer
from app.referrals.models import Referral, ReferralInvite
from app.referrals.service import get_or_create_code
from app.stores.models import Store
from tests.extensions import browser_harness as h
from tests.extensions.browser_harness import open_block, screenshots
from tests.messaging.test_messaging import run_jobs
from tests.storefront import conftest as shared
from tests.storefront.conftest import sync_api

browser, live = shared.browser, shared.live
bundles, harness, shopify, seeded = h.bundles, h.harness, h.shopify, h.seeded
pytestmark = pytest.mark.slow


def _alices_friends(seeded) -> None:
    """Alice's link brought two friends who took their code, one with her e-mail, whose order earned Alice 500
    points; Bob's link brought more, which Alice must never see."""
    store = db.session.get(Store, seeded.store_id)
    for who, invites in ((seeded.alice_id, 2), (seeded.bob_id, 5)):
        code = get_or_create_code(db.session, store, db.session.get(Customer, who))
        for i in range(invites):
            db.session.add(
                ReferralInvite(
                    store_id=store.id,
                    referral_code_id=code.id,
                    token=f"t{who}-{i}",
                    discount_code=f"F{who}X{i}",
                    friend_key=f"{i:064d}" if i == 0 or who == seeded.bob_id else None,
                    discount_status="created",
                )  # fmt: skip
            )
        db.session.add(
            Referral(
                store_id=store.id,
                referrer_customer_id=who,
                order_platform_id=f"9{who}",
                via="landing_token",
                status="rewarded",
                currency="EUR",
                order_total=Decimal("50"),
                rewarded_at=utcnow(),
                reward={"type": "points", "points": 500},
            )  # fmt: skip
        )
    db.session.commit()


def test_rewards_page_redeems_once(app, seeded, live, harness, browser, bundles):
    expect = sync_api.expect
    _alices_friends(seeded)
    page, errors = open_block(
        browser, harness, live, "ppe-rewards-page/RewardsPage.js", "ppe-rewards-page/locales/en.default.json"
    )
    expect(page.get_by_text("120 points to spend")).to_be_visible(timeout=10000)
    expect(page.get_by_text("45 points pending")).to_be_visible()
    bar = page.get_by_role("progressbar")
    assert bar.get_attribute("aria-valuemax") == "200"
    expect(page.get_by_text("more to reach Silver")).to_be_visible()
    expect(page.get_by_text("Refer a friend")).to_be_visible(timeout=10000)
    results = page.locator("s-section").filter(has_text="What your link brought")
    for text in ("2 friends invited", "1 joined", "1 ordered", "1 reward earned", "500 points"):
        expect(results.get_by_text(text, exact=True)).to_be_visible()  # Alice's own link, not Bob's 5 friends
    expect(page.locator("s-section").filter(has_text="Recent activity").get_by_text("+120")).to_be_visible()
    screenshots(page, "rewards-page")
    redeem = page.get_by_role("button", name="Redeem for 100 points").element_handle()
    redeem.click()
    redeem.dispatch_event("click")  # a second press while the first is under way does nothing
    code = page.get_by_role("status").filter(has_text="Your code is ready")
    for _ in range(120):  # the redemption job (as an rq worker runs it) creates the discount code on Shopify
        run_jobs(app)
        if code.count():
            break
        page.wait_for_timeout(250)
    expect(code).to_be_visible()
    expect(page.get_by_text("20 points to spend")).to_be_visible(timeout=10000)
    expect(page.get_by_role("button", name="Redeem for 100 points")).to_have_attribute("aria-disabled", "true")
    db.session.expire_all()
    count = db.session.scalar(select(func.count(Redemption.id)).where(Redemption.store_id == seeded.store_id))
    assert count == 1
    issued = db.session.scalar(select(Redemption).where(Redemption.store_id == seeded.store_id))
    assert issued.code and code.get_by_text(issued.code).count() == 1
    page.get_by_role("button", name="Copy code").click()
    assert issued.code in page.evaluate("window.__copied")
    screenshots(page, "rewards-page-redeemed")
    assert errors == []
