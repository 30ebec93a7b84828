"""Review settings have a command (`flask reviews settings show|set`) and admin endpoints
(`GET|PATCH /admin/api/v1/reviews/settings`), validated like loyalty's: a patch is merged, a bad value is
refused with the field it names (422 / exit 1) and nothing is saved."""

from __future__ import annotations

import json

import pytest

from app.extensions import db
from app.reviews.settings import review_settings
from app.stores.models import Store
from tests.helpers import add_store


def _token(app, store) -> dict[str, str]:
    issued = json.loads(app.test_cli_runner().invoke(args=["stores", "admin-token", str(store.id)]).output)
    return {"Authorization": f"Bearer {issued['token']}"}


def _stored(store_id: int):
    db.session.expire_all()
    return review_settings(db.session.get(Store, store_id))


def test_admin_round_trip_merges_and_applies(app, client, ctx):
    store = add_store("woocommerce")
    auth = _token(app, store)
    shown = client.get("/admin/api/v1/reviews/settings", headers=auth)
    assert shown.status_code == 200 and shown.json["delay_days"] == 7 and shown.json["mode"] == "order"
    patched = client.patch("/admin/api/v1/reviews/settings", headers=auth, json={"delay_days": 3})
    assert patched.status_code == 200, patched.json
    again = client.patch("/admin/api/v1/reviews/settings", headers=auth, json={"mode": "shipment"}).json
    assert (again["delay_days"], again["mode"], again["max_photos"]) == (3, "shipment", 3)  # merged, not replaced
    assert client.get("/admin/api/v1/reviews/settings", headers=auth).json == again
    stored = _stored(store.id)
    assert (stored.delay_days, stored.mode) == (3, "shipment")  # what the schedule reads
    assert client.get("/admin/api/v1/reviews/settings").status_code == 401


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({"delay_days": 500}, "delay_days"),
        ({"delay_days": "3"}, "delay_days"),
        ({"enabled": "yes"}, "enabled"),
        ({"mode": "weekly"}, "mode"),
        ({"incentive": "x" * 201}, "incentive"),
        ({"colour": "red"}, "colour"),
        (["not", "an", "object"], "reviews"),
    ],
)
def test_admin_refuses_a_bad_value_with_its_field(app, client, ctx, patch, field):
    store = add_store("shopify")
    auth = _token(app, store)
    answer = client.patch("/admin/api/v1/reviews/settings", headers=auth, json=patch)
    assert answer.status_code == 422, answer.json
    assert answer.json["field"] == field and answer.json["message"]
    assert (store.settings or {}).get("reviews") is None
    assert _stored(store.id).delay_days == 7  # nothing saved


def test_the_command_shows_sets_and_refuses(app, ctx):
    store = add_store("shopify")
    runner = app.test_cli_runner()
    shown = runner.invoke(args=["reviews", "settings", "show", str(store.id)])
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.output)["auto_publish_threshold"] == 4
    done = runner.invoke(args=["reviews", "settings", "set", str(store.id), "--json", '{"auto_publish_threshold": 6}'])
    assert done.exit_code == 0, done.output
    assert json.loads(done.output)["auto_publish_threshold"] == 6
    assert _stored(store.id).auto_publish_threshold == 6
    for bad in ('{"reminder_days": 0}', "not json", "[1]"):
        refused = runner.invoke(args=["reviews", "settings", "set", str(store.id), "--json", bad])
        assert refused.exit_code != 0 and "Traceback" not in refused.output, refused.output
    assert _stored(store.id).reminder_days == 5 and _stored(store.id).auto_publish_threshold == 6
