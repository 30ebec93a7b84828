"""Loyalty admin API: settings round trip and 422s, the customer view, adjustments (idempotent), cross-store refusal."""

from __future__ import annotations

import json

import pytest

from app.extensions import db
from app.loyalty.api import check_invariants
from tests.helpers import add_store
from tests.loyalty.conftest import ann, apply, customer, order_event

TIERS = [
    {"name": "Silver", "threshold": "50", "basis": "points_earned", "window": "lifetime", "multiplier": "1.5"},
    {"name": "Gold", "threshold": "500", "basis": "amount_spent", "window": "rolling_12m", "multiplier": "2"},
]


def _token(app, store) -> dict[str, str]:
    issued = json.loads(app.test_cli_runner().invoke(args=["stores", "admin-token", str(store.id)]).output)
    return {"Authorization": f"Bearer {issued['token']}"}


def test_settings_round_trip(app, client, ctx):
    store = add_store("woocommerce", currency="EUR")
    auth = _token(app, store)
    shown = client.get("/admin/api/v1/loyalty/settings", headers=auth)
    assert shown.status_code == 200 and shown.json["tiers"] == [] and shown.json["points_per_unit"] == {"default": "1"}
    patched = client.patch(
        "/admin/api/v1/loyalty/settings", headers=auth, json={"tiers": TIERS, "points_per_unit": {"EUR": "2"}}
    )
    assert patched.status_code == 200, patched.json
    again = client.get("/admin/api/v1/loyalty/settings", headers=auth).json
    assert again["tiers"] == TIERS and again["points_per_unit"] == {"default": "1", "EUR": "2"}
    assert again["actions"]["signup"] == 50  # merged, not replaced
    assert client.get("/admin/api/v1/loyalty/settings").status_code == 401


def test_a_currency_rate_is_removed_with_null(app, client, ctx):
    store = add_store("woocommerce", currency="EUR")
    auth = _token(app, store)
    patch = {"points_per_unit": {"JPY": "0.01", "USD": "2"}}
    assert client.patch("/admin/api/v1/loyalty/settings", headers=auth, json=patch).status_code == 200
    removed = client.patch("/admin/api/v1/loyalty/settings", headers=auth, json={"points_per_unit": {"JPY": None}})
    assert removed.status_code == 200 and removed.json["points_per_unit"] == {"default": "1", "USD": "2"}
    assert client.get("/admin/api/v1/loyalty/settings", headers=auth).json["points_per_unit"] == {
        "default": "1",
        "USD": "2",
    }
    assert "JPY" not in store.settings["loyalty"]["points_per_unit"]  # not kept as null
    patch = {"points_per_unit": {"default": "3"}}
    assert client.patch("/admin/api/v1/loyalty/settings", headers=auth, json=patch).status_code == 200
    patch = {"points_per_unit": {"default": None}}  # the stored default removed: the programme's own again
    reset = client.patch("/admin/api/v1/loyalty/settings", headers=auth, json=patch)
    assert reset.status_code == 200 and reset.json["points_per_unit"] == {"default": "1", "USD": "2"}


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({"basis": "gross"}, "basis"),
        ({"points_per_unit": {"EUR": 0.5}}, "points_per_unit.EUR"),
        ({"tiers": [{**TIERS[0], "window": "forever"}]}, "tiers[0].window"),
        ({"tiers": [{**TIERS[0], "reward_points": -1}]}, "tiers[0].reward_points"),
        ({"tiers": [TIERS[0], TIERS[0]]}, "tiers"),
        ({"colour": "red"}, "loyalty"),
        (["not", "an", "object"], "loyalty"),
    ],
)
def test_invalid_settings_are_422_with_the_field(app, client, ctx, patch, field):
    store = add_store("woocommerce")
    auth = _token(app, store)
    answer = client.patch("/admin/api/v1/loyalty/settings", headers=auth, json=patch)
    assert answer.status_code == 422
    assert answer.json["field"] == field and answer.json["message"]
    assert client.get("/admin/api/v1/loyalty/settings", headers=auth).json["basis"] == "subtotal"  # nothing saved


