"""The plugin on a real WordPress (`php -S`) in Debian's chromium, against our app on a real port over https: the
admin uploads the zip on a fresh WordPress (WP_DEBUG on) and activates it, opens WooCommerce > Rewards and presses
Connect, which reaches our server and goes on to the store's wc-auth page; the test plays WooCommerce's part there
(it posts the keys to our callback and sends the admin back, as WC_Auth does), the plugin exchanges its one-time
code and shows the connection's status, and "Open the dashboard" signs the merchant in to ours in a new tab. Then
a customer opens My Account > Rewards and sees the balance our storefront API serves and her own referral link,
the widget's panel shows the same balance, and the thank-you page of her first order and her view of it in My
Account show what it earns, her referral link and the first-order welcome. The account pages carry WooCommerce's
endpoint titles, and at 390 px her referral link, brought into view by focus, is clear of the widget's launcher
(tests/wordpress/shopper_pages.py). A product page shows the stars and the reviews our API serves for the reviews
the test seeded. Screenshots at 1280 and 390 px go to tests/artifacts/screenshots/wordpress/.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from werkzeug.serving import make_server

from app.extensions import db
from app.loyalty.adjustments import adjust_points
from app.loyalty.settings import update_settings
from app.platform.types import utcnow
from app.records.customers import resolve_customer
from app.records.models import Customer
from app.referrals.api import share_link
from app.stores.models import Store
from connectors.events import CustomerSnapshot
from tests.standins.tls import loopback_certificate, server_context
from tests.wordpress.shopper_pages import REVIEWS, clear_of_launcher, endpoint_title, seed_reviews
from tests.wordpress.site import DOUBLES, WordPressSite, build_zip, require_wordpress

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SHOTS = Path(__file__).resolve().parents[1] / "artifacts" / "screenshots" / "wordpress"
pytestmark = pytest.mark.slow


@pytest.fixture
def certificate(tmp_path) -> Path:
    return loopback_certificate(tmp_path)[0]


@pytest.fixture
def ours(app, certificate) -> Iterator[str]:
    """Our app on a real port over https (WooCommerce posts keys to https only, so /woocommerce/connect wants an
    https APP_URL), with a certificate of its own; the WordPress site is on loopback, so private sites are allowed."""
    context = server_context(certificate, certificate.with_suffix(".key"))
    server = make_server("127.0.0.1", 0, app, threaded=True, ssl_context=context)
    url = f"https://127.0.0.1:{server.server_port}"
    app.config.update(APP_URL=url, WOO_ALLOW_PRIVATE_SITES=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield url
    server.shutdown()


@pytest.fixture
def shop(tmp_path, ours, certificate) -> Iterator[WordPressSite]:
    require_wordpress()
    site = WordPressSite(tmp_path / "wp", ours, DOUBLES, ca_bundle=certificate)
    site.tmp.mkdir()
    try:
        site.install()
        site.zip = build_zip(tmp_path / "dist", ours)  # installed by the test, through WordPress's upload page
        site.serve()
        yield site
    finally:
        site.close()


@pytest.fixture
def chromium():
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no chromium at {CHROMIUM} (apt-get install -y chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright not installed (requirements-dev.txt)")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield browser
        browser.close()


def log_in(page, shop: WordPressSite, user: str, password: str) -> None:
    page.goto(f"{shop.url}/wp-login.php")
    page.fill("#user_login", user)
    page.fill("#user_pass", password)
    page.click("#wp-submit")
    page.wait_for_load_state()


def shots(page, tmp_path: Path, name: str) -> None:
    """tests/artifacts/screenshots/wordpress/<name>-<width>.png (git ignores tests/artifacts), paths printed."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    for width, height in ((1280, 900), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)
        print(f"screenshot: {SHOTS / f'{name}-{width}.png'}")


