"""The Store settings page: one form per section of the settings registry, refused exactly as the admin API
refuses (the same update_store_settings), the error next to its field, each save audited as the merchant."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.admin.models import AuditEntry
from app.extensions import db
from app.stores.models import Store
from app.stores.settings import SECTIONS
from tests.dashboard.conftest import login_link
from tests.helpers import add_store

CSRF = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')

# section -> (a valid form, what is stored then, an invalid form, the field named)
CASES = {
    "branding": (
        {"f-primary_color": "#AA3300", "f-logo_url": "https://cdn.shop.example/logo.png"},
        {"primary_color": "#aa3300", "logo_url": "https://cdn.shop.example/logo.png"},
        {"f-primary_color": "red", "f-logo_url": ""},
        "branding.primary_color",
    ),
    "email": (
        {"f-from_name": "Mug Shop", "f-from_address": "", "f-reply_to": "Help@Shop.example"},
        {"from_name": "Mug Shop", "reply_to": "help@shop.example"},
        {"f-from_name": "Mug Shop", "f-from_address": "", "f-reply_to": "not an address"},
        "email.reply_to",
    ),
    "locale": ({"f-": "pl"}, "pl", {"f-": "xx"}, "locale"),
    "storefront": (
        {"f-origins": "https://www.shop.example\n\nhttps://m.shop.example/"},
        {"origins": ["https://www.shop.example", "https://m.shop.example"]},
        {"f-origins": "http://insecure.example"},
        "storefront.origins",
    ),
    "alerts": (
        {
            "f-low_rating": "Owner@shop.example\nqa@shop.example",
            "f-help": "",
            "f-flagged_referral": "fraud@shop.example",
        },
        {"low_rating": ["owner@shop.example", "qa@shop.example"], "flagged_referral": ["fraud@shop.example"]},
        {"f-low_rating": "owner@shop.example", "f-help": "nope", "f-flagged_referral": ""},
        "alerts.help",
    ),
}

# What the page shows after the save (the stored value, back in its field).
SHOWN = {
    "branding": 'value="https://cdn.shop.example/logo.png"',
    "email": 'name="f-reply_to" value="help@shop.example"',
    "locale": '<option value="pl" selected>',
    "storefront": "https://www.shop.example\nhttps://m.shop.example</textarea>",
    "alerts": "owner@shop.example\nqa@shop.example</textarea>",
}


def _signed_in(app, store):
    client = app.test_client()
    assert client.get(login_link(app, store)).status_code == 303
    page = client.get("/app/settings")
    assert page.status_code == 200
    return client, CSRF.search(page.text).group(1)


def test_every_registered_section_has_a_form(dash, ctx):
    store = add_store("woocommerce")
    client, _csrf = _signed_in(dash, store)
    page = client.get("/app/settings").text
    shown = set(re.findall(r'data-settings="([a-z_]+)"', page))
    assert shown == {key for key, section in SECTIONS.items() if section.fields} == set(CASES)
    for label in (
        'for="ppe-branding-logo_url"',
        'for="ppe-email-reply_to"',
        'for="ppe-locale"',
        'for="ppe-alerts-help"',
    ):
        assert label in page


@pytest.mark.parametrize("key", sorted(CASES))
def test_a_valid_save_is_stored_audited_and_redirected(dash, ctx, key):
    form, stored, _bad, _field = CASES[key]
    store = add_store("woocommerce")
    client, csrf = _signed_in(dash, store)
    answer = client.post(f"/app/settings/{key}", data={"csrf_token": csrf, **form})
    assert answer.status_code == 303 and answer.headers["Location"] == f"/app/settings?saved={key}#section-{key}"
    db.session.expire_all()
    assert db.session.get(Store, store.id).settings[key] == stored
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action != "dashboard_link.issue")).one()
    assert (entry.action, entry.target, entry.actor_kind) == ("settings.update", "store", "dashboard_link")
    assert entry.diff and all(path.split(".")[0] == key for path in entry.diff)
    shown = client.get(answer.headers["Location"]).text
    assert "Saved." in shown and SHOWN[key] in shown
    # Saving the same again changes nothing, so nothing more is audited.
    assert client.post(f"/app/settings/{key}", data={"csrf_token": csrf, **form}).status_code == 303
    assert len(db.session.scalars(select(AuditEntry).where(AuditEntry.action != "dashboard_link.issue")).all()) == 1


@pytest.mark.parametrize("key", sorted(CASES))
def test_an_invalid_save_shows_the_error_next_to_its_field(dash, ctx, key):
    _form, _stored, bad, field = CASES[key]
    store = add_store("woocommerce")
    client, csrf = _signed_in(dash, store)
    answer = client.post(f"/app/settings/{key}", data={"csrf_token": csrf, **bad})
    assert answer.status_code == 422
    error_id = "ppe-" + field.replace(".", "-") + "-error"
    assert f'<p id="{error_id}" class="ppe-error">Not saved: ' in answer.text
    described = re.search(r'aria-invalid="true" aria-describedby="([^"]+)"', answer.text)
    assert described and error_id in described.group(1).split()
    db.session.expire_all()
    assert key not in (db.session.get(Store, store.id).settings or {})
    assert db.session.scalars(select(AuditEntry).where(AuditEntry.action != "dashboard_link.issue")).all() == []


def test_the_page_refuses_what_the_admin_api_refuses(dash, ctx):
    """The same rule: a value the API's PATCH refuses is refused here with the same message."""
    from app.stores.settings import SettingsError, update_store_settings

    store = add_store("woocommerce")
    client, csrf = _signed_in(dash, store)
    with pytest.raises(SettingsError) as refused:
        update_store_settings(db.session, store, {"branding": {"logo_url": "http://shop.example/logo.png"}})
    db.session.rollback()
    answer = client.post(
        "/app/settings/branding",
        data={"csrf_token": csrf, "f-primary_color": "", "f-logo_url": "http://shop.example/logo.png"},
    )
    assert answer.status_code == 422 and refused.value.message.replace('"', "&#34;") in answer.text


def test_settings_forms_need_the_csrf_token_and_a_known_section(dash, ctx):
    store = add_store("woocommerce")
    client, csrf = _signed_in(dash, store)
    assert client.post("/app/settings/locale", data={"f-": "pl"}).status_code == 400
    assert client.post("/app/settings/nothing", data={"csrf_token": csrf}).status_code == 404
    db.session.expire_all()
    assert "locale" not in (db.session.get(Store, store.id).settings or {})


def test_alert_recipients_reach_the_alerts_of_their_kind(dash, ctx):
    from app.support.settings import recipients

    store = add_store("woocommerce")
    client, csrf = _signed_in(dash, store)
    store.contact_email = "shop@shop.example"
    db.session.commit()
    assert recipients(store, "low_rating") == ["shop@shop.example"]
    client.post(
        "/app/settings/alerts",
        data={"csrf_token": csrf, "f-low_rating": "owner@shop.example", "f-help": "", "f-flagged_referral": ""},
    )
    db.session.expire_all()
    store = db.session.get(Store, store.id)
    assert recipients(store, "low_rating") == ["owner@shop.example"]
    assert recipients(store, "help") == ["shop@shop.example"]  # no list of its own: the store's e-mail
