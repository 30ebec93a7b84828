"""The dashboard in a real browser (Debian's chromium, driven by Playwright) against the app on a real port.

- Shopify: the app's URL opened inside a stand-in Shopify admin page (https://admin.shopify.com, served by the
  test), with a stand-in App Bridge script at Shopify's CDN address that hands out session tokens signed like
  Shopify's (HS256 with the app secret). An installed store lands on the overview with no redirect; a shop we
  hold no offline token for is installed on that first load by token exchange (against the Shopify stand-in).
- WooCommerce: the magic link `flask stores admin-link` prints, then the overview at our origin.
Both show the figures of a generated history with known answers (history.py), the cohort table's cells included.
Each page is screenshotted at 1280 and 390 px (paths printed; under tests/artifacts/screenshots/dashboard/, which
git ignores), measured (LCP, CLS, INP by PerformanceObserver) and checked by axe-core (npm `axe-core`, installed
by browser.py into tests/artifacts/node). The Overview is also opened in Polish (`?locale=pl`, as Shopify passes).
"""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import quote

import pytest

from app.extensions import db
from app.security import secret_box
from app.stores.models import Store
from tests.dashboard import history, history_orders
from tests.dashboard.browser import ADMIN, SHOTS, ShopifyAdmin, check, measure, shown_cells, shown_figures, track
from tests.dashboard.conftest import PERF, login_link
from tests.helpers import SHOP, add_store

pytestmark = pytest.mark.slow
MARCH = "from=2026-03-01&to=2026-03-31"


@pytest.mark.parametrize("width", [1280, 390])
def test_installed_shopify_store_lands_on_the_overview_inside_the_admin(
    dash, ctx, live, browser, axe_script, tmp_path, width
):
    store = add_store("shopify", name="Test Shop", currency="EUR")
    expected = history.build(store)
    app_url = f"{live}/app?shop={SHOP}&host={quote('YWRtaW4uc2hvcGlmeS5jb20vc3RvcmUvdGVzdA')}&embedded=1&{MARCH}"
    admin = ShopifyAdmin(browser, app_url, width)
    page = admin.context.new_page()
    documents, calls = track(page, live)
    page.goto(ADMIN)
    app_frame = page.frame_locator("iframe").first
    app_frame.locator('[data-figure="orders.count"]').wait_for(timeout=15000)
    frame = next(f for f in page.frames if f.url.startswith(live))
    shown = shown_figures(frame)
    assert {key: shown.get(key) for key in expected} == expected
    # No bounce: the frame loaded our URL once and stayed; our data came by fetches carrying a session token.
    assert [url for url in documents if url.startswith(live)] == [app_url]
    data_calls = [c for c in calls if c["type"] == "fetch"]
    assert data_calls and all(c["auth"] and c["auth"].startswith("Bearer ey") for c in data_calls)
    assert admin.tokens >= len(data_calls)
    SHOTS.mkdir(parents=True, exist_ok=True)
    shot = SHOTS / f"shopify-in-admin-{width}.png"
    page.screenshot(path=str(shot), full_page=True)
    print(f"\nshopify in admin: {shot}")
    admin.context.close()


def test_first_load_of_a_new_shop_installs_it_by_token_exchange(dash, ctx, live, browser, shopify_standin, tmp_path):
    app_url = f"{live}/app?shop={SHOP}&host=YWRtaW4&embedded=1"
    admin = ShopifyAdmin(browser, app_url, 1280)
    page = admin.context.new_page()
    documents, calls = track(page, live)
    page.goto(ADMIN)
    page.frame_locator("iframe").first.locator('[data-figure="orders.count"]').wait_for(timeout=20000)
    assert [url for url in documents if url.startswith(live)] == [app_url]  # no OAuth redirect
    session_calls = [c for c in calls if c["url"] == f"{live}/shopify/session"]
    assert len(session_calls) == 1 and session_calls[0]["auth"].startswith("Bearer ")
    assert shopify_standin.calls["urn:ietf:params:oauth:grant-type:token-exchange"] == 1
    db.session.expire_all()
    store = db.session.query(Store).filter_by(platform="shopify", domain=SHOP).one()
    assert store.status == "active" and secret_box().open(store.credentials)["access_token"]
    admin.context.close()


