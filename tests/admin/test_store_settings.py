"""Store-wide settings (branding, sender and reply-to, the store's language, the storefront's extra origins):
`GET|PATCH /admin/api/v1/store/settings` and `flask stores settings`, validated by the rule their readers apply,
scoped to the token's store, and seen by the storefront at once in this process."""

from __future__ import annotations

import json

import pytest

from app.extensions import db
from app.messaging.api import branding
from app.messaging.outbox import sender
from app.security import secret_box
from app.stores.models import Store
from app.stores.storefront_keys import ensure_keys
from tests.helpers import add_store

URL = "/admin/api/v1/store/settings"


def _token(app, store) -> dict[str, str]:
    issued = json.loads(app.test_cli_runner().invoke(args=["stores", "admin-token", str(store.id)]).output)
    return {"Authorization": f"Bearer {issued['token']}"}


def _stored(store_id: int) -> Store:
    db.session.expire_all()
    return db.session.get(Store, store_id)


def test_round_trip_merges_and_reaches_the_readers(app, client, ctx):
    store = add_store("woocommerce", name="Ceramika")
    auth = _token(app, store)
    shown = client.get(URL, headers=auth)
    assert shown.status_code == 200, shown.json
    assert shown.json["branding"] == {"primary_color": "#1f2937", "logo_url": None}
    assert shown.json["email"] == {"from_name": None, "from_address": None, "reply_to": None}
    assert shown.json["locale"] is None and shown.json["storefront"]["origins"] == []
    patch = {
        "branding": {"primary_color": "#AA3300", "logo_url": "https://cdn.ceramika.example/logo.png"},
        "email": {"from_name": "Ceramika Ola", "reply_to": "Owner@Ceramika.example"},
        "locale": "pl-PL",
        "storefront": {"origins": ["https://www.ceramika.example/", "https://ceramika.example:8443"]},
    }
    patched = client.patch(URL, headers=auth, json=patch)
    assert patched.status_code == 200, patched.json
    body = patched.json
    assert body["branding"] == {"primary_color": "#aa3300", "logo_url": "https://cdn.ceramika.example/logo.png"}
    assert body["email"] == {"from_name": "Ceramika Ola", "from_address": None, "reply_to": "owner@ceramika.example"}
    assert body["locale"] == "pl"  # stored as the catalogue it matches
    assert body["storefront"]["origins"] == ["https://www.ceramika.example", "https://ceramika.example:8443"]
    assert "https://www.ceramika.example" in body["storefront"]["allowed"]
    # A second patch merges into an object section and replaces a list.
    again = client.patch(
        URL, headers=auth, json={"branding": {"logo_url": None}, "storefront": {"origins": ["https://b.example"]}}
    ).json
    assert again["branding"] == {"primary_color": "#aa3300", "logo_url": None}
    assert again["storefront"]["origins"] == ["https://b.example"] and again["email"]["from_name"] == "Ceramika Ola"
    assert client.get(URL, headers=auth).json == again
    stored = _stored(store.id)
    assert branding(stored.settings)["primary_color"] == "#aa3300"  # what e-mails and shopper pages use
    assert str(sender(stored, "Engine <no-reply@engine.example>")) == "Ceramika Ola <no-reply@engine.example>"
    assert client.patch(URL, headers=auth, json={"locale": None}).json["locale"] is None
    assert "locale" not in _stored(store.id).settings
    assert client.get(URL).status_code == 401


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({"branding": {"logo_url": "http://cdn.example/logo.png"}}, "branding.logo_url"),
        ({"branding": {"logo_url": "javascript:alert(1)"}}, "branding.logo_url"),
        ({"branding": {"logo_url": 'https://x.example/a"onerror="x'}}, "branding.logo_url"),
        ({"branding": {"primary_color": "red;background:url(x)"}}, "branding.primary_color"),
        ({"branding": {"font": "serif"}}, "branding.font"),
        ({"branding": "blue"}, "branding"),
        ({"email": {"from_address": "not an address"}}, "email.from_address"),
        ({"email": {"reply_to": "owner@localhost"}}, "email.reply_to"),
        ({"email": {"from_name": "X\r\nBcc: evil@example.com"}}, "email.from_name"),
        ({"email": {"from_name": "a" * 101}}, "email.from_name"),
        ({"locale": "xx"}, "locale"),
        ({"locale": 7}, "locale"),
        ({"storefront": {"origins": ["http://shop.example"]}}, "storefront.origins"),
        ({"storefront": {"origins": ["https://shop.example/path"]}}, "storefront.origins"),
        ({"storefront": {"origins": ["https://*.shop.example"]}}, "storefront.origins"),
        ({"storefront": {"origins": "https://shop.example"}}, "storefront.origins"),
        ({"storefront": {"origins": [f"https://s{n}.example" for n in range(21)]}}, "storefront.origins"),
        ({"storefront": {"cors": True}}, "storefront.cors"),
        ({"colour": "red"}, "colour"),
        ({}, "settings"),
        (["not", "an", "object"], "settings"),
    ],
)
def test_a_bad_value_is_422_with_its_field_and_nothing_is_saved(app, client, ctx, patch, field):
    store = add_store("shopify")
    auth = _token(app, store)
    # A valid section next to the bad one is not saved either.
    body = {"locale": "hu", **patch} if isinstance(patch, dict) and patch and "locale" not in patch else patch
    answer = client.patch(URL, headers=auth, json=body)
    assert answer.status_code == 422, answer.json
    assert answer.json["error"] == "invalid" and answer.json["field"] == field and answer.json["message"]
    assert _stored(store.id).settings in ({}, None)


