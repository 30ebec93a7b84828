"""The Customers and Store settings pages in a real browser (Debian's chromium, Playwright), on both platforms:
search a customer, open the timeline, adjust points by clicking, save a setting (and see a refused one next to
its field). Shopify: inside the stand-in admin with the stand-in App Bridge (every call carries a session token);
WooCommerce: the magic link's cookie session. Each page is checked by axe-core (no serious or critical violation)
and screenshotted at 1280 and 390 px under tests/artifacts/screenshots/dashboard/ (paths printed).
The browser fixtures are conftest.py's.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from app.admin.models import AuditEntry
from app.extensions import db
from app.loyalty.models import PointsLedger
from app.stores.models import Store
from tests.dashboard import customer_story
from tests.dashboard.browser import ShopifyAdmin, serious_violations
from tests.dashboard.conftest import FREEZE_LCP, PERF, login_link
from tests.helpers import SHOP, add_store

pytestmark = pytest.mark.slow

SHOTS = Path(__file__).resolve().parents[1] / "artifacts" / "screenshots" / "dashboard"


def _check(target, page, axe: Path, name: str) -> None:
    """axe-core on the document in `target` (a page or the app's frame), then a full-page screenshot of `page`."""
    bad = serious_violations(target, axe)
    SHOTS.mkdir(parents=True, exist_ok=True)
    shot = SHOTS / f"{name}.png"
    target.evaluate(FREEZE_LCP)
    page.screenshot(path=str(shot), full_page=True)
    perf = target.evaluate("() => window.__perf || {}")
    figures = f"LCP {perf.get('lcp', 0):.0f} ms, CLS {perf.get('cls', 0):.4f}, INP {perf.get('inp', 0):.0f} ms"
    print(f"\n{name}: screenshot {shot}, {figures}")
    assert bad == [], bad


def _walk(frame, page, axe: Path, prefix: str, ada_id: int) -> None:
    """What a merchant does, by keyboard and clicks, in `frame` (the app's document)."""
    search = frame.get_by_label("E-mail or name")
    search.fill("lovelace")
    search.press("Enter")
    # The page before the search lists Ada too: wait for the answer to the search itself.
    frame.get_by_role("heading", name="Customers matching “lovelace”").wait_for(timeout=30000)
    assert frame.locator("[data-customer]").count() == 1
    _check(frame, page, axe, f"{prefix}-customers")
    frame.get_by_role("link", name="Ada Lovelace").click()
    frame.locator('[data-panel="loyalty"]').wait_for(timeout=30000)
    kinds = frame.locator("ol.ppe-timeline li").evaluate_all("(items) => items.map((li) => li.dataset.kind)")
    assert kinds == ["message", "referral", "review", "points", "order"]
    assert frame.locator('[data-figure="loyalty.spendable"]').inner_text() == "120"
    # A refused adjustment first (no reason): the message sits next to the field, nothing is written.
    frame.get_by_label("Points to add (negative to remove)").fill("25")
    frame.get_by_role("button", name="Adjust points").click()
    frame.locator("#ppe-reason-error").wait_for(timeout=30000)
    frame.get_by_label("Reason (required)").fill("Goodwill for a late parcel")
    frame.get_by_role("button", name="Adjust points").click()
    frame.get_by_role("status").filter(has_text="Saved.").wait_for(timeout=30000)
    assert frame.locator('[data-figure="loyalty.spendable"]').inner_text() == "145"
    assert "Goodwill for a late parcel" in frame.locator("ol.ppe-timeline").inner_text()
    _check(frame, page, axe, f"{prefix}-customer")


def _settings(frame, page, axe: Path, prefix: str) -> None:
    frame.get_by_label("Reply-to address").wait_for(timeout=30000)
    frame.get_by_label("Reply-to address").fill("not an address")
    frame.locator('[data-settings="email"]').get_by_role("button").click()
    frame.locator("#ppe-email-reply_to-error").wait_for(timeout=30000)
    frame.get_by_label("Reply-to address").fill("help@shop.example")
    frame.locator('[data-settings="email"]').get_by_role("button").click()
    frame.get_by_role("status").filter(has_text="Saved.").wait_for(timeout=30000)
    assert frame.get_by_label("Reply-to address").input_value() == "help@shop.example"
    # A section that is only checkboxes and a number (delivery updates, the daily cap): by keyboard.
    updates = frame.get_by_label("Send delivery updates")
    updates.focus()
    page.keyboard.press("Space")
    frame.locator('[data-settings="delivery_updates"]').get_by_role("button").press("Enter")
    frame.get_by_role("status").filter(has_text="Saved.").wait_for(timeout=30000)
    assert frame.get_by_label("Send delivery updates").is_checked()
    _check(frame, page, axe, f"{prefix}-settings")


def _stored(store_id: int, ada_id: int) -> None:
    db.session.expire_all()
    rows = db.session.scalars(select(PointsLedger).where(PointsLedger.kind == "adjust")).all()
    assert [(r.points, r.customer_id) for r in rows] == [(25, ada_id)]
    settings = db.session.get(Store, store_id).settings
    assert settings["email"]["reply_to"] == "help@shop.example"
    assert settings["delivery_updates"]["enabled"] is True and settings["delivery_updates"]["delivered"] is True
    actions = sorted(
        e.action
        for e in db.session.scalars(
            select(AuditEntry).where(AuditEntry.store_id == store_id, AuditEntry.action != "dashboard_link.issue")
        )
    )
    assert actions == ["points.adjust", "settings.update", "settings.update"]


@pytest.mark.parametrize("width", [1280, 390])
def test_woocommerce_merchant_finds_a_customer_adjusts_points_and_saves_a_setting(
    dash, ctx, live, browser, axe_script, width
):
    store = add_store("woocommerce", name="Woo Shop", currency="EUR")
    ada = customer_story.build(store)
    context = browser.new_context(viewport={"width": width, "height": 900})
    context.add_init_script(PERF)
    page = context.new_page()
    page.goto(live + login_link(dash, store))
    page.get_by_role("link", name="Customers").click()
    page.wait_for_url(f"{live}/app/customers")
    _walk(page.main_frame, page, axe_script, f"woocommerce-{width}", ada.id)
    page.get_by_role("link", name="Store settings").click()
    _settings(page.main_frame, page, axe_script, f"woocommerce-{width}")
    _stored(store.id, ada.id)
    context.close()


@pytest.mark.parametrize("width", [1280, 390])
def test_shopify_merchant_does_the_same_inside_the_admin(dash, ctx, live, browser, axe_script, width):
    store = add_store("shopify", name="Test Shop", currency="EUR")
    ada = customer_story.build(store)
    carried = f"shop={SHOP}&host=YWRtaW4&embedded=1"
    admin = ShopifyAdmin(browser, f"{live}/app/customers?{carried}", width)
    admin.context.add_init_script(PERF)
    page = admin.context.new_page()
    calls: list[dict] = []
    page.on(
        "request",
        lambda r: (
            calls.append({"url": r.url, "method": r.method, "auth": r.headers.get("authorization")})
            if r.url.startswith(live) and r.resource_type == "fetch"
            else None
        ),
    )
    page.goto("https://admin.shopify.com/store/test-shop/apps/ppe")
    page.frame_locator("iframe").first.get_by_label("E-mail or name").wait_for(timeout=30000)
    frame = next(f for f in page.frames if f.url.startswith(live))
    _walk(frame, page, axe_script, f"shopify-{width}", ada.id)
    frame.goto(f"{live}/app/settings?{carried}")
    _settings(frame, page, axe_script, f"shopify-{width}")
    _stored(store.id, ada.id)
    posts = [c for c in calls if c["method"] == "POST"]
    assert len(posts) == 5 and all(c["auth"] and c["auth"].startswith("Bearer ey") for c in posts)
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "points.adjust")).one()
    assert (entry.actor_kind, entry.actor_id) == ("shopify_user", "42")
    admin.context.close()
