"""`flask loyalty tiers apply`: a settings change applied to every account at once, with progress lines."""

from __future__ import annotations

from app.extensions import db
from app.loyalty import tier_sweep
from app.loyalty.settings import update_settings
from app.platform import progress
from tests.helpers import add_store
from tests.loyalty.conftest import account, ann, apply, customer, order_event

SILVER = {"name": "Silver", "threshold": "100", "basis": "points_earned", "window": "lifetime", "multiplier": "1"}


def test_a_lowered_threshold_reaches_every_account_with_progress(app, ctx, monkeypatch):
    store = add_store("shopify", currency="EUR")
    update_settings(db.session, store, {"tiers": [{**SILVER, "threshold": "1000"}]})
    db.session.commit()
    people = [("7001", "ann@example.com", "150.00"), ("7002", "bob@example.com", "120.00"), ("7003", "cy@x.org", "20")]
    for number, (pid, email, total) in enumerate(people):
        apply(store, order_event(str(number), total=total, customer=ann(pid, email)))
    ids = [customer(pid).id for pid, _, _ in people]
    assert [account(store, i).tier for i in ids] == [None, None, None]
    store.settings = {**store.settings, "loyalty": {**store.settings["loyalty"], "tiers": [SILVER]}}  # no job
    db.session.commit()
    monkeypatch.setattr(tier_sweep, "CHUNK", 2)
    monkeypatch.setattr(progress, "EVERY_SECONDS", 0.0)

    result = app.test_cli_runner().invoke(args=["loyalty", "tiers", "apply", str(store.id)])

    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert [account(store, i).tier for i in ids] == ["Silver", "Silver", None]
    assert [line.split(";")[0] for line in result.stderr.splitlines()] == [
        "tiers apply: 0/3 accounts (0%)",
        "tiers apply: 2/3 accounts (66%)",
        "tiers apply: 3/3 accounts (100%)",
        "tiers apply: 3/3 accounts (100%)",
    ]


def test_an_unknown_store_is_refused(app, ctx):
    result = app.test_cli_runner().invoke(args=["loyalty", "tiers", "apply", "nowhere.myshopify.com"])
    assert result.exit_code == 1 and "no store 'nowhere.myshopify.com'" in result.output
