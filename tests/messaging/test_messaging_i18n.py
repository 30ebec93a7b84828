"""Catalogues: every .po compiles, its committed .mo is current, every msgid is translated in every
language with the right number of plural forms and the same placeholders; the .pot matches the templates."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from app.messaging.i18n import TRANSLATIONS, match_locale, resolve_locale
from app.messaging.render import TEMPLATE_NAMES, render

ROOT = Path(__file__).resolve().parents[2]
LOCALES = ("en", "pl", "hu", "lv", "kk", "th")
PLURALS = {"en": 2, "pl": 3, "hu": 2, "lv": 3, "kk": 2, "th": 1}
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def _catalog(locale: str):
    with open(TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po", "rb") as handle:
        return read_po(handle, locale=locale)


def _template_ids() -> set[str]:
    with open(ROOT / "babel.cfg") as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    found = set()
    for _, _, message, *_ in extract_from_dir(str(ROOT), method_map, options_map):
        found.add(message[0] if isinstance(message, tuple) else message)
    return found


def test_pot_matches_the_templates():
    with open(TRANSLATIONS / "messages.pot", "rb") as handle:
        pot = {m.id[0] if isinstance(m.id, tuple) else m.id for m in read_po(handle) if m.id}
    assert pot == _template_ids(), "run scripts/i18n all"


@pytest.mark.parametrize("locale", LOCALES)
def test_catalogue_complete_and_compiled(locale):
    catalog = _catalog(locale)
    assert catalog.num_plurals == PLURALS[locale]
    ids = {m.id[0] if isinstance(m.id, tuple) else m.id for m in catalog if m.id}
    assert ids == _template_ids()
    for message in catalog:
        if not message.id:
            continue
        assert not message.fuzzy, message.id
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if isinstance(message.id, tuple):
            assert len(strings) == PLURALS[locale], message.id
        wanted = set(PLACEHOLDER.findall(message.id[0] if isinstance(message.id, tuple) else message.id))
        for string in strings:
            assert string.strip(), (locale, message.id)
            assert set(PLACEHOLDER.findall(string)) == wanted, (locale, message.id, string)
        if locale != "en" and message.id != "%(count)s star":
            assert strings[0] != (message.id[0] if isinstance(message.id, tuple) else message.id), message.id
    assert [(m.id, errors) for m, errors in catalog.check()] == []  # Babel's python-format checks
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    committed = (TRANSLATIONS / locale / "LC_MESSAGES" / "messages.mo").read_bytes()
    assert compiled.getvalue() == committed, "run scripts/i18n compile"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("pl", "pl"),
        ("pl-PL", "pl"),
        ("pl_PL", "pl"),
        ("TH", "th"),
        ("kk-KZ", "kk"),
        ("pt_BR", None),
        ("xx", None),
        ("", None),
        (None, None),
        ("en-GB", "en"),
    ],
)
def test_match_locale(value, expected):
    assert match_locale(value) == expected


def test_resolution_order():
    assert resolve_locale("de-DE", "lv", "pl") == "lv"
    assert resolve_locale(None, None, "hu") == "hu"
    assert resolve_locale("zz", None, None) == "en"


def _context(template: str) -> dict:
    products = [{"title": "Mug", "image_url": None, "star_urls": [f"https://r/{n}" for n in range(1, 6)]}]
    return {
        "review_request": {"first_name": None, "products": products, "help_url": "https://h"},
        "review_reminder": {"first_name": "A", "products": products, "help_url": "https://h"},
        "points_expiring": {"first_name": "A", "points": 1, "expires_on": "2027-01-02", "shop_url": "https://s"},
        "referral_reward_ready": {"first_name": "A", "friend_name": "Bo", "reward": "10%", "shop_url": "https://s"},
        "merchant_low_rating_alert": {
            "rating": 2,
            "product_title": "Mug",
            "excerpt": "<b>bad</b>",
            "dashboard_url": "https://d",
        },
        "merchant_help_request": {"order_name": "#1001", "message": "<b>bad</b> parcel"},
        "merchant_recovery_case": {"order_name": "#1001", "reason": "late_parcel", "dashboard_url": "https://d"},
        "recovery_apology": {
            "first_name": "<b>bad</b>",
            "order_name": "#1001",
            "reason": "late_parcel",
            "code": "SORRY-2345",
            "discount": "10%",
            "expires_at": "2027-01-02",
        },
        **{f"delivery_{state}": _delivery() for state in DELIVERY_STATES},
        "merchant_flagged_referral": {"order_name": "#1001", "reasons": "<b>bad</b>", "dashboard_url": "https://d"},
        "surprise_ready": {
            "first_name": "<b>bad</b>",
            "threshold": 2,
            "kind": "percentage",
            "reward": "10%",
            "points": 0,
            "code": "THANKS-2345",
            "expires_at": "2027-01-02",
        },
        "survey_request": {
            "first_name": "<b>bad</b>",
            "order_name": "#1001",
            "kind": "nps",
            "scores": [{"score": n, "url": f"https://s/{n}"} for n in range(11)],
            "choose_url": "https://s/choose",
        },
        "campaign_win_back": {
            "first_name": "<b>bad</b>",
            "code": "BACK-2345",
            "kind": "percentage",
            "value": "15",
            "currency": "EUR",
            "expires_at": "2027-01-02",
        },  # fmt: skip
        "campaign_thanks": {"first_name": "<b>bad</b>"},
        "campaign_text": {"subject": "Spring", "body": "<b>bad</b> news\n\nsecond paragraph"},
    }[template]


DELIVERY_STATES = ("shipped", "delayed", "out_for_delivery", "attempted", "failed", "delivered")


def _delivery() -> dict:
    return {
        "first_name": "A", "order_name": "#1001", "carrier": "UPS", "tracking_number": "1Z", "tracking_url": "https://t",
        "estimated_delivery": "2027-01-02", "items": [{"title": "<b>bad</b> Mug", "quantity": 2, "image_url": None}],
    }  # fmt: skip


#: Every message template the features register (each feature's templates/ folder); the next test checks the list.
TEMPLATES = (
    "review_request",
    "review_reminder",
    "points_expiring",
    "referral_reward_ready",
    "merchant_low_rating_alert",
    "merchant_help_request",
    "merchant_recovery_case",
    "recovery_apology",
    *(f"delivery_{state}" for state in DELIVERY_STATES),
    "merchant_flagged_referral",
    "survey_request",
    "campaign_win_back",
    "campaign_thanks",
    "campaign_text",
    "surprise_ready",
)
#: Templates whose subject is the merchant's own words (the same in every language).
MERCHANT_SUBJECT = ("campaign_text",)


def test_the_list_is_what_the_features_registered(app):
    assert sorted(TEMPLATE_NAMES) == sorted(TEMPLATES)


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("template", TEMPLATES)
def test_every_template_renders_in_every_locale(app, template, locale):
    out = render(
        template, locale, _context(template), store_name="S & Co", store_settings={}, unsubscribe_url="https://u"
    )
    assert out.subject and "\n" not in out.subject and "{{" not in out.text + out.html
    assert "https://u" in out.text and 'href="https://u"' in out.html
    assert "S &amp; Co" in out.html and "<b>bad</b>" not in out.html  # autoescaped HTML, plain text as is
    if locale != "en" and template not in MERCHANT_SUBJECT:
        english = render(
            template, "en", _context(template), store_name="S & Co", store_settings={}, unsubscribe_url="https://u"
        )
        assert out.subject != english.subject


def test_polish_plural_forms_for_points():
    subjects = {
        n: render(
            "points_expiring",
            "pl",
            {"first_name": None, "points": n, "expires_on": "2027-01-02", "shop_url": "s"},
            store_name="S",
            store_settings={},
            unsubscribe_url="u",
        ).subject
        for n in (1, 3, 5, 22, 112)
    }
    assert subjects[1].startswith("1 punkt wkrótce") and subjects[3].startswith("3 punkty")
    assert "punktów" in subjects[5] and subjects[22].startswith("22 punkty") and "punktów" in subjects[112]
