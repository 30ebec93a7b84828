"""Campaigns and the store they run for (docs/campaigns.md): on the WooCommerce stand-in a win-back in quiet hours is
held with one coupon per customer, and a store uninstalled during a run gets no more messages or coupons."""

from __future__ import annotations

import random

from sqlalchemy import select

from app.extensions import db
from tests.campaigns.conftest import WIN_BACK, admin_auth, generate_history, run_queue
from tests.helpers import SHOP, add_store, shopify_standin
from tests.messaging.conftest import Clock


def test_a_woocommerce_win_back_in_quiet_hours_is_held_with_one_coupon_each(app, client, monkeypatch):
    """The same on the WooCommerce stand-in (a coupon restricted to the customer's e-mail), at 22:00 store time:
    inside the default quiet hours (21:00-08:00), so every message is held, not sent and not dropped."""
    from datetime import UTC, datetime

    from app.campaigns.tasks import tick
    from app.messaging.api import Message
    from app.stores.models import Store
    from tests.helpers import add_woo_store_at, woo_standin

    clock = Clock(datetime(2027, 3, 1, 22, 0, tzinfo=UTC))
    monkeypatch.setitem(app.config, "MAIL_CLOCK", clock)
    with woo_standin(app, monkeypatch, timeout=5) as site:
        with app.app_context():
            store = add_woo_store_at(site)
            kinds = generate_history(db.session.get(Store, store.id), clock.now, random.Random(7), 12)
            auth = admin_auth(db.session.get(Store, store.id))
        assert client.post("/admin/api/v1/campaigns", json=WIN_BACK, headers=auth).status_code == 201
        for _ in range(2):
            tick(app)
            run_queue(app)
        coupons = site.writeback.coupons
        assert len(coupons) == len(kinds["consenting_lapsed"])
        assert all(c["usage_limit"] == 1 and c["discount_type"] == "percent" for c in coupons.values())
        with app.app_context():
            messages = db.session.scalars(select(Message).where(Message.template == "campaign_win_back")).all()
            assert sorted(m.customer_id for m in messages) == sorted(kinds["consenting_lapsed"])
            # WooCommerce stores codes lower-cased and matches them case-insensitively at checkout; the connector
            # read the coupon back and checked it is what was sent (woocommerce_writeback._raise_if_different).
            assert {m.context["code"].lower() for m in messages} == {c["code"] for c in coupons.values()}
            assert all(m.next_attempt_at.hour == 8 for m in messages)  # released at the quiet window's end
            restricted = sorted(e for c in coupons.values() for e in c["email_restrictions"])
            assert restricted == sorted(m.to_address for m in messages)  # each coupon for its customer only
        [counts] = client.get("/admin/api/v1/campaigns", headers=auth).json["campaigns"][0]["runs"]
        assert counts["held_quiet_hours"] == len(kinds["consenting_lapsed"]) and counts["sent"] == 0


def test_a_store_uninstalled_during_a_run_gets_no_more_messages_or_coupons(app, client, monkeypatch):
    """app/uninstalled between the run's fan-out and its batches (their jobs lost, so the tick's claim finds them):
    the platform has revoked our token and the merchant left, so the batches already planned send nothing and make
    no coupon."""
    from app.campaigns import runs, tasks
    from app.campaigns.models import CampaignBatch
    from app.campaigns.tasks import tick
    from app.messaging.api import Message
    from app.stores.models import Store

    clock = Clock()
    monkeypatch.setitem(app.config, "MAIL_CLOCK", clock)
    monkeypatch.setattr(runs, "BATCH_SIZE", 4)
    with shopify_standin(app, monkeypatch) as server:
        with app.app_context():
            store = db.session.merge(add_store("shopify", currency="USD"))
            kinds = generate_history(store, clock.now, random.Random(7), 20)
            auth = admin_auth(db.session.get(Store, store.id))
        assert kinds["consenting_lapsed"]
        assert client.post("/admin/api/v1/campaigns", json=WIN_BACK, headers=auth).status_code == 201
        tick(app)
        real = tasks.enqueue
        monkeypatch.setattr(tasks, "enqueue", lambda kind, *a: kind != "batch" and real(kind, *a))  # lost kicks
        run_queue(app)  # the fan-out plans the batches; their jobs are left to the tick's claim
        monkeypatch.setattr(tasks, "enqueue", real)
        with app.app_context():
            assert db.session.scalars(select(CampaignBatch)).all()
            db.session.get(Store, store.id).status = "uninstalled"
            db.session.commit()
        tick(app)
        run_queue(app)
        with app.app_context():
            assert db.session.scalars(select(Message)).all() == []
            assert {b.status for b in db.session.scalars(select(CampaignBatch))} <= {"done"}
        assert server.state(SHOP).writeback.discounts == {} or not server.state(SHOP).writeback.discounts