def test_a_store_sees_and_changes_only_its_own_settings(app, client, ctx):
    mine = add_store("woocommerce")
    theirs = add_store("shopify")
    assert client.patch(URL, headers=_token(app, theirs), json={"locale": "kk"}).status_code == 200
    assert client.get(URL, headers=_token(app, mine)).json["locale"] is None
    assert client.patch(URL, headers=_token(app, mine), json={"locale": "th"}).status_code == 200
    assert client.get(URL, headers=_token(app, theirs)).json["locale"] == "kk"
    assert _stored(mine.id).settings["locale"] == "th" and _stored(theirs.id).settings["locale"] == "kk"


def test_the_command_shows_sets_and_refuses(app, ctx):
    store = add_store("woocommerce")
    runner = app.test_cli_runner()
    shown = runner.invoke(args=["stores", "settings", str(store.id)])
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.output)["branding"]["primary_color"] == "#1f2937"
    done = runner.invoke(args=["stores", "settings", str(store.id), "--json", '{"email": {"from_name": "Ola"}}'])
    assert done.exit_code == 0, done.output
    assert json.loads(done.output)["email"]["from_name"] == "Ola"
    for bad in ('{"email": {"reply_to": "x"}}', "not json", "[1]", '{"theme": {}}'):
        refused = runner.invoke(args=["stores", "settings", str(store.id), "--json", bad])
        assert refused.exit_code == 1 and "Traceback" not in refused.output, refused.output
    assert _stored(store.id).settings["email"] == {"from_name": "Ola"}


def test_new_origins_reach_the_storefront_at_once_in_this_process(app, client, ctx, monkeypatch):
    monkeypatch.setitem(app.config, "STORE_CACHE_SECONDS", 60.0)  # a snapshot would otherwise live a minute
    store = add_store("shopify")
    keys = ensure_keys(db.session, secret_box(), store)
    db.session.commit()
    url = f"/api/v1/program?store={keys.public_key}"
    origin = "https://www.custom-shop.example"

    def preflight() -> str | None:
        answer = client.options(url, headers={"Origin": origin, "Access-Control-Request-Method": "GET"})
        return answer.headers.get("Access-Control-Allow-Origin")

    assert preflight() is None  # not allowed yet, and the store's snapshot is now cached
    patched = client.patch(URL, headers=_token(app, store), json={"storefront": {"origins": [origin]}})
    assert patched.status_code == 200, patched.json
    assert preflight() == origin
    client.patch(URL, headers=_token(app, store), json={"storefront": {"origins": []}})
    assert preflight() is None
