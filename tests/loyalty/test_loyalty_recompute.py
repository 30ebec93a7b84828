"""`flask loyalty recompute`: a settings change applied to every account at once, with progress lines."""

from __future__ import annotations

import json

from app.extensions import db
from app.loyalty import recompute
from app.loyalty.settings import update_settings
from app.platform import progress
from tests.helpers import add_store
from tests.loyalty.conftest import account, ann, apply, customer, order_event

SILVER = {"name": "Silver", "threshold": "100", "basis": "points_earned", "window": "lifetime", "multiplier": "1"}


def test_a_lowered_threshold_reaches_every_account_without_a_new_order(app, ctx, monkeypatch):
    store = add_store("shopify", currency="EUR")
    update_settings(db.session, store, {"tiers": [{**SILVER, "threshold": "1000"}]})
    db.session.commit()
    people = [("7001", "ann@example.com", "150.00"), ("7002", "bob@example.com", "120.00"), ("7003", "cy@x.org", "20")]
    for number, (pid, email, total) in enumerate(people):
        apply(store, order_event(str(number), total=total, customer=ann(pid, email)))
    ids = [customer(pid).id for pid, _, _ in people]
    assert [account(store, i).tier for i in ids] == [None, None, None]
    update_settings(db.session, store, {"tiers": [SILVER]})  # 100 points now make Silver
    db.session.commit()
    store_id = store.id
    monkeypatch.setattr(recompute, "CHUNK", 2)
    monkeypatch.setattr(progress, "EVERY_SECONDS", 0.0)

    result = app.test_cli_runner().invoke(args=["loyalty", "recompute", str(store_id)])

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"store_id": store_id, "recomputed": 3}
    db.session.expire_all()
    assert [account(store, i).tier for i in ids] == ["Silver", "Silver", None]
    assert [line.split(";")[0] for line in result.stderr.splitlines()] == [
        "recompute: 0/3 accounts (0%)",
        "recompute: 2/3 accounts (66%)",
        "recompute: 3/3 accounts (100%)",
        "recompute: 3/3 accounts (100%)",
    ]


def test_an_unknown_store_is_refused(app, ctx):
    result = app.test_cli_runner().invoke(args=["loyalty", "recompute", "nowhere.myshopify.com"])
    assert result.exit_code == 1 and "no store 'nowhere.myshopify.com'" in result.output
