"""The Programmes and E-mails pages in real Chromium, on both platforms (fixtures of conftest.py):
change an earn rule and watch the widget preview follow before saving, save it, preview an e-mail in Polish and
Thai, send a test. axe-core finds no serious or critical violation; screenshots at 1280 and 390 px are written
to tests/artifacts/screenshots/dashboard/ (git ignores tests/artifacts) and their paths printed."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import pytest
from sqlalchemy import select

from app.extensions import db
from app.messaging.models import Message
from app.stores.models import Store
from tests.dashboard.browser import ADMIN, ShopifyAdmin, serious_violations
from tests.dashboard.conftest import FREEZE_LCP, PERF, login_link
from tests.helpers import SHOP, add_store

pytestmark = pytest.mark.slow
SHOTS = Path(__file__).resolve().parents[1] / "artifacts" / "screenshots" / "dashboard"


def _preview(frame) -> dict:
    """The widget in the preview frame, once drawn: the spendable points and the earn row of the activity."""
    # In view, as the merchant looks at it: Chromium does not run the frames of an opaque origin it does not show
    # (no animation frames off screen), and typing in a field far down the form scrolls the preview away.
    frame.locator("iframe.ppe-preview-frame").scroll_into_view_if_needed()
    widget = frame.frame_locator("iframe.ppe-preview-frame")
    widget.locator("body[data-ready]").wait_for(timeout=15000)
    return {
        "spendable": widget.locator(".ppe-points strong").inner_text(),
        "rows": widget.locator(".ppe-activity li").all_inner_texts(),
    }


def _version(frame) -> str:
    return frame.locator("iframe.ppe-preview-frame").get_attribute("data-version") or ""


def _change_earn_rule(frame, value: str) -> None:
    """By keyboard, as a merchant would: focus the field, replace its value; the preview follows unsaved."""
    before = _version(frame)
    field = frame.get_by_label("Points per 1 unit of currency")
    field.focus()
    field.press("Control+a")
    field.type(value)
    frame.wait_for_function(
        f"() => document.querySelector('iframe.ppe-preview-frame').getAttribute('data-version') !== {before!r}"
    )


def _add_rate(frame, currency: str, rate: str) -> None:
    """Another currency's earn rate, typed into the blank row; the preview's notes say what it earns, unsaved."""
    row = frame.get_by_role("group", name="New rate")
    row.get_by_label("Currency", exact=True).fill(currency)
    row.get_by_label("Points per unit of this currency").fill(rate)
    note = f"Orders in {currency} earn {rate} points per 1 {currency}."
    frame.locator("[data-ppe-preview-notes] li", has_text=note).wait_for(timeout=15000)


def _audit(page, axe_script: Path, name: str) -> None:
    """axe-core on `page`'s document (a page, or the app's frame inside the stand-in Shopify admin)."""
    bad = serious_violations(page, axe_script, iframes=False)
    assert bad == [], (name, bad)


def _performance(page, name: str) -> None:
    """LCP, CLS and the slowest interaction (typing, pressing keys) as the browser measured them (PERF)."""
    perf = page.evaluate("() => window.__perf")
    print(f"\n{name}: LCP {perf['lcp']:.0f} ms, CLS {perf['cls']:.4f}, INP {perf['inp']:.0f} ms")
    assert perf["lcp"] <= 2500 and perf["cls"] <= 0.1 and perf["inp"] <= 200, (name, perf)


def _shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.evaluate(FREEZE_LCP)
    page.screenshot(path=str(path), full_page=True)
    print(f"\nscreenshot {path}")


@pytest.mark.parametrize("width", [1280, 390])
def test_woocommerce_programmes_and_emails(dash, ctx, live, browser, axe_script, width):
    store = add_store("woocommerce", name="Woo Shop", currency="EUR")
    store.settings = {"branding": {"primary_color": "#0a6e4f"}}
    db.session.commit()
    context = browser.new_context(viewport={"width": width, "height": 900})
    context.add_init_script(PERF)
    page = context.new_page()
    page.goto(live + login_link(dash, store))
    page.goto(f"{live}/app/programmes")
    # The sample shopper: 50 for signing up, 120 for an order of 120.00 EUR at 1 point per euro, 25 for a review.
    shown = _preview(page)
    assert shown["spendable"] == "195" and "+120" in " ".join(shown["rows"])
    _audit(page, axe_script, f"programmes-{width}")
    _shot(page, f"woocommerce-programmes-{width}")
    _change_earn_rule(page, "2.5")
    shown = _preview(page)
    assert shown["spendable"] == "375" and "+300" in " ".join(shown["rows"])  # 120 x 2.5, not saved yet
    _add_rate(page, "USD", "2")
    _performance(page, f"programmes-{width}")
    db.session.expire_all()
    assert "loyalty" not in (db.session.get(Store, store.id).settings or {})
    page.get_by_role("button", name="Save").first.press("Enter")
    page.wait_for_url("**/app/programmes?saved=loyalty*")
    assert page.get_by_role("status").first.inner_text() == "Your changes were saved."
    db.session.expire_all()
    assert db.session.get(Store, store.id).settings["loyalty"]["points_per_unit"] == {"default": "2.5", "USD": "2"}
    saved = page.get_by_role("group", name="Rate 1")  # the saved rate is a row of its own, a blank one below it
    assert saved.get_by_label("Currency", exact=True).input_value() == "USD"
    assert page.get_by_role("group", name="New rate").get_by_label("Currency", exact=True).input_value() == ""

    page.goto(f"{live}/app/emails?template=points_expiring")
    english = page.locator("[data-subject]").inner_text()
    for lang in ("pl", "th"):
        page.locator(f'a[data-lang="{lang}"]').focus()
        page.keyboard.press("Enter")
        page.wait_for_url(f"**lang={lang}*")
        subject = page.locator("[data-subject]").inner_text()
        assert subject != english
        email = page.frame_locator("iframe.ppe-email-frame")
        assert email.locator("html").get_attribute("lang") == lang
        assert "#0a6e4f" in email.locator("body").inner_html()  # the store's colour, from its settings
        _audit(page, axe_script, f"emails-{lang}-{width}")
        _shot(page, f"woocommerce-emails-{lang}-{width}")
    _performance(page, f"emails-{width}")
    page.get_by_label("Send this e-mail to").fill("merchant@example.com")
    page.get_by_role("button", name="Send a test").press("Enter")
    page.wait_for_url("**sent=1*")
    (message,) = db.session.scalars(select(Message).where(Message.store_id == store.id)).all()
    assert message.template == "points_expiring" and message.locale == "th" and message.dedupe_key.startswith("test:")
    context.close()


@pytest.mark.parametrize("width", [1280, 390])
def test_shopify_embedded_programmes_and_emails(dash, ctx, live, browser, axe_script, width):
    store = add_store("shopify", name="Test Shop", currency="EUR")
    query = f"shop={SHOP}&host={quote('YWRtaW4uc2hvcGlmeS5jb20vc3RvcmUvdGVzdA')}&embedded=1"
    admin = ShopifyAdmin(browser, f"{live}/app/programmes?{query}", width)
    page = admin.context.new_page()
    page.goto(ADMIN)
    page.frame_locator("iframe").first.locator("iframe.ppe-preview-frame").wait_for(timeout=15000)
    frame = next(f for f in page.frames if f.url.startswith(live))
    assert _preview(frame)["spendable"] == "195"
    _change_earn_rule(frame, "3")
    assert _preview(frame)["spendable"] == "435"  # 50 + 360 + 25
    _add_rate(frame, "JPY", "0.01")
    frame.get_by_role("button", name="Save").first.click()
    frame.locator('[data-saved="loyalty"]').wait_for(timeout=15000)  # the script sent it with a session token
    db.session.expire_all()
    assert db.session.get(Store, store.id).settings["loyalty"]["points_per_unit"] == {"default": "3", "JPY": "0.01"}
    _audit(frame, axe_script, f"shopify-programmes-{width}")
    _shot(page, f"shopify-programmes-{width}")
    admin.context.close()

    admin = ShopifyAdmin(browser, f"{live}/app/emails?template=review_request&lang=pl&{query}", width)
    page = admin.context.new_page()
    page.goto(ADMIN)
    app_frame = page.frame_locator("iframe").first
    app_frame.locator("iframe.ppe-email-frame").wait_for(timeout=15000)
    frame = next(f for f in page.frames if f.url.startswith(live))
    assert frame.frame_locator("iframe.ppe-email-frame").locator("html").get_attribute("lang") == "pl"
    frame.locator('a[data-lang="th"]').click()
    app_frame.locator('iframe[data-email-preview="review_request:th"]').wait_for(timeout=15000)
    frame = next(f for f in page.frames if f.url.startswith(live))
    _audit(frame, axe_script, f"shopify-emails-th-{width}")
    _shot(page, f"shopify-emails-th-{width}")
    frame.get_by_label("Send this e-mail to").fill("staff@example.com")
    frame.get_by_role("button", name="Send a test").click()
    frame.locator("[data-sent]").wait_for(timeout=15000)
    (message,) = db.session.scalars(select(Message).where(Message.store_id == store.id)).all()
    assert message.locale == "th" and message.to_address == "staff@example.com"
    admin.context.close()