def test_tokens_not_signed_with_our_secret_show_nothing(dash, ctx, live, browser):
    store = add_store("shopify", currency="EUR")
    history.build(store)
    admin = ShopifyAdmin(browser, "about:blank", 1280, secret="someone-elses-secret-of-32-bytes!")
    page = admin.context.new_page()
    page.goto(f"{live}/app?shop={SHOP}&host=YWRtaW4&embedded=1")
    page.get_by_role("alert").wait_for(timeout=15000)
    assert "could not be loaded" in page.get_by_role("alert").inner_text()
    assert page.locator("[data-figure]").count() == 0
    admin.context.close()


@pytest.mark.parametrize("width", [1280, 390])
def test_shopify_page_performance_and_accessibility(dash, ctx, live, browser, axe_script, tmp_path, width):
    store = add_store("shopify", name="Test Shop", currency="EUR")
    history.build(store)
    admin = ShopifyAdmin(browser, "about:blank", width)
    page = admin.context.new_page()
    page.goto(f"{live}/app?shop={SHOP}&host=YWRtaW4&embedded=1&{MARCH}")  # the frame's document, measured alone
    page.locator('[data-figure="orders.count"]').wait_for(timeout=15000)
    check(measure(page, axe_script, tmp_path, f"shopify-overview-{width}"))
    admin.context.close()


@pytest.mark.parametrize("width", [1280, 390])
def test_woocommerce_magic_link_to_the_overview(dash, ctx, live, browser, axe_script, tmp_path, width):
    store = add_store("woocommerce", name="Woo Shop", currency="EUR")
    expected = history.build(store)
    context = browser.new_context(viewport={"width": width, "height": 900})
    context.add_init_script(PERF)
    page = context.new_page()
    page.goto(live + login_link(dash, store))
    assert page.url == f"{live}/app"
    cookie = next(c for c in context.cookies() if c["name"] == "ppe_dash")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax" and cookie["path"] == "/app"
    page.goto(f"{live}/app?from=2026-01-01&to=2026-04-30")
    cohorts = history_orders.cohort_cells(store, datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 5, 1, tzinfo=UTC))
    assert shown_cells(page.main_frame) == cohorts and len(cohorts) >= 8
    page.goto(f"{live}/app?{MARCH}")
    shown = shown_figures(page.main_frame)
    assert {key: shown.get(key) for key in expected} == expected
    check(measure(page, axe_script, tmp_path, f"woocommerce-overview-{width}"))
    # The period form is usable by keyboard and changes what is shown.
    page.select_option("#ppe-days", "7")
    page.fill("#ppe-from", "")
    page.fill("#ppe-to", "")
    page.get_by_role("button", name="Show").press("Enter")
    page.wait_for_url("**/app?days=7*")
    assert "2026-03-26 – 2026-04-01" in page.locator(".ppe-page-header").inner_text()
    context.close()


@pytest.mark.parametrize("width", [1280, 390])
def test_overview_in_polish(dash, ctx, live, browser, axe_script, tmp_path, width):
    """Shopify's `locale` parameter (kept on the period form): the page in Polish, the same numbers."""
    store = add_store("woocommerce", name="Sklep", currency="EUR")
    expected = history.build(store)
    context = browser.new_context(viewport={"width": width, "height": 900}, locale="en-US")
    context.add_init_script(PERF)
    page = context.new_page()
    page.goto(live + login_link(dash, store))
    page.goto(f"{live}/app?{MARCH}&locale=pl")
    assert page.locator("html").get_attribute("lang") == "pl"
    assert page.locator("h1").inner_text() == "Przegląd"
    headings = page.locator("section h2").all_inner_texts()
    assert "Zamówienia i ponowne zakupy" in headings and "Retencja kohort" in headings and "Opinie" in headings
    assert page.get_by_text("Wskaźnik ponownych zakupów").count() == 1
    assert page.get_by_role("button", name="Pokaż", exact=True).count() == 1
    shown = shown_figures(page.main_frame)
    assert {key: shown.get(key) for key in expected} == expected
    check(measure(page, axe_script, tmp_path, f"woocommerce-overview-pl-{width}"))
    # The period form keeps the language.
    page.select_option("#ppe-days", "90")
    page.get_by_role("button", name="Pokaż", exact=True).click()
    page.wait_for_url("**locale=pl*")
    assert page.locator("h1").inner_text() == "Przegląd"
    context.close()