def test_connect_then_a_customer_sees_their_balance(app, ctx, ours, shop, chromium, tmp_path, certificate):
    admin = chromium.new_context(ignore_https_errors=True)  # our app's own certificate
    page = admin.new_page()
    log_in(page, shop, "admin", "admin-password-1")
    # A fresh WordPress: the zip through Plugins > Add New > Upload Plugin, then Activate, with WP_DEBUG on.
    page.goto(f"{shop.url}/wp-admin/plugin-install.php?tab=upload")
    page.set_input_files("#pluginzip", str(shop.zip))
    page.click("#install-plugin-submit")
    page.get_by_text("Plugin installed successfully.").wait_for(timeout=30000)
    page.get_by_role("link", name="Activate Plugin").click()
    page.wait_for_url("**/wp-admin/plugins.php**")
    assert "Plugin activated." in page.inner_text("#message")
    assert "unexpected output" not in page.content()
    page.goto(f"{shop.url}/wp-admin/admin.php?page=ppe-rewards")
    assert page.get_by_role("heading", name="Rewards", exact=True).is_visible()
    shots(page, tmp_path, "settings")

    seen: list[str] = []
    page.on("request", lambda request: seen.append(request.url))
    page.click("#ppe_rewards_connect")
    page.wait_for_url(f"{shop.url}/wc-auth/v1/authorize?**")
    assert any(url.startswith(f"{ours}/woocommerce/plugin/connect?") for url in seen), seen
    authorize = parse_qs(urlsplit(page.url).query)
    assert authorize["callback_url"] == [f"{ours}/woocommerce/callback"]
    assert authorize["return_url"][0].startswith(f"{ours}/woocommerce/plugin/return?r=")

    # WooCommerce's part (WC_Auth): the merchant approves, the keys are posted to the callback, then the
    # merchant is sent to return_url with success=1 and the user_id.
    keys = {
        "key_id": 1,
        "user_id": authorize["user_id"][0],
        "consumer_key": "ck_" + "a" * 40,
        "consumer_secret": "cs_" + "b" * 40,
        "key_permissions": "read_write",
    }
    posted = requests.post(authorize["callback_url"][0], json=keys, timeout=10, verify=str(certificate))
    assert posted.status_code == 200
    page.goto(f"{authorize['return_url'][0]}&success=1&user_id={authorize['user_id'][0]}")
    page.wait_for_url("**ppe_notice=connected")
    assert "Connected. Your customers now see their rewards." in page.inner_text(".notice")
    assert page.inner_text("#ppe-last-webhook") == "Last order update received: none yet"
    shots(page, tmp_path, "settings-connected")
    # "Open the dashboard": WordPress's server asks ours for a fresh sign-in link (a signed call), and the
    # merchant's new tab lands signed in on the dashboard (app/dashboard/plugin_link.py).
    with admin.expect_page() as opened:
        page.click("#ppe_rewards_dashboard")
    dashboard = opened.value
    dashboard.wait_for_url(f"{ours}/app", timeout=15000)
    assert dashboard.get_by_role("heading", name="Overview").first.is_visible()
    assert "ppe_dash" in {cookie["name"] for cookie in admin.cookies(f"{ours}/app")}
    shots(dashboard, tmp_path, "dashboard-from-plugin")
    admin.close()

    db.session.rollback()
    [store] = db.session.query(Store).filter_by(platform="woocommerce").all()
    customer = resolve_customer(db.session, store, CustomerSnapshot("2", "ann@example.com"))
    adjust_points(db.session, store, customer, 1250, "welcome", "browser-test", utcnow())
    five_off = {"id": "r5", "type": "fixed_amount", "points": 500, "value": "5.00", "currency": "EUR"}
    update_settings(db.session, store, {"rewards": [five_off, {"id": "ship", "type": "free_shipping", "points": 2000}]})
    seed_reviews(store)
    db.session.commit()
    customer_id = customer.id

    shopper = chromium.new_context(ignore_https_errors=True)
    page = shopper.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    log_in(page, shop, "ann", "ann-password-1")
    page.goto(f"{shop.url}/my-account/")
    page.get_by_role("link", name="Rewards").click()
    page.wait_for_url("**/my-account/ppe-rewards/")
    assert page.inner_text(".ppe-spendable") == "1,250"
    # The rewards to redeem, as the store writes prices: what her points buy now, and how far the rest is.
    rewards = page.locator(".ppe-rewards-list li")
    assert rewards.nth(0).inner_text() == "€5.00 off · 500 points · You can redeem it now"
    assert rewards.nth(1).inner_text() == "Free shipping · 2,000 points · 750 more points to go"
    assert page.get_by_role("heading", name="Refer a friend").is_visible()
    share = page.locator(".ppe-share-url").input_value()
    # Ann's own link: the code our API drew for her when the tab asked /me/referral.
    db.session.rollback()
    own = share_link(db.session, store, db.session.get(Customer, customer_id))
    assert own is not None and share == own[1] and share.startswith(f"{ours}/ref/")
    # The widget, from the plugin's own copy, with the store key and a token minted by WordPress.
    script = page.locator("script#ppe-rewards-widget-js")
    assert script.get_attribute("data-store", timeout=5000).startswith("ppk_")
    assert script.get_attribute("data-token") and script.get_attribute("src").startswith(shop.url)
    endpoint_title(page, "Rewards")
    shots(page, tmp_path, "my-account-rewards")
    clear_of_launcher(page)
    # The widget's panel calls our API cross-origin with that token: the same balance.
    page.set_viewport_size({"width": 1280, "height": 900})
    page.get_by_role("button", name="★ Rewards").click()
    dialog = page.get_by_role("dialog", name="Rewards")
    dialog.get_by_text("1,250").first.wait_for(timeout=15000)
    page.screenshot(path=str(SHOTS / "widget-panel-1280.png"))
    print(f"screenshot: {SHOTS / 'widget-panel-1280.png'}")
    # The thank-you page of an order: the plugin asks our API on the server (the order's points, else the earn
    # preview: whichever our service answers) and the page shows what it could read; the referral link always.
    page.goto(f"{shop.url}/order-received/")
    assert "Your order has been received." in page.inner_text("body")
    section = page.locator("section.ppe-thankyou")
    assert section.locator(".ppe-share-url").input_value() == share
    # Her first order (WooCommerce counts one): the welcome.
    assert section.locator("h2.ppe-welcome").inner_text() == "Welcome! Your first order earns you points."
    section_points = section.locator(".ppe-order-points").inner_text()
    assert section_points.startswith("This order earns")
    shots(page, tmp_path, "thank-you")
    # The same section on her view of that order in My Account.
    page.goto(f"{shop.url}/my-account/view-order/501/")
    assert "Order #501 was placed" in page.inner_text("body")
    endpoint_title(page, "Order #501")
    viewed = page.locator("section.ppe-thankyou")
    assert viewed.locator(".ppe-share-url").input_value() == share
    assert viewed.locator(".ppe-order-points").inner_text() == section_points
    assert viewed.locator("h2.ppe-welcome").is_visible()
    shots(page, tmp_path, "view-order")
    clear_of_launcher(page)  # at 390 px the link sits in the launcher's band as the page opens
    # A product page: the stars under its title and our reviews in its Reviews tab, as our API serves them.
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{shop.url}/linen-shirt/")
    expect = pytest.importorskip("playwright.sync_api").expect
    stars = page.locator('.summary [data-ppe="stars"][data-product-id="93"]')
    expect(stars.locator(".ppe-stars")).to_have_attribute("aria-label", "4.3 out of 5 stars")
    expect(stars.locator(".ppe-count")).to_have_text("3 reviews")  # the held one and product 94's are not counted
    # Right under the product's title (the plugin's priority 6 in woocommerce_single_product_summary).
    assert page.locator(".summary > *").nth(1).get_attribute("data-ppe") == "stars"
    assert page.locator(".wc-tabs li").all_inner_texts() == ["Description", "Reviews"]  # WooCommerce's own is gone
    # The store holds 3 product reviews (ours, written back): its own rating line, linking to the tab we removed,
    # would be a second set of stars under ours.
    expect(page.locator(".woocommerce-product-rating")).to_have_count(0)
    panel = page.locator("#tab-ppe_reviews")
    expect(panel.locator(".ppe-review")).to_have_count(3)
    assert " ".join(panel.locator(".ppe-avg").text_content().split()) == "4.3 · 3 reviews"
    assert panel.locator(".ppe-dist li").evaluate_all("items => items.map((li) => li.getAttribute('aria-label'))") == [
        "5 out of 5 stars: 1 review",
        "4 out of 5 stars: 2 reviews",
        "3 out of 5 stars: 0 reviews",
        "2 out of 5 stars: 0 reviews",
        "1 out of 5 stars: 0 reviews",
    ]
    bodies = panel.locator(".ppe-review > p:not(.ppe-meta)").all_inner_texts()
    assert bodies == [body for product, _, published, body in REVIEWS if product == "93" and published]
    shots(page, tmp_path, "product")
    assert errors == []
    plugin_notices = [line for line in shop.debug_lines() if "/plugins/ppe-rewards/" in line]
    assert plugin_notices == []
    shopper.close()
