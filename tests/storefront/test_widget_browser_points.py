"""The widget's points panel in a real browser: balance, tiers, redemption against the WooCommerce stand-in,
keyboard reach and contrast. Screenshots go to tests/artifacts/ (gitignored).

The page, servers and browser are in tests/storefront/conftest.py; the reviews half in
tests/storefront/test_widget_browser.py.
"""

from __future__ import annotations

import pytest
import requests

from app.extensions import db
from app.loyalty.adjustments import customer_summary
from app.loyalty.api import balance as points_of
from app.platform.types import utcnow
from tests.messaging.test_messaging import run_jobs
from tests.storefront import conftest as shared
from tests.storefront.conftest import (
    ARTIFACTS,
    CONTRAST,
    REWARD,
    TIERS,
    _open,
    _seed,
    _tab_until,
    sync_api,
)

# The shared fixtures, bound by name in this module (where pytest looks for them); an import would read
# as unused to the linter.
browser, live, shop_page, site = shared.browser, shared.live, shared.shop_page, shared.site

pytestmark = pytest.mark.slow


def test_points_balance_and_redemption(app, ctx, live, shop_page, browser, site):
    expect = sync_api.expect
    ARTIFACTS.mkdir(exist_ok=True)
    seeded = _seed(app, live, shop_page["origin"], site=site, tiers=TIERS)
    store, customer = seeded["store"], seeded["customer"]
    spendable = points_of(db.session, store, customer, utcnow()).spendable
    assert spendable >= REWARD["points"]
    auth = {"Authorization": "Bearer " + seeded["token"]}
    referral = requests.get(f"{live}/api/v1/me/referral?store={seeded['key']}", headers=auth, timeout=10).json()
    page, errors = _open(browser, shop_page, live, seeded)
    page.locator(".ppe-review").first.wait_for(timeout=15000)

    # Keyboard only: the launcher is reached by Tab and opens the dialog on Enter.
    _tab_until(page, ".ppe-launcher")
    launcher = page.locator(".ppe-launcher")
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="Rewards")
    assert dialog.get_attribute("aria-modal") == "true" and launcher.get_attribute("aria-expanded") == "true"
    points = dialog.locator(".ppe-points strong")
    expect(points).to_have_text(f"{spendable:,}", timeout=10000)
    expect(dialog.locator(".ppe-rewards li").first).to_contain_text("€5.00 off 100 pts")
    # Tiers configured: Silver held, the bar and the distance to Gold as the merchant's view computes them.
    summary = customer_summary(db.session, store, customer, utcnow())["tier"]
    nxt = summary["next"]
    assert summary["name"] == "Silver" and nxt["tier"] == "Gold"
    assert dialog.locator(".ppe-tier strong").inner_text() == "Silver"
    bar = dialog.get_by_role("progressbar")
    assert bar.get_attribute("aria-valuenow") == str(round(100 * int(nxt["current"]) / int(nxt["threshold"])))
    assert f"{int(nxt['remaining']):,} points to Gold" in dialog.locator(".ppe-tier").inner_text()
    # The referral link and the activity come from their own requests: wait for them (expect retries).
    link = dialog.locator(".ppe-copy input").first
    expect(link).to_have_value(referral["share_url"], timeout=10000)
    assert referral["share_url"].endswith("/ref/" + referral["code"])
    activity = dialog.locator(".ppe-activity li")
    expect(activity.filter(has_text="+25")).to_have_count(1, timeout=10000)
    rows = [row.inner_text().split("\n")[:2] for row in activity.all()]
    assert ["+200", "Bonus"] in rows and ["+25", "Bonus"] in rows, rows  # signup and review actions

    # Every control of the panel is reached by Tab, in order, and Tab wraps inside the dialog.
    controls = dialog.locator("button:enabled, input").all()
    handles = [c.element_handle() for c in controls]
    assert page.evaluate("document.activeElement.className") == "ppe-close"
    seen = []
    for _ in range(len(controls)):
        page.keyboard.press("Tab")
        seen.append(page.evaluate_handle("document.activeElement"))
    same = [page.evaluate("([a, b]) => a === b", [a, b]) for a, b in zip(seen, handles[1:] + handles[:1], strict=True)]
    assert all(same), same
    # The focus ring of a focused control is visible (keyboard focus: :focus-visible).
    ring = page.evaluate(
        "(() => { const s = getComputedStyle(document.activeElement); return [s.outlineStyle, s.outlineWidth]; })()"
    )
    assert ring[0] == "solid" and float(ring[1].rstrip("px")) >= 2, ring
    for selector in (".ppe-launcher", ".ppe-head h2", ".ppe-rewards .ppe-primary", ".ppe-points strong", ".ppe-plus"):
        ratio = page.locator(selector).first.evaluate(CONTRAST)
        assert ratio >= 4.5, (selector, ratio)
    page.screenshot(path=str(ARTIFACTS / "widget-points.png"))

    redeem = dialog.locator(".ppe-rewards button", has_text="Redeem").first
    redeem.focus()
    page.keyboard.press("Enter")
    code_box = dialog.locator(".ppe-out input")
    for _ in range(60):  # the redemption job (as an rq worker runs it) creates the coupon while the page polls
        run_jobs(app)
        if code_box.count():
            break
        page.wait_for_timeout(250)
    code = code_box.input_value()
    [coupon] = site.writeback.coupons.values()
    assert coupon["code"] == code.lower() and coupon["email_restrictions"] == [seeded["email"]]
    assert site.writeback.calls["POST /coupons"] == 1
    expect(points).to_have_text(f"{spendable - REWARD['points']:,}", timeout=10000)
    expect(activity.first).to_contain_text("-100")
    assert page.evaluate("document.activeElement.value") == code  # focus carried to the code
    page.screenshot(path=str(ARTIFACTS / "widget-redeemed.png"))

    page.keyboard.press("Escape")
    assert not dialog.is_visible() and launcher.get_attribute("aria-expanded") == "false"
    assert page.evaluate("document.activeElement.className") == "ppe-launcher"
    assert errors == []
