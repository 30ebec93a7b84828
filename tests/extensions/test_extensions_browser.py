"""The Shopify UI extensions in real Chromium, against our live server: each built bundle runs in the harness page
(harness.html, on its own origin as Shopify's sandbox is), which gives it the `shopify` API its target documents
and a session token we sign as Shopify does. Screenshots at 1280 and 390 px go to
tests/artifacts/screenshots/extensions/ (gitignored); their paths are printed.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from decimal import Decimal
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.loyalty.api import update_settings
from app.loyalty.models import Redemption
from app.platform.types import utcnow
from app.records.models import Customer
from app.referrals.models import Referral, ReferralInvite
from app.referrals.service import get_or_create_code
from app.storefront.extension_token import mint_extension_token
from app.stores.models import Store
from app.stores.settings import update_store_settings
from app.surveys.models import SurveyRequest
from scripts.build_extensions import OUT, ROOT, build
from tests.conftest import SHOPIFY_SECRET
from tests.extensions.seed import ALICE, BOB, CLIENT_ID, seed
from tests.helpers import SHOP
from tests.messaging.test_messaging import run_jobs
from tests.standins.shopify import StandInServer, StandInShopify, admin_schema
from tests.storefront import conftest as shared
from tests.storefront.conftest import sync_api

browser, live = shared.browser, shared.live
pytestmark = pytest.mark.slow
SHOTS = ROOT / "tests/artifacts/screenshots/extensions"
WIDTHS = (1280, 390)


@pytest.fixture(scope="module")
def bundles() -> dict:
    """Every extension built once for this module; PPE_API_URL is the harness's global (the live server)."""
    return build("globalThis.PPE_HARNESS_API")


class _Files(SimpleHTTPRequestHandler):
    """The harness, the bundles (.cache/extensions-build) and the locale files (extensions/<handle>/locales)."""

    def translate_path(self, path: str) -> str:
        path = path.split("?")[0].split("#")[0]
        if path == "/harness.html":
            return str(Path(__file__).with_name("harness.html"))
        if path.startswith("/bundles/"):
            return str(OUT / path.removeprefix("/bundles/"))
        if path.startswith("/locales/"):
            return str(ROOT / "extensions" / path.removeprefix("/locales/"))
        return "/nonexistent"

    def log_message(self, *args):  # quiet
        pass


@pytest.fixture
def harness() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_Files, directory=str(ROOT)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture
def shopify(app, monkeypatch):
    admin_schema()
    with StandInServer(StandInShopify(api_key=CLIENT_ID, api_secret=SHOPIFY_SECRET)) as server:
        monkeypatch.setitem(app.config, "SHOPIFY_ADMIN_ORIGIN", server.origin())
        monkeypatch.setitem(app.config, "SHOPIFY_API_KEY", CLIENT_ID)
        yield server


@pytest.fixture
def seeded(app, ctx, shopify):
    return seed(shopify.issue_tokens(SHOP)["access_token"])


def _open(
    browser, harness: str, live: str, bundle: str, locale: str, *, lang="en", customer=ALICE, width=1280, **extra
):
    token = mint_extension_token(SHOP, CLIENT_ID, SHOPIFY_SECRET, now=int(time.time()), customer_id=customer)
    scenario = {
        "bundle": f"{harness}/bundles/{bundle}",
        "locale": f"{harness}/locales/{locale}",
        "lang": lang,
        "token": token,
        "api": live,
        "shop": SHOP,
        "customer": customer,
        **extra,
    }
    page = browser.new_page(viewport={"width": width, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.goto(f"{harness}/harness.html#{quote(json.dumps(scenario))}")
    page.wait_for_selector("body[data-ready='1']", timeout=15000)
    return page, errors


def _shots(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        path = SHOTS / f"{name}-{width}.png"
        page.screenshot(path=str(path), full_page=True)
        print(f"screenshot: {path}")


def test_thank_you_block_shows_the_points_the_order_earns(seeded, live, harness, browser, bundles):
    expect = sync_api.expect
    thank_you = ("ppe-thank-you/ThankYou.js", "ppe-thank-you/locales/en.default.json")
    # Alice's order is in our records: its points as the ledger holds them, and her referral link.
    page, errors = _open(
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
    _shots(page, "thank-you")
    assert errors == []
    # A guest's first order we have not heard of yet: the store's earn rule on the checkout total, in Polish.
    page, errors = _open(
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
    _shots(page, "thank-you-guest-pl")
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
    page, errors = _open(
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
    _shots(page, "thank-you-survey")
    page.get_by_role("button", name="9 out of 10").click()
    expect(page.get_by_text("Thank you for your answer!")).to_be_visible(timeout=10000)
    review = page.get_by_role("link", name="Write a review")
    expect(review).to_be_visible()
    assert "/r/order/" in review.get_attribute("href")
    _shots(page, "thank-you-survey-answered")
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
    page, errors = _open(browser, harness, live, *block, order=seeded.delivered)
    expect(page.get_by_text("120 points")).to_be_visible(timeout=10000)
    expect(page.locator("s-badge")).to_have_text("Spendable")
    reviews = page.get_by_role("link", name="Write a review")
    expect(reviews).to_have_count(2)
    reviews.first.click()
    [opened] = page.evaluate("window.__opened")
    assert "/r/order/" in opened  # the neutral order review page, no stars chosen
    _shots(page, "order-status")
    assert errors == []
    for order_id, badge, text in (
        (seeded.pending, "Pending", "45 points"),
        (seeded.cancelled, "Reversed", "30 points"),
    ):
        page, errors = _open(browser, harness, live, *block, order=order_id)
        expect(page.locator("s-badge")).to_have_text(badge, timeout=10000)
        expect(page.get_by_text(text)).to_be_visible()
        assert page.get_by_role("link", name="Write a review").count() == 0
        assert errors == []
    page, _ = _open(
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
    page, errors = _open(browser, harness, live, *block, order=seeded.bobs)
    page.wait_for_load_state("networkidle")
    assert page.locator("s-section").count() == 0 and page.locator("s-spinner").count() == 0
    assert [e for e in errors if "404" not in e] == []
    page, _ = _open(browser, harness, live, *block, order=seeded.bobs, customer=BOB)
    expect(page.locator("s-badge")).to_have_text("Pending", timeout=10000)


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
    page, errors = _open(
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
    _shots(page, "rewards-page")
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
    _shots(page, "rewards-page-redeemed")
    assert errors == []
