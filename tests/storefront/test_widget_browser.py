"""The widget in a real browser (Debian's chromium driven by Playwright) against the app on a real port: reviews.

A WooCommerce-style product page on its own origin includes the widget with a minted customer token; the store
has the customer (from an order webhook) and a review submitted through POST /api/v1/reviews with a star link.
Screenshots go to tests/artifacts/ (gitignored). The points panel and redemption are in
tests/storefront/test_widget_browser_points.py; the page, servers and browser in tests/storefront/conftest.py.
"""

from __future__ import annotations

import pytest

from tests.storefront import conftest as shared
from tests.storefront.conftest import (
    ARTIFACTS,
    _open,
    _seed,
)

# The shared fixtures, bound by name in this module (where pytest looks for them); an import would read
# as unused to the linter.
browser, live, shop_page, site = shared.browser, shared.live, shared.shop_page, shared.site

pytestmark = pytest.mark.slow


def test_reviews_and_panel_in_a_real_browser(app, ctx, live, shop_page, browser):
    ARTIFACTS.mkdir(exist_ok=True)
    seeded = _seed(app, live, shop_page["origin"])
    page, errors = _open(browser, shop_page, live, seeded)
    review = page.locator(".ppe-review").first
    review.wait_for(timeout=15000)
    assert "Sturdy, quick delivery, would buy again." in review.inner_text()
    assert "Ann K." in review.inner_text() and "Verified buyer" in review.inner_text()
    # The stars and the summary come from their own requests: wait for each (Playwright's expect retries).
    expect = shared.sync_api.expect  # the helpers skip this module without playwright
    expect(page.locator('[data-ppe="stars"] .ppe-stars')).to_have_attribute("aria-label", "5 out of 5 stars")
    expect(page.locator('[data-ppe="stars"] .ppe-count')).to_have_text("1 review")
    expect(page.locator(".ppe-summary")).to_contain_text("1 review")
    assert page.locator(".ppe-summary").inner_text().count("1 review") == 1
    # The stars and the block share one summary request; the files come without redirects; the stylesheet is
    # the script's (not render-blocking in the page's head); the points panel's file waits for the launcher.
    summaries = [url for status, url in page.answers if "/reviews/summary" in url]
    assert len(summaries) == 1, summaries
    assert not [(status, url) for status, url in page.answers if 300 <= status < 400]
    files = sorted(url.rsplit("/", 1)[1] for status, url in page.answers if "/widget/" in url)
    assert files == ["widget-reviews.js", "widget.css", "widget.js"], files
    for width, height in ((1280, 900), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        page.screenshot(path=str(ARTIFACTS / f"widget-reviews-{width}.png"), full_page=True)

    launcher = page.get_by_role("button", name="★ Rewards")
    launcher.click()
    dialog = page.get_by_role("dialog", name="Rewards")
    assert dialog.is_visible() and launcher.get_attribute("aria-expanded") == "true"
    assert page.evaluate("document.activeElement.className") == "ppe-close"
    dialog.locator(".ppe-body > *").first.wait_for(timeout=10000)
    expect(dialog.locator(".ppe-activity")).to_be_visible()
    assert "null" not in dialog.inner_text() and "undefined" not in dialog.inner_text()  # no tiers configured
    for _ in range(6):  # the focus trap: Tab never leaves the dialog
        page.keyboard.press("Tab")
        assert page.evaluate("!!document.activeElement.closest('[role=dialog]')")
    assert any(url.endswith("/widget-panel.js") for _, url in page.answers)
    page.screenshot(path=str(ARTIFACTS / "widget-panel-390.png"))
    page.keyboard.press("Escape")
    assert not dialog.is_visible() and page.evaluate("document.activeElement.className") == "ppe-launcher"
    assert page.evaluate(NUMBERS, "en") == page.evaluate(INTL_NUMBERS, "en") and errors == []


VALUES = [0, 1, 7, 4.7, 12.5, 999, 1000, 1234567, 0.25]
NUMBERS = f"() => {VALUES}.map(window.__ppe.num)"
INTL_NUMBERS = f"(lang) => {VALUES}.map((n) => new Intl.NumberFormat(lang).format(n))"


def test_polish_page_is_localised(app, ctx, live, shop_page, browser):
    seeded = _seed(app, live, shop_page["origin"])
    page, errors = _open(browser, shop_page, live, seeded, lang="pl-PL")
    page.locator(".ppe-review").first.wait_for(timeout=15000)
    expect = shared.sync_api.expect  # the helpers skip this module without playwright
    expect(page.locator('[data-ppe="stars"] .ppe-stars')).to_have_attribute("aria-label", "5 na 5 gwiazdek")
    expect(page.locator('[data-ppe="stars"] .ppe-count')).to_have_text("1 opinia")
    assert page.get_by_role("button", name="★ Nagrody").is_visible()
    assert page.locator(".ppe-sort label").inner_text() == "Sortuj" and errors == []
    # The widget's own number formatting (no Intl formatter on every page) is the language's, as Intl's.
    assert page.evaluate(NUMBERS, "pl") == page.evaluate(INTL_NUMBERS, "pl")
    assert any(url.endswith("/widget-pl.js") for _, url in page.answers)
    page.screenshot(path=str(ARTIFACTS / "widget-reviews-pl.png"), full_page=True)
