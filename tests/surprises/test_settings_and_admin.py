"""The surprises' settings through the admin API: validated field by field (422 naming the field, nothing saved),
the start stamped when the programme is turned on (never patchable), a threshold's segment checked against the
store's segments, the change audited; the list of surprises decided."""

from __future__ import annotations

import json

from sqlalchemy import select

from app.admin.models import AuditEntry
from app.extensions import db
from app.stores.models import Store
from app.surprises.settings import get_settings
from tests.helpers import add_store, process_all, shopify_order
from tests.journeys.conftest import post_shopify
from tests.surprises.conftest import STARTED, enable

URL = "/admin/api/v1/surprises/settings"


def _token(app, store) -> dict[str, str]:
    issued = json.loads(app.test_cli_runner().invoke(args=["stores", "admin-token", str(store.id)]).output)
    return {"Authorization": f"Bearer {issued['token']}"}


def test_settings_are_validated_stamped_and_audited(app, client, ctx):
    store = add_store("shopify", currency="USD")
    auth = _token(app, store)
    db.session.commit()
    assert client.get(URL, headers=auth).json == {"enabled": False, "started_at": None, "thresholds": []}
    refused = {
        "thresholds[0].kind": {"thresholds": [{"order": 2, "kind": "cash"}]},
        "thresholds[0].value": {"thresholds": [{"order": 2, "kind": "percentage", "value": 10.5}]},
        "thresholds[1].order": {
            "thresholds": [{"order": 2, "kind": "free_shipping"}, {"order": 2, "kind": "points", "points": 5}]
        },  # fmt: skip
        "thresholds[0].points": {"thresholds": [{"order": 3, "kind": "points"}]},
        "thresholds[0].segment": {"thresholds": [{"order": 3, "kind": "free_shipping", "segment": "nobody"}]},
        "started_at": {"started_at": "2020-01-01T00:00:00+00:00"},
        "enabled": {"enabled": "yes"},
    }
    for field, patch in refused.items():
        answer = client.patch(URL, headers=auth, json=patch)
        assert answer.status_code == 422 and answer.json["field"] == field, (field, answer.json)
    assert client.get(URL, headers=auth).json["thresholds"] == []  # nothing saved
    good = {"enabled": True, "thresholds": [{"order": 5, "kind": "points", "points": 500, "segment": "vip"},
                                            {"order": 2, "kind": "fixed_amount", "value": "7.5"}]}  # fmt: skip
    answer = client.patch(URL, headers=auth, json=good)
    assert answer.status_code == 200, answer.json
    assert [t["order"] for t in answer.json["thresholds"]] == [2, 5] and answer.json["thresholds"][0]["value"] == "7.5"
    started = answer.json["started_at"]
    assert started is not None
    client.patch(URL, headers=auth, json={"enabled": True})  # already on: the start stays
    assert client.get(URL, headers=auth).json["started_at"] == started
    db.session.expire_all()
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.target == "surprises")).all()
    assert len(entries) == 1  # one change; the no-op is not recorded
    # A hand-edited value the writer would refuse turns the programme off, never a rule nobody chose.
    store = db.session.scalars(select(Store)).one()
    store.settings = {**store.settings, "surprises": {"enabled": True, "thresholds": [{"order": 0, "kind": "x"}]}}
    assert get_settings(store).enabled is False


def test_the_surprises_listed(app, client, ctx):
    store = add_store("shopify", currency="USD")
    enable(store, {"order": 2, "kind": "percentage", "value": "10"})
    auth = _token(app, store)
    db.session.commit()
    for n in (1, 2):
        day = f"2026-11-0{n}T10:00:00-05:00"
        post_shopify(client, "orders/create", shopify_order(8200 + n, customer_id=8200, created_at=day, updated_at=day))
    process_all(app)
    listed = client.get("/admin/api/v1/surprises?status=pending", headers=auth).json["surprises"]
    assert [(s["threshold"], s["order_id"], s["kind"], s["value"]) for s in listed] == [(2, "8202", "percentage", "10")]
    assert client.get("/admin/api/v1/surprises?status=nope", headers=auth).status_code == 400
    assert STARTED.isoformat() == client.get(URL, headers=auth).json["started_at"]
