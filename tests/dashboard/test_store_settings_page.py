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
    "support": (
        {"f-notify_emails": "Owner@shop.example\nowner@shop.example\nqa@shop.example"},
        {"notify_emails": ["owner@shop.example", "qa@shop.example"]},
        {"f-notify_emails": "nope"},
        "support.notify_emails",
    ),
    "channels": (
        {"f-order": "email\nsms", "f-quiet_hours.start": "22:00", "f-quiet_hours.end": "07:30", "f-daily_cap": "2"},
        {"order": ["email", "sms"], "quiet_hours": {"start": "22:00", "end": "07:30"}, "daily_cap": 2},
        {"f-order": "email", "f-quiet_hours.start": "", "f-quiet_hours.end": "", "f-daily_cap": "99"},
        "channels.daily_cap",
    ),
    "delivery_updates": (  # an unticked box is absent from the form: false
        {"f-enabled": "1", "f-shipped": "1", "f-delivered": "on"},
        {
            "enabled": True,
            "shipped": True,
            "out_for_delivery": False,
            "delivered": True,
            "attempted": False,
            "failed": False,
            "delayed": False,
        },  # fmt: skip
        {"f-enabled": "yes"},
        "delivery_updates.enabled",
    ),
    "recovery": (
        {
            "f-enabled": "1",
            "f-late_parcels": "1",
            "f-low_ratings": "1",
            "f-grace_hours": "48",
            "f-coupon.kind": "fixed_amount",
            "f-coupon.value": "5.50",
            "f-coupon.expires_days": "30",
        },  # fmt: skip
        {
            "enabled": True,
            "late_parcels": True,
            "detractors": False,
            "low_ratings": True,
            "grace_hours": 48,
            "coupon": {"kind": "fixed_amount", "value": "5.50", "expires_days": 30},
        },  # fmt: skip
        {
            "f-enabled": "1",
            "f-grace_hours": "24",
            "f-coupon.kind": "percentage",
            "f-coupon.value": "150",
            "f-coupon.expires_days": "30",
        },  # fmt: skip
        "recovery.coupon.value",
    ),
    "surveys": (
        {"f-enabled": "1", "f-kind": "csat", "f-days_after_delivery": "5"},
        {"enabled": True, "kind": "csat", "days_after_delivery": 5},
        {"f-enabled": "1", "f-kind": "csat", "f-days_after_delivery": "61"},
        "surveys.days_after_delivery",
    ),
}

# What the page shows after the save (the stored value, back in its field).
SHOWN = {
    "branding": 'value="https://cdn.shop.example/logo.png"',
    "email": 'name="f-reply_to" value="help@shop.example"',
    "locale": '<option value="pl" selected>',
    "storefront": "https://www.shop.example\nhttps://m.shop.example</textarea>",
    "alerts": "owner@shop.example\nqa@shop.example</textarea>",
    "support": "owner@shop.example\nqa@shop.example</textarea>",
    "channels": 'name="f-daily_cap" value="2"',
    "delivery_updates": 'name="f-out_for_delivery" type="checkbox" value="1">',
    "recovery": 'name="f-coupon.value" value="5.50"',
    "surveys": '<option value="csat" selected>',
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
    # Every section a package reads is settable here, none only through the API.
    assert shown == set(SECTIONS) == set(CASES)
    for label in (
        'for="ppe-branding-logo_url"',
        'for="ppe-email-reply_to"',
        'for="ppe-locale"',
        'for="ppe-alerts-help"',
        'for="ppe-channels-quiet_hours-start"',
        'for="ppe-recovery-coupon-kind"',
        'for="ppe-delivery_updates-delivered"',
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


def test_quiet_hours_left_empty_mean_none_and_a_bad_time_is_shown_beside_its_fields(dash, ctx):
    from app.messaging.channel_settings import quiet_window

    store = add_store("woocommerce")
    client, csrf = _signed_in(dash, store)
    form = {"csrf_token": csrf, "f-order": "email", "f-daily_cap": "3"}
    bad = client.post("/app/settings/channels", data={**form, "f-quiet_hours.start": "25:00", "f-quiet_hours.end": ""})
    assert bad.status_code == 422  # the rule names quiet_hours: its first input carries the message
    assert '<p id="ppe-channels-quiet_hours-start-error" class="ppe-error">Not saved: ' in bad.text
    answer = client.post("/app/settings/channels", data={**form, "f-quiet_hours.start": "", "f-quiet_hours.end": ""})
    assert answer.status_code == 303
    db.session.expire_all()
    store = db.session.get(Store, store.id)
    assert store.settings["channels"]["quiet_hours"] is None and quiet_window(store.settings) is None


def test_the_notification_list_is_the_support_apis_list(dash, ctx):
    """The page's "support" section and PATCH /support/settings write the same list, read by the same reader."""
    from app.support.settings import notify_emails, recipients

    store = add_store("woocommerce")
    client, csrf = _signed_in(dash, store)
    client.post("/app/settings/support", data={"csrf_token": csrf, "f-notify_emails": "team@shop.example"})
    db.session.expire_all()
    store = db.session.get(Store, store.id)
    assert notify_emails(store) == ["team@shop.example"] == recipients(store, "help")
