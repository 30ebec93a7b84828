"""The Reviews, Referrals and Audit log pages in a real browser (Debian's chromium, Playwright), on both platforms.

- Shopify: the app inside the stand-in Shopify admin page (browser.ShopifyAdmin: the stand-in
  App Bridge hands out session tokens signed like Shopify's); pages reached by the links App Bridge's nav menu
  gets (`<ui-nav-menu>`), forms sent by our script with a session token.
- WooCommerce: the magic link, then the sidebar's links, plain documents and forms with the CSRF token.
On each: a held review approved and a flagged referral rejected by clicking (the rows change, an audit row names
the merchant), a reply sent by keyboard alone, axe-core on every page (no serious or critical violation), and
screenshots at 1280 and 390 px written to tests/artifacts/screenshots/dashboard/ (git ignores it; paths printed).
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from app.admin.models import AuditEntry
from app.extensions import db
from app.records.models import Customer
from app.referrals.models import Referral
from app.reviews.models import Review
from app.support.models import SupportMessage
from tests.dashboard.browser import ADMIN, ShopifyAdmin, serious_violations, sync_api
from tests.dashboard.conftest import CHROMIUM, FLAGS, FREEZE_LCP, PERF, login_link
from tests.helpers import SHOP, add_store

pytestmark = pytest.mark.slow
SHOTS = Path(__file__).resolve().parents[1] / "artifacts" / "screenshots" / "dashboard"
PAGES = (("Reviews", "reviews"), ("Referrals", "referrals"), ("Audit log", "audit"))


@pytest.fixture
def browser():
    """As conftest.py's, with the stand-in admin's frame kept in the page's process: headless Chromium
    leaves an out-of-process frame blank in a screenshot."""
    flags = [f for f in FLAGS if not f.startswith("--disable-features=")]
    flags += [
        "--disable-site-isolation-trials",
        "--disable-features=LocalNetworkAccessChecks,IsolateOrigins,site-per-process",
    ]
    with sync_api.sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=flags)
        yield instance
        instance.close()


def _seed(store) -> dict[str, int]:
    """Two held reviews (one a 1-star with its alert), a published one, a flagged and a pending referral."""
    reviews = [
        Review(store_id=store.id, product_id="111", product_title="Blue mug", order_platform_id="1", rating=1,
               status="held", moderation_reason="below_threshold", title="Broken", body="Arrived in pieces.",
               display_name="Ola K."),
        Review(store_id=store.id, product_id="222", product_title="Linen towel", order_platform_id="2", rating=4,
               status="held", moderation_reason="links", body="Nice, see www.example.com", display_name="Jan"),
        Review(store_id=store.id, product_id="111", product_title="Blue mug", order_platform_id="3", rating=5,
               status="published", body="Lovely mug.", display_name="Eva"),
    ]  # fmt: skip
    who = Customer(store_id=store.id, email="referrer@example.com", email_key="referrer@example.com")
    db.session.add_all([*reviews, who])
    db.session.flush()
    referrals = [
        Referral(store_id=store.id, referrer_customer_id=who.id, order_platform_id=str(n), via="discount_code",
                 status=status, reasons=reasons, currency="EUR", order_total=Decimal("59.90"))
        for n, status, reasons in ((10, "flagged", ["same_address", "same_device"]), (11, "pending", []))
    ]  # fmt: skip
    alert = SupportMessage(
        store_id=store.id, kind="low_rating", source_key=f"review:{reviews[0].id}", body="Arrived in pieces.",
        rating=1, product_title="Blue mug", order_name="#1001",
    )  # fmt: skip
    db.session.add_all([*referrals, alert])
    db.session.commit()
    return {"review": reviews[1].id, "low": reviews[0].id, "referral": referrals[0].id}


def _shot(page, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    print(f"\nscreenshot {path}")
    return path


def _check_page(page, frame, axe: Path, name: str) -> None:
    assert serious_violations(frame, axe) == [], name
    width = frame.evaluate("() => document.documentElement.scrollWidth")
    assert width <= frame.evaluate("() => window.innerWidth"), f"{name}: wider than the viewport ({width}px)"
    frame.evaluate(FREEZE_LCP)  # the page as loaded, before the full-page screenshot shows what was below the fold
    perf = frame.evaluate("() => window.__perf || {}")
    print(f"\n{name}: LCP {perf.get('lcp', 0):.0f} ms, CLS {perf.get('cls', 0):.4f}, INP {perf.get('inp', 0):.0f} ms")
    _shot(page, name)


def _rows(store_id: int, *actions: str) -> list[AuditEntry]:
    db.session.expire_all()
    stmt = select(AuditEntry).where(AuditEntry.store_id == store_id, AuditEntry.action.in_(actions))
    return list(db.session.scalars(stmt.order_by(AuditEntry.id)))


def _act(frame, seeded: dict[str, int]) -> None:
    """On the pages as they stand in `frame`: approve the 4-star review and reject the flagged referral by clicking."""
    frame.locator(f'[data-review="{seeded["review"]}"]').get_by_role("button", name="Approve").click()
    frame.get_by_role("status").filter(has_text="Review approved").wait_for(timeout=15000)
    assert frame.locator(f'[data-review="{seeded["review"]}"]').count() == 0  # gone from the pending tab


@pytest.mark.parametrize("width", [1280, 390])
def test_shopify_pages_inside_the_admin(dash, ctx, live, browser, axe_script, width):  # noqa: F811
    store = add_store("shopify", name="Test Shop", currency="EUR")
    seeded = _seed(store)
    app_url = f"{live}/app/reviews?shop={SHOP}&host=YWRtaW4&embedded=1"
    admin = ShopifyAdmin(browser, app_url, width)
    page = admin.context.new_page()
    page.goto(ADMIN)
    page.frame_locator("iframe").first.locator(f'[data-review="{seeded["review"]}"]').wait_for(timeout=20000)
    frame = next(f for f in page.frames if f.url.startswith(live))
    nav = dict(
        frame.evaluate("() => [...document.querySelectorAll('ui-nav-menu a')].map(a => [a.textContent, a.href])")
    )
    assert all(nav[label].startswith(f"{live}/app/{path}?shop={SHOP}") for label, path in PAGES)

    def show(label: str, ready: str) -> None:
        frame.goto(nav[label])  # what App Bridge's navigation does: the frame opens the link
        frame.locator(ready).first.wait_for(timeout=20000)
        height = frame.evaluate("() => document.documentElement.scrollHeight")
        page.evaluate(f"() => {{ document.querySelector('iframe').style.height = '{height + 20}px'; }}")

    show("Reviews", "[data-review]")
    _check_page(page, frame, axe_script, f"shopify-reviews-{width}")
    _act(frame, seeded)
    assert _refresh(Review, seeded["review"]).status == "published"
    show("Referrals", f'[data-referral="{seeded["referral"]}"]')
    _check_page(page, frame, axe_script, f"shopify-referrals-{width}")
    frame.locator(f'[data-referral="{seeded["referral"]}"]').get_by_role("button", name="Reject").click()
    frame.get_by_role("status").filter(has_text="Referral rejected").wait_for(timeout=15000)
    show("Audit log", "[data-entry]")
    assert frame.locator('[data-action="referral.reject"]').count() == 1
    _check_page(page, frame, axe_script, f"shopify-audit-{width}")
    rows = _rows(store.id, "review.publish", "referral.reject")
    assert [(r.action, r.actor_kind, r.actor_id) for r in rows] == [
        ("review.publish", "shopify_user", "42"),
        ("referral.reject", "shopify_user", "42"),
    ]
    assert _refresh(Referral, seeded["referral"]).status == "rejected"
    admin.context.close()


def _refresh(model, row_id: int):
    db.session.expire_all()
    return db.session.get(model, row_id)


@pytest.mark.parametrize("width", [1280, 390])
def test_woocommerce_pages_by_the_magic_link(dash, ctx, live, browser, axe_script, width):  # noqa: F811
    store = add_store("woocommerce", name="Woo Shop", currency="EUR")
    seeded = _seed(store)
    context = browser.new_context(viewport={"width": width, "height": 900})
    context.add_init_script(PERF)
    page = context.new_page()
    page.goto(live + login_link(dash, store))
    sidebar = page.get_by_role("navigation", name="Dashboard")
    sidebar.get_by_role("link", name="Reviews").click()
    page.wait_for_url("**/app/reviews")
    assert "Arrived in pieces." in page.locator('[data-section="alerts"]').inner_text()
    _check_page(page, page.main_frame, axe_script, f"woocommerce-reviews-{width}")
    _act(page.main_frame, seeded)
    assert _refresh(Review, seeded["review"]).status == "published"
    # A reply by keyboard alone: open the 1-star review's reply, type, send.
    low = page.locator(f'[data-review="{seeded["low"]}"]')
    low.locator("summary").focus()
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    page.keyboard.type("Sorry! A new one is on its way.")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.get_by_role("status").filter(has_text="Reply saved").wait_for(timeout=15000)
    assert _refresh(Review, seeded["low"]).merchant_reply == "Sorry! A new one is on its way."
    # Rating filter, by the form.
    page.select_option("#ppe-rating", "1")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url("**rating=1**")
    assert page.locator("[data-review]").count() == 1
    sidebar.get_by_role("link", name="Referrals").click()
    page.wait_for_url("**/app/referrals")
    assert "Same device as the referrer" in page.inner_text("main")
    _check_page(page, page.main_frame, axe_script, f"woocommerce-referrals-{width}")
    page.locator(f'[data-referral="{seeded["referral"]}"]').get_by_role("button", name="Reject").click()
    page.get_by_role("status").filter(has_text="Referral rejected").wait_for(timeout=15000)
    assert _refresh(Referral, seeded["referral"]).status == "rejected"
    sidebar.get_by_role("link", name="Audit log").click()
    page.wait_for_url("**/app/audit")
    assert page.locator('[data-action="review.reply"]').count() == 1
    _check_page(page, page.main_frame, axe_script, f"woocommerce-audit-{width}")
    perf = page.evaluate("() => window.__perf")
    print(f"\nwoocommerce audit page {width}px: LCP {perf['lcp']:.0f} ms, CLS {perf['cls']:.4f}")
    assert perf["lcp"] <= 2500 and perf["cls"] <= 0.1, perf
    rows = _rows(store.id, "review.publish", "review.reply", "referral.reject")
    assert [r.action for r in rows] == ["review.publish", "review.reply", "referral.reject"]
    assert {r.actor_kind for r in rows} == {"dashboard_link"} and len({r.actor_id for r in rows}) == 1
    context.close()
