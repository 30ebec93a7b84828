"""Referral settings in the admin API (`GET|PATCH /admin/api/v1/referrals/settings`), validated as
`flask referrals settings` validates them: a patch is merged, a bad value is 422 with its field, nothing saved,
and a store never sees or changes another's."""

from __future__ import annotations

import json

import pytest

from app.extensions import db
from app.referrals.settings import get_settings
from app.stores.models import Store
from tests.helpers import add_store

URL = "/admin/api/v1/referrals/settings"


def _token(app, store) -> dict[str, str]:
    issued = json.loads(app.test_cli_runner().invoke(args=["stores", "admin-token", str(store.id)]).output)
    return {"Authorization": f"Bearer {issued['token']}"}


def _stored(store_id: int):
    db.session.expire_all()
    return get_settings(db.session.get(Store, store_id))


def test_round_trip_merges_and_applies(app, client, ctx):
    store = add_store("woocommerce")
    auth = _token(app, store)
    shown = client.get(URL, headers=auth)
    assert shown.status_code == 200 and shown.json["reward"]["points"] == 500 and shown.json["enabled"] is True
    patched = client.patch(URL, headers=auth, json={"reward": {"points": 750}, "friend_discount": {"value": "15"}})
    assert patched.status_code == 200, patched.json
    body = patched.json
    assert body["reward"]["points"] == 750 and body["reward"]["type"] == "points"  # merged, not replaced
    assert body["friend_discount"] == {**shown.json["friend_discount"], "value": "15"}
    assert client.get(URL, headers=auth).json == body
    stored = _stored(store.id)
    assert stored.reward_points == 750 and str(stored.friend_discount.value) == "15"  # what attribution reads
    assert client.get(URL).status_code == 401


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({"friend_discount": {"value": 15.5}}, "friend_discount.value"),
        ({"friend_discount": {"kind": "bogof"}}, "friend_discount.kind"),
        ({"friend_discount": {"kind": "percentage", "value": "120"}}, "friend_discount.value"),
        ({"reward": {"type": "cash"}}, "reward.type"),
        ({"velocity": {"hours": 0}}, "velocity.hours"),
        ({"enabled": "yes"}, "enabled"),
        ({"colour": "red"}, "referrals"),
        (["not", "an", "object"], "referrals"),
    ],
)
def test_a_bad_value_is_422_with_its_field(app, client, ctx, patch, field):
    store = add_store("shopify")
    answer = client.patch(URL, headers=_token(app, store), json=patch)
    assert answer.status_code == 422, answer.json
    assert answer.json["field"] == field and answer.json["message"]
    db.session.expire_all()
    assert "referrals" not in (db.session.get(Store, store.id).settings or {})  # nothing saved
    assert _stored(store.id).reward_points == 500


def test_a_store_sees_and_changes_only_its_own(app, client, ctx):
    mine, theirs = add_store("woocommerce"), add_store("shopify")
    assert client.patch(URL, headers=_token(app, theirs), json={"auto_create": True}).status_code == 200
    assert client.get(URL, headers=_token(app, mine)).json["auto_create"] is False
    assert _stored(mine.id).auto_create is False and _stored(theirs.id).auto_create is True
