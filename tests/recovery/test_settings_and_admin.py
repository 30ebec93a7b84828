"""The "delivery_updates" and "recovery" sections through `PATCH /admin/api/v1/store/settings` and the command,
refused field by field; the recovery cases in the admin API, scoped to the token's store."""

from __future__ import annotations

import json

from app.extensions import db
from app.recovery import get_settings, open_case
from app.stores.models import Store
from tests.helpers import add_store, shopify_order
from tests.journeys.conftest import post_shopify

URL = "/admin/api/v1/store/settings"


def _token(app, store) -> dict[str, str]:
    issued = json.loads(app.test_cli_runner().invoke(args=["stores", "admin-token", str(store.id)]).output)
    return {"Authorization": f"Bearer {issued['token']}"}


def test_sections_are_validated_and_merged(app, client, ctx):
    store = add_store("shopify")
    auth = _token(app, store)
    shown = client.get(URL, headers=auth).json
    assert shown["delivery_updates"]["enabled"] is False and shown["recovery"]["enabled"] is False
    for bad, field in (
        ({"delivery_updates": {"shipped": "yes"}}, "delivery_updates.shipped"),
        ({"delivery_updates": {"teleported": True}}, "delivery_updates.teleported"),
        ({"recovery": {"coupon": {"kind": "percentage", "value": "150"}}}, "recovery.coupon.value"),
        ({"recovery": {"coupon": {"kind": "fixed_amount", "value": 5.5}}}, "recovery.coupon.value"),
        ({"recovery": {"coupon": {"kind": "bogof"}}}, "recovery.coupon.kind"),
        ({"recovery": {"grace_hours": -1}}, "recovery.grace_hours"),
    ):
        answer = client.patch(URL, headers=auth, json=bad)
        assert answer.status_code == 422 and answer.json["field"] == field, (bad, answer.json)
    good = {"delivery_updates": {"enabled": True, "delivered": False}, "recovery": {"enabled": True}}
    assert client.patch(URL, headers=auth, json=good).status_code == 200
    answer = client.patch(URL, headers=auth, json={"recovery": {"coupon": {"kind": "fixed_amount", "value": "7.5"}}})
    assert answer.json["recovery"]["coupon"] == {"kind": "fixed_amount", "value": "7.5", "expires_days": 60}
    assert answer.json["recovery"]["enabled"] is True and answer.json["delivery_updates"]["delivered"] is False
    out = app.test_cli_runner().invoke(args=["stores", "settings", str(store.id), "--json", '{"recovery": null}'])
    assert out.exit_code == 0, out.output
    db.session.expire_all()
    assert get_settings(db.session.get(Store, store.id)).enabled is False


def test_cases_are_listed_per_store(app, client, ctx):
    mine, theirs = add_store("shopify"), add_store("woocommerce")
    for store in (mine, theirs):
        store.settings = {"recovery": {"enabled": True}}
    db.session.commit()
    post_shopify(client, "orders/create", shopify_order(7500, customer_id=7501, email="x@example.com"))
    from tests.helpers import process_all

    process_all(app)
    store = db.session.get(Store, mine.id)
    case = open_case(db.session, store, order_id="7500", customer_id=None, reason="manual", source="admin-test")
    db.session.commit()
    listed = client.get("/admin/api/v1/recovery/cases", headers=_token(app, mine)).json["cases"]
    assert [(c["id"], c["order_id"], c["status"], c["reason"]) for c in listed] == [
        (case.id, "7500", "pending", "manual")
    ]
    assert client.get("/admin/api/v1/recovery/cases", headers=_token(app, theirs)).json["cases"] == []
    assert client.get(f"/admin/api/v1/recovery/cases/{case.id}", headers=_token(app, theirs)).status_code == 404
    assert client.get("/admin/api/v1/recovery/cases?status=lost", headers=_token(app, mine)).status_code == 400
