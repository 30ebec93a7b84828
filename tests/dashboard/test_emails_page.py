"""The E-mails page: every registered template previews in every shipped language with the store's branding, in
a sandboxed frame; a test send is queued once per form, marked as a test, audited, and rate-limited per store."""

from __future__ import annotations

import html
import re

from sqlalchemy import select

from app.admin.models import AuditEntry
from app.extensions import db
from app.messaging.models import Message
from app.messaging.render import TEMPLATE_NAMES
from tests.dashboard.conftest import login_link
from tests.helpers import add_store
from tests.messaging.test_messaging_i18n import MERCHANT_SUBJECT

LANGS = ("en", "pl", "hu", "kk", "lv", "th")


def _signed_in(dash, domain=None, **settings):
    store = add_store("woocommerce", domain, name="Woo Shop")
    store.settings = {**(store.settings or {}), **settings}
    db.session.commit()
    client = dash.test_client()
    assert client.get(login_link(dash, store)).status_code == 303
    return store, client


def _hidden(page: str, name: str) -> str:
    return re.search(rf'name="{name}" value="([^"]*)"', page)[1]


def test_every_template_previews_in_every_language_with_the_branding(dash, ctx):
    store, client = _signed_in(dash, branding={"primary_color": "#AA3300", "logo_url": "https://cdn.example/logo.png"})
    assert set(TEMPLATE_NAMES) >= {"points_expiring", "review_request", "referral_reward_ready"}
    subjects = {}
    for name in TEMPLATE_NAMES:
        for lang in LANGS:
            page = client.get(f"/app/emails?template={name}&lang={lang}")
            assert page.status_code == 200, (name, lang)
            frame = re.search(r'<iframe class="ppe-email-frame" sandbox="" title="[^"]*" srcdoc="([^"]*)"', page.text)
            assert frame is not None, (name, lang)
            shown = html.unescape(frame[1])
            assert f'<html lang="{lang}">' in shown and "#aa3300" in shown and "https://cdn.example/logo.png" in shown
            subjects[name, lang] = re.search(r"<strong lang=\"[a-z]+\" data-subject>([^<]*)</strong>", page.text)[1]
        if name not in MERCHANT_SUBJECT:  # the merchant's own words are the same in every language
            assert len({subjects[name, lang] for lang in LANGS}) > 1, name  # really translated, not English six times


def test_a_test_send_is_queued_once_marked_and_audited(dash, ctx):
    store, client = _signed_in(dash)
    page = client.get("/app/emails?template=points_expiring&lang=pl").text
    form = {
        "csrf_token": _hidden(page, "csrf_token"),
        "template": "points_expiring",
        "lang": "pl",
        "nonce": _hidden(page, "nonce"),
        "to": "Merchant@Example.com",
    }
    first = client.post("/app/emails/test", data=form)
    assert first.status_code == 303 and "sent=1" in first.headers["Location"]
    again = client.post("/app/emails/test", data=form)  # the same form sent twice (a double click, a reload)
    assert again.status_code == 303
    (message,) = db.session.scalars(select(Message).where(Message.store_id == store.id)).all()
    assert message.dedupe_key.startswith("test:") and message.locale == "pl" and message.status == "queued"
    assert message.to_address == "merchant@example.com" and message.context["points"] == 1250
    (row,) = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "email.test")).all()
    assert row.store_id == store.id and row.actor_kind == "dashboard_link" and row.target == "template:points_expiring"
    assert "example.com" not in str(row.diff)


def test_a_bad_address_is_refused_beside_the_field(dash, ctx):
    store, client = _signed_in(dash)
    page = client.get("/app/emails").text
    answer = client.post(
        "/app/emails/test", data={"csrf_token": _hidden(page, "csrf_token"), "nonce": "n" * 20, "to": "not an address"}
    )
    assert answer.status_code == 422 and 'id="ppe-test-error"' in answer.text and 'aria-invalid="true"' in answer.text
    assert db.session.scalars(select(Message).where(Message.store_id == store.id)).all() == []


def test_test_sends_are_rate_limited_per_store(dash, ctx, monkeypatch):
    monkeypatch.setitem(dash.config, "MAIL_TEST_LIMIT", "3/3600")
    store, client = _signed_in(dash)
    other, other_client = _signed_in(dash, "https://other.example")
    token = _hidden(client.get("/app/emails").text, "csrf_token")
    codes = [
        client.post(
            "/app/emails/test", data={"csrf_token": token, "nonce": f"nonce-{i:04d}", "to": "m@example.com"}
        ).status_code
        for i in range(5)
    ]
    assert codes == [303, 303, 303, 429, 429]
    assert len(db.session.scalars(select(Message).where(Message.store_id == store.id)).all()) == 3
    other_token = _hidden(other_client.get("/app/emails").text, "csrf_token")
    answer = other_client.post(
        "/app/emails/test", data={"csrf_token": other_token, "nonce": "x" * 12, "to": "o@example.com"}
    )
    assert answer.status_code == 303  # another store's tests are counted apart


def test_the_sent_test_says_test_in_its_subject(dash, ctx):
    from app.messaging.outbox import build_email
    from app.messaging.samples import preview

    store, client = _signed_in(dash)
    page = client.get("/app/emails?template=review_request&lang=th").text
    client.post(
        "/app/emails/test",
        data={
            "csrf_token": _hidden(page, "csrf_token"),
            "template": "review_request",
            "lang": "th",
            "nonce": _hidden(page, "nonce"),
            "to": "m@example.com",
        },
    )
    message = db.session.scalars(select(Message).where(Message.store_id == store.id)).one()
    rendered = preview("review_request", "th", store)
    email = build_email(message, store, rendered, dash.config, message.created_at)
    assert email["Subject"] == f"[TEST] {rendered.subject}"


def test_every_template_has_a_sample_beside_it(dash):
    assert len(TEMPLATE_NAMES) >= 6  # the features' init_app registered theirs
    for name, folder in TEMPLATE_NAMES.items():
        assert (folder / f"{name}.sample.json").is_file(), name