def test_customer_view_shows_parts_tier_progress_and_rules(app, client, ctx):
    store = add_store("woocommerce", currency="EUR")
    auth = _token(app, store)
    client.patch("/admin/api/v1/loyalty/settings", headers=auth, json={"tiers": TIERS})
    apply(store, order_event("1", total="80.00"), order_event("2", total="20.00"))
    who = customer()
    view = client.get(f"/admin/api/v1/customers/{who.id}/loyalty", headers=auth)
    assert view.status_code == 200
    body = view.json
    assert body["balance"]["total"] == 80 + 30 and body["balance"]["pending"] == 110  # order 2 earned at x1.5
    assert body["tier"]["name"] == "Silver" and body["tier"]["multiplier"] == "1.5"
    assert body["tier"]["next"] == {
        "tier": "Gold",
        "basis": "amount_spent",
        "window": "rolling_12m",
        "threshold": "500",
        "current": "100",
        "remaining": "400",
    }
    assert [h["to"] for h in body["tier"]["history"]] == ["Silver"]
    ledger = {r["source_key"]: r for r in body["ledger"]}
    assert ledger["order:2:earn"]["rule"]["multiplier"] == "1.5" and ledger["order:1:earn"]["rule"]["tier"] == ""
    report = client.get("/admin/api/v1/loyalty/report", headers=auth).json
    assert report["currencies"][0]["points"]["outstanding"] == 110

    shown = json.loads(
        app.test_cli_runner().invoke(args=["loyalty", "customer", str(store.id), "ann@example.com"]).output
    )
    assert shown["balance"] == body["balance"] and shown["tier"]["name"] == "Silver"
    by_id = app.test_cli_runner().invoke(args=["loyalty", "customer", str(store.id), f"#{who.id}"])
    assert json.loads(by_id.output)["customer"]["id"] == who.id


def test_adjust_is_idempotent_and_validated(app, client, ctx):
    store = add_store("woocommerce")
    auth = _token(app, store)
    apply(store, order_event("1", total="10.00"))
    who = customer()
    url = f"/admin/api/v1/customers/{who.id}/loyalty/adjust"
    body = {"points": 40, "reason": "goodwill: late parcel", "idempotency_key": "ticket-77"}
    first = client.post(url, headers=auth, json=body)
    assert first.status_code == 201 and first.json["created"] is True
    assert first.json["row"]["source_key"] == "adjust:ticket-77" and first.json["row"]["kind"] == "adjust"
    again = client.post(url, headers=auth, json=body)
    assert (
        again.status_code == 200
        and again.json["created"] is False
        and again.json["row"]["id"] == first.json["row"]["id"]
    )
    assert client.post(url, headers=auth, json={**body, "points": 41}).status_code == 409
    view = client.get(f"/admin/api/v1/customers/{who.id}/loyalty", headers=auth).json
    assert view["balance"]["spendable"] == 40 and view["balance"]["total"] == 50  # order points still pending
    too_much = client.post(url, headers=auth, json={"points": -41, "reason": "x", "idempotency_key": "k2"})
    assert too_much.status_code == 422 and too_much.json["field"] == "points"
    for bad, field in (
        ({**body, "points": 0}, "points"),
        ({**body, "points": 1.5}, "points"),
        ({**body, "points": True}, "points"),
        ({**body, "reason": ""}, "reason"),
        ({**body, "idempotency_key": ""}, "idempotency_key"),
    ):
        answer = client.post(url, headers=auth, json=bad)
        assert (answer.status_code, answer.json["field"]) == (422, field), bad
    assert (
        client.post(url, headers=auth, json={"points": -40, "reason": "undo", "idempotency_key": "k3"}).status_code
        == 201
    )
    assert check_invariants(db.session, store) == []


def test_another_stores_customer_is_not_found(app, client, ctx):
    mine = add_store("woocommerce")
    theirs = add_store("shopify")
    apply(theirs, order_event("1", total="10.00", customer=ann("9", "zed@example.com")))
    stranger = customer("9")
    auth = _token(app, mine)
    assert client.get(f"/admin/api/v1/customers/{stranger.id}/loyalty", headers=auth).status_code == 404
    body = {"points": 5, "reason": "x", "idempotency_key": "k"}
    adjust = client.post(f"/admin/api/v1/customers/{stranger.id}/loyalty/adjust", headers=auth, json=body)
    assert adjust.status_code == 404
    assert client.get(f"/admin/api/v1/customers/{stranger.id}/loyalty", headers=_token(app, theirs)).status_code == 200
    assert client.get("/admin/api/v1/customers/999999/loyalty", headers=auth).status_code == 404
