"""The shopper's pages carry the store's brand (templates/_page.html): its name, logo and colour on every page, a
text colour that reads on the merchant's colour, and a colour that is not one never reaches the CSS. The same pages
in a real browser: test_shopper_pages_browser.py."""

from __future__ import annotations

import re

import pytest

from app.messaging.store_settings import branding, on_color
from tests.messaging.conftest import BRAND, seed_shopper_pages

PAGES = ("review", "help", "unsubscribe", "landing")


def test_every_page_shows_the_store_name_logo_and_colour(app, client, ctx):
    paths = seed_shopper_pages()
    for name in PAGES:
        answer = client.get(paths[name])
        html = answer.get_data(as_text=True)
        assert answer.status_code == 200, (name, html)
        assert ":root{--brand:#7b2d8e;--on-brand:#ffffff}" in html, name
        assert f'<img src="{BRAND["logo_url"]}" alt="Kalina Ceramics"' in html, name
        assert "<title>" in html and "· Kalina Ceramics</title>" in html, name
        assert 'class="button"' in html and "http://" not in html, name  # nothing fetched from elsewhere


def test_without_a_logo_the_name_shows_and_a_light_colour_gets_dark_text(app, client, ctx):
    paths = seed_shopper_pages(brand={"primary_color": "#ffd400"})
    html = client.get(paths["review"]).get_data(as_text=True)
    assert '<span class="name">Kalina Ceramics</span>' in html and "<img src=" not in html.split("</header>")[0]
    assert ":root{--brand:#ffd400;--on-brand:#18181b}" in html


@pytest.mark.parametrize("color", ["red;}body{display:none", "#12345", "url(x)", 7, None])
def test_a_colour_that_is_not_one_falls_back_to_the_default(app, client, ctx, color):
    paths = seed_shopper_pages(brand={"primary_color": color, "logo_url": "javascript:alert(1)"})
    html = client.get(paths["unsubscribe"]).get_data(as_text=True)
    assert re.search(r":root\{--brand:#1f2937;--on-brand:#ffffff\}", html)
    assert "javascript:" not in html and "display:none" not in html


@pytest.mark.parametrize(
    ("color", "text"), [("#000000", "#ffffff"), ("#ffffff", "#18181b"), ("#0070f3", "#ffffff"), ("#00ff00", "#18181b")]
)
def test_the_text_on_the_colour_is_the_one_with_more_contrast(color, text):
    assert on_color(color) == text
    assert branding({"branding": {"primary_color": color}})["on_primary"] == text


ENGLISH = {"review": "Write a review", "help": "Get help", "unsubscribe": "Unsubscribe", "landing": "first order"}


@pytest.mark.parametrize("locale", ["en", "pl", "hu", "lv", "kk", "th"])
def test_every_page_in_every_shipped_language(app, client, ctx, locale):
    """The links carry the message's language; the landing takes the friend's browser's."""
    paths = seed_shopper_pages(locale=locale)
    for name in PAGES:
        html = client.get(paths[name], headers={"Accept-Language": locale}).get_data(as_text=True)
        assert f'<html lang="{locale}">' in html, name
        title = re.search(r"<title>(.*?) · Kalina Ceramics</title>", html, re.S).group(1)
        assert (ENGLISH[name] in title) == (locale == "en"), (name, title)


def test_e_mails_write_dark_text_on_a_light_colour(app):
    from app.messaging.render import render

    context = {"first_name": None, "friend_name": "Bob", "reward": "10% off", "shop_url": "https://shop.example"}
    for color, text in (("#ffd400", "#18181b"), ("#7b2d8e", "#ffffff")):
        settings = {"branding": {"primary_color": color}}
        html = render("referral_reward_ready", "en", context, store_name="S", store_settings=settings,
                      unsubscribe_url="https://u").html  # fmt: skip
        assert f'font-weight:bold;color:{text};">S</span>' in html  # the header's name, without a logo
        assert f"background:{color};color:{text};" in html  # the button
