"""The Programmes page: each programme's form is judged by the admin API's own validation (the same refusal,
the same message), a save is audited with the dashboard's merchant as the actor, and the preview writes nothing."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import event, select

from app.admin.models import AuditEntry
from app.extensions import db
from app.stores.models import Store
from tests.dashboard.conftest import login_link, session_token
from tests.helpers import SHOP, add_store


def admin_headers(app, store) -> dict[str, str]:
    answer = app.test_cli_runner().invoke(args=["stores", "admin-token", str(store.id)])
    return {"Authorization": f"Bearer {json.loads(answer.output)['token']}"}


def _updates(store) -> list[AuditEntry]:
    stmt = select(AuditEntry).where(AuditEntry.store_id == store.id, AuditEntry.action == "settings.update")
    return list(db.session.scalars(stmt))


CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def _signed_in(dash):
    store = add_store("woocommerce", name="Woo Shop")
    client = dash.test_client()
    assert client.get(login_link(dash, store)).status_code == 303
    page = client.get("/app/programmes")
    assert page.status_code == 200
    return store, client, CSRF.search(page.text)[1]


def _form(client, token, **fields):
    """The loyalty form as the page shows it, with `fields` changed."""
    page = client.get("/app/programmes").text
    section = page.split('id="programme-loyalty"', 1)[1].split("</form>", 1)[0]
    data = {}
    for name, value in re.findall(r'<input id="[^"]+" name="(loyalty-[^"]+)" type="text" value="([^"]*)"', section):
        data[name] = value
    for name in re.findall(r'name="(loyalty-[^"]+)" type="checkbox" value="1" checked', section):
        data[name] = "1"
    for name, options in re.findall(r'<select id="[^"]+" name="(loyalty-[^"]+)"[^>]*>(.*?)</select>', section, re.S):
        chosen = re.search(r'<option value="([^"]*)" selected', options) or re.search(
            r'<option value="([^"]*)"', options
        )
        data[name] = chosen[1]
    data["loyalty-rewards[]"] = data["loyalty-tiers[]"] = ""
    data.update(fields)
    data["csrf_token"] = token
    return data


def test_the_page_shows_every_programme_with_its_stored_values(dash, ctx):
    store, client, _ = _signed_in(dash)
    page = client.get("/app/programmes").text
    for key in ("loyalty", "referrals", "reviews"):
        assert f'id="programme-{key}"' in page
    assert 'name="loyalty-actions.signup" type="text" value="50"' in page
    assert 'sandbox="allow-scripts"' in page and "widget.js" in page
    # The stored settings' preview comes with the page (no first round trip): the widget's answers and the notes.
    assert "data-initial=" in page and "<li>An order of 120.00 EUR earns 120 points.</li>" in page


def test_a_save_is_validated_saved_audited_and_redirected(dash, ctx):
    store, client, token = _signed_in(dash)
    answer = client.post(
        "/app/programmes/loyalty",
        data=_form(
            client,
            token,
            **{
                "loyalty-points_per_unit.default": "2.5",
                "loyalty-rewards[0].id": "five",
                "loyalty-rewards[0].type": "fixed_amount",
                "loyalty-rewards[0].points": "500",
                "loyalty-rewards[0].value": "5",
                "loyalty-rewards[0].currency": "EUR",
            },
        ),
    )
    assert answer.status_code == 303 and answer.headers["Location"].startswith("/app/programmes?saved=loyalty")
    db.session.expire_all()
    saved = db.session.get(Store, store.id).settings["loyalty"]
    assert saved["points_per_unit"]["default"] == "2.5"
    assert saved["rewards"] == [{"id": "five", "type": "fixed_amount", "points": 500, "value": "5", "currency": "EUR"}]
    (row,) = _updates(store)
    assert row.action == "settings.update" and row.target == "loyalty" and row.actor_kind == "dashboard_link"
    assert row.diff["loyalty.points_per_unit.default"] == [None, "2.5"]
    assert 'data-saved="loyalty"' in client.get(answer.headers["Location"]).text


@pytest.mark.parametrize(
    "fields, api_patch, field",
    [
        ({"loyalty-actions.signup": "-3"}, {"actions": {"signup": -3}}, "actions.signup"),
        ({"loyalty-return_window_days": "12x"}, {"return_window_days": "12x"}, "return_window_days"),
        (
            {"loyalty-points_per_unit.default": "lots"},
            {"points_per_unit": {"default": "lots"}},
            "points_per_unit.default",
        ),
    ],
)
def test_the_same_refusal_as_the_admin_api(dash, ctx, fields, api_patch, field):
    store, client, token = _signed_in(dash)
    api = dash.test_client().patch("/admin/api/v1/loyalty/settings", json=api_patch, headers=admin_headers(dash, store))
    assert api.status_code == 422 and api.json["field"] == field
    answer = client.post("/app/programmes/loyalty", data=_form(client, token, **fields))
    assert answer.status_code == 422
    beside = re.search(
        rf'data-field="loyalty-{re.escape(field)}".*?<p class="ppe-field-error" id="[^"]+">([^<]*)</p>',
        answer.text,
        re.S,
    )
    assert beside is not None and beside[1] == api.json["message"]
    assert "aria-invalid" in answer.text
    db.session.expire_all()
    assert "loyalty" not in (db.session.get(Store, store.id).settings or {})
    assert _updates(store) == []


@pytest.mark.parametrize(
    "key, fields, api_patch, field",
    [
        (
            "referrals",
            {"referrals-friend_discount.value": "150"},
            {"friend_discount": {"value": "150"}},
            "friend_discount.value",
        ),
        ("reviews", {"reviews-auto_publish_threshold": "9"}, {"auto_publish_threshold": 9}, "auto_publish_threshold"),
    ],
)
def test_referrals_and_reviews_refuse_as_their_admin_api(dash, ctx, key, fields, api_patch, field):
    store, client, token = _signed_in(dash)
    api = dash.test_client().patch(f"/admin/api/v1/{key}/settings", json=api_patch, headers=admin_headers(dash, store))
    assert api.status_code == 422 and api.json["field"] == field
    answer = client.post(f"/app/programmes/{key}", data={"csrf_token": token, **fields})
    assert answer.status_code == 422
    beside = re.search(
        rf'data-field="{key}-{re.escape(field)}".*?<p class="ppe-field-error" id="[^"]+">([^<]*)</p>', answer.text, re.S
    )
    assert beside is not None and beside[1] == api.json["message"]


def test_the_preview_answers_the_widget_and_writes_nothing(dash, ctx):
    store, client, token = _signed_in(dash)
    writes: list[str] = []

    def seen(conn, cursor, statement, *args):
        if statement.lstrip().split(None, 1)[0].upper() in ("INSERT", "UPDATE", "DELETE"):
            writes.append(statement)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", seen)
    try:
        base = _form(
            client,
            token,
            **{
                "loyalty-points_per_unit.default": "3",
                "loyalty-tiers[0].name": "Gold",
                "loyalty-tiers[0].threshold": "1000",
                "loyalty-tiers[0].basis": "points_earned",
                "loyalty-tiers[0].window": "lifetime",
                "loyalty-tiers[0].multiplier": "2",
                "reviews-auto_publish_threshold": "4",
                "referrals-enabled": "1",
                "reviews-enabled": "1",
            },
        )
        answer = client.post("/app/programmes/preview", data=base)
        assert answer.status_code == 200, answer.text
        widget = answer.json["answers"]
        earn = next(a for a in widget["/me/activity"]["activity"] if a["kind"] == "earn")
        assert earn["points"] == 360  # 120.00 x 3, the earn rule's own arithmetic
        assert widget["/me/balance"]["progress"]["tier"] == "Gold"
        assert widget["/products/sample/reviews/summary"]["count"] == 3  # the 3-star and 2-star ones are held
        assert widget["/me/referral"]["share_url"].endswith("/ref/SAMPLE2024")
        # A refused value: answered beside the answers, previewed with the stored value.
        bad = client.post("/app/programmes/preview", data={**base, "loyalty-actions.signup": "-1"})
        assert bad.json["errors"] == {"loyalty-actions.signup": "must be between 0 and 1000000"}
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert writes == []
    db.session.expire_all()
    assert "loyalty" not in (db.session.get(Store, store.id).settings or {})
    assert _updates(store) == []


def test_inside_the_shopify_admin_the_staff_user_is_the_actor(dash, ctx, monkeypatch):
    store = add_store("shopify", domain=SHOP)
    token = session_token(SHOP)
    answer = dash.test_client().post(
        "/app/programmes/reviews",
        data={"reviews-enabled": "1", "reviews-delay_days": "3"},
        headers={"Authorization": f"Bearer {token}", "X-PPE-Fragment": "1"},
    )
    assert answer.status_code == 303, answer.text
    (row,) = _updates(store)
    assert (row.actor_kind, row.actor_id) == ("shopify_user", "42")
    assert row.diff["reviews.delay_days"] == [None, 3]


def test_the_pending_points_wording_is_set_per_language_on_the_page(dash, ctx):
    """Loyalty's `pending_text` (the Shopify blocks' words for points in the return window), one field per shipped
    language; a blank one is removed (the block's own words), a bad placeholder refused beside its field."""
    from app.loyalty.settings import get_settings

    store, client, token = _signed_in(dash)
    page = client.get("/app/programmes").text
    for language in ("en", "pl", "hu", "lv", "kk", "th"):
        assert f'name="loyalty-pending_text.{language}"' in page
    wording = "Punkty za {days} dni"
    answer = client.post("/app/programmes/loyalty", data=_form(client, token, **{"loyalty-pending_text.pl": wording}))
    assert answer.status_code == 303
    db.session.expire_all()
    assert get_settings(db.session.get(Store, store.id)).pending_text == {"pl": wording}
    assert f'name="loyalty-pending_text.pl" type="text" value="{wording}"' in client.get("/app/programmes").text
    refused = client.post("/app/programmes/loyalty", data=_form(client, token, **{"loyalty-pending_text.en": "{x}"}))
    assert refused.status_code == 422 and 'id="f-loyalty-pending_text-en-error"' in refused.text
    cleared = client.post("/app/programmes/loyalty", data=_form(client, token, **{"loyalty-pending_text.pl": ""}))
    assert cleared.status_code == 303
    db.session.expire_all()
    assert get_settings(db.session.get(Store, store.id)).pending_text == {}
