"""Campaigns (docs/campaigns.md): a win-back to a generated store's lapsed segment sends exactly once per consenting
member, with the fan-out, batch and coupon jobs duplicated and retried, and makes exactly one coupon per customer
in the stand-in store; a recurring campaign sends only to who entered the segment since the last run or was never
sent; the admin API's validation, preview, counts, cancel and store scoping. The stores' side (a WooCommerce
store's quiet hours, an uninstall mid-run): test_campaign_stores.py."""

from __future__ import annotations

import random
from collections import Counter
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.extensions import db
from app.platform.queue import get_queue
from tests.campaigns.conftest import WIN_BACK, admin_auth, generate_history, run_queue
from tests.helpers import SHOP, add_store, shopify_standin
from tests.messaging.conftest import Clock


def test_a_win_back_sends_once_per_consenting_lapsed_customer_under_duplicated_jobs(app, client, monkeypatch):
    from app.campaigns import runs
    from app.campaigns.models import CampaignBatch, CampaignRun, CampaignSend
    from app.campaigns.tasks import tick
    from app.messaging.api import Message
    from app.stores.models import Store

    clock = Clock()
    monkeypatch.setitem(app.config, "MAIL_CLOCK", clock)
    monkeypatch.setattr(runs, "BATCH_SIZE", 4)  # many batches from a small store
    monkeypatch.setattr(runs, "PAGES_PER_JOB", 3)  # and a fan-out handed over between jobs
    with shopify_standin(app, monkeypatch) as server:
        with app.app_context():
            store = db.session.merge(add_store("shopify", currency="USD"))
            kinds = generate_history(store, clock.now, random.Random(24), 40)
            auth = admin_auth(db.session.get(Store, store.id))
        assert len(kinds["consenting_lapsed"]) >= 5 and len(kinds["lapsed"]) > len(kinds["consenting_lapsed"])
        preview = client.post("/admin/api/v1/campaigns/preview", json={"segment": "lapsed"}, headers=auth).json
        assert preview == {"audience": len(kinds["lapsed"]), "eligible": len(kinds["consenting_lapsed"])}
        created = client.post("/admin/api/v1/campaigns", json=WIN_BACK, headers=auth)
        assert created.status_code == 201, created.json
        campaign_id = created.json["id"]

        tick(app)
        tick(app)  # a second scheduler pass starts nothing twice
        with app.app_context():
            [run] = db.session.scalars(select(CampaignRun)).all()
            assert run.run == 1
            queue = get_queue()
            for _ in range(2):  # the fan-out job delivered twice more (RQ retries, a lost-lease re-claim)
                queue.enqueue("app.campaigns.tasks.fan_out", run.id, None)
        run_queue(app)
        with app.app_context():
            batches = db.session.scalars(select(CampaignBatch)).all()
            assert len(batches) == -(-len(kinds["lapsed"]) // 4)  # each page written once
            for batch in batches:  # every batch job, twice more
                queue.enqueue("app.campaigns.tasks.send_batch", batch.id, None)
                queue.enqueue("app.campaigns.tasks.send_batch", batch.id, batch.attempts)
            for send in db.session.scalars(select(CampaignSend)):  # and every coupon job
                queue.enqueue("app.campaigns.tasks.create_coupon", send.id, None)
        run_queue(app)
        clock.advance(3600)
        tick(app)  # claims nothing left pending; closes the run
        run_queue(app)

        with app.app_context():
            sends = db.session.scalars(select(CampaignSend)).all()
            by_customer = Counter(s.customer_id for s in sends)
            assert set(by_customer) == kinds["lapsed"] and set(by_customer.values()) == {1}
            sent = {s.customer_id for s in sends if s.status == "queued"}
            assert sent == kinds["consenting_lapsed"]
            assert {s.customer_id for s in sends if s.status == "skipped_consent"} == kinds["lapsed"] - sent
            messages = db.session.scalars(select(Message).where(Message.template == "campaign_win_back")).all()
            assert sorted(m.customer_id for m in messages) == sorted(sent)  # exactly once each
            assert {m.purpose for m in messages} == {"marketing"}
            # One coupon per consenting customer in the store, the code the store holds is the one mailed.
            discounts = server.state(SHOP).writeback.discounts
            assert len(discounts) == len(sent)
            mailed = {m.context["code"].upper() for m in messages}
            assert mailed == set(discounts)
            stored = next(iter(discounts.values()))["input"]
            assert stored["usageLimit"] == 1 and stored["customerGets"]["value"] == {"percentage": 0.15}
            assert db.session.get(CampaignRun, run.id).status == "done"
        answer = client.get(f"/admin/api/v1/campaigns/{campaign_id}", headers=auth).json
        [counts] = answer["runs"]
        assert counts["skipped_consent"] == len(kinds["lapsed"]) - len(sent)
        assert counts["pending"] + counts["held_quiet_hours"] + counts["sent"] == len(sent)
        assert answer["status"] == "finished"


def test_a_recurring_campaign_sends_only_to_who_entered_or_was_never_sent(app, client, monkeypatch):
    from app.campaigns.models import CampaignSend
    from app.campaigns.tasks import tick
    from app.records.customers import refresh_totals
    from app.records.models import Customer, Order
    from app.stores.models import Store

    clock = Clock()
    monkeypatch.setitem(app.config, "MAIL_CLOCK", clock)
    with app.app_context():
        store = db.session.merge(add_store("shopify", currency="USD"))
        people = []
        for i in range(4):
            c = Customer(store_id=store.id, platform_id=str(500 + i), email=f"r{i}@example.com",
                         email_key=f"r{i}@example.com", accepts_marketing=i != 3,
                         tags=",vip," if i < 2 else "")  # fmt: skip
            db.session.add(c)
            db.session.flush()
            db.session.add(Order(store_id=store.id, platform_id=f"r{i}", customer_id=c.id, currency="USD",
                                 total_price=Decimal("10"), subtotal_price=Decimal("10"), placed_at=clock.now,
                                 platform_updated_at=clock.now))  # fmt: skip
            db.session.flush()
            refresh_totals(db.session, store, c)
            people.append(c.id)
        db.session.commit()
        auth = admin_auth(db.session.get(Store, store.id))
    segment = {"key": "vips", "name": "VIPs", "conditions": [{"field": "tag", "op": "has", "value": "vip"}]}
    assert client.post("/admin/api/v1/segments", json=segment, headers=auth).status_code == 201
    body = {"name": "Thanks", "segment": "vips", "message": {"kind": "thanks"}, "schedule": {"every_days": 7}}
    assert client.post("/admin/api/v1/campaigns", json=body, headers=auth).status_code == 201

    def run_once() -> list[tuple[int, int, str]]:
        tick(app)
        run_queue(app)
        with app.app_context():
            rows = db.session.scalars(select(CampaignSend).order_by(CampaignSend.run, CampaignSend.customer_id))
            return [(s.run, s.customer_id, s.status) for s in rows]

    def set_tags(index: int, tags: str) -> None:
        with app.app_context():
            db.session.get(Customer, people[index]).tags = tags
            db.session.commit()

    assert run_once() == [(1, people[0], "queued"), (1, people[1], "queued")]
    clock.advance(7 * 86400)
    set_tags(2, ",vip,")  # entered the segment
    set_tags(3, ",vip,")  # entered too, but no consent: recorded, nothing sent
    assert run_once()[2:] == [(2, people[2], "queued"), (2, people[3], "skipped_consent")]
    clock.advance(7 * 86400)
    set_tags(0, "")  # left...
    # Nobody entered; the one never sent is looked at again (never sent), and still has no consent.
    assert run_once()[4:] == [(3, people[3], "skipped_consent")]
    clock.advance(7 * 86400)
    set_tags(0, ",vip,")  # ...and came back: entered since the last run
    assert run_once()[5:] == [(4, people[0], "queued"), (4, people[3], "skipped_consent")]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"segment": "nope"}, "segment"),
        ({"message": {"kind": "win_back"}}, "message.coupon"),
        ({"message": {"kind": "win_back", "coupon": {"kind": "percentage", "value": "150"}}}, "message.coupon.value"),
        ({"message": {"kind": "text", "texts": {"pl": {"subject": "Hej", "body": "x"}}}}, "message.texts"),
        ({"message": {"kind": "text", "texts": {"en": {"subject": "a\nb", "body": "x"}}}}, "message.texts.en.subject"),
        ({"schedule": {"every_days": 0}}, "schedule.every_days"),
        ({"schedule": {"at": "2027-03-01T10:00:00"}}, "schedule.at"),
    ],
)
def test_a_refused_campaign_names_its_field(app, client, change, field):
    from app.stores.models import Store

    with app.app_context():
        store = db.session.merge(add_store("shopify", currency="USD"))
        db.session.commit()
        auth = admin_auth(db.session.get(Store, store.id))
    answer = client.post("/admin/api/v1/campaigns", json={**WIN_BACK, **change}, headers=auth)
    assert answer.status_code == 422 and answer.json["field"] == field


def test_cancel_and_store_scoping(app, client):
    from app.campaigns.tasks import tick
    from app.stores.models import Store

    with app.app_context():
        store = db.session.merge(add_store("shopify", currency="USD"))
        other = db.session.merge(add_store("woocommerce"))
        db.session.commit()
        auth, theirs = admin_auth(db.session.get(Store, store.id)), admin_auth(db.session.get(Store, other.id))
    text = {"kind": "text", "texts": {"en": {"subject": "Spring", "body": "New things.\n\nCome and see."}}}
    created = client.post("/admin/api/v1/campaigns", json={**WIN_BACK, "message": text,
                          "schedule": {"at": "2099-01-01T00:00:00Z"}}, headers=auth)  # fmt: skip
    assert created.status_code == 422 and created.json["field"] == "schedule.at"  # not within the next year
    created = client.post("/admin/api/v1/campaigns", json={**WIN_BACK, "message": text,
                          "schedule": {"every_days": 30}}, headers=auth)  # fmt: skip
    assert created.status_code == 201
    path = f"/admin/api/v1/campaigns/{created.json['id']}"
    assert client.get(path, headers=theirs).status_code == 404
    assert client.post(path + "/cancel", headers=theirs).status_code == 404
    assert client.get("/admin/api/v1/campaigns", headers=theirs).json["campaigns"] == []
    cancelled = client.post(path + "/cancel", headers=auth).json
    assert cancelled["status"] == "cancelled" and cancelled["next_run_at"] is None
    tick(app)
    assert client.get(path, headers=auth).json["runs"] == []
    actions = [e["action"] for e in client.get("/admin/api/v1/audit", headers=auth).json["entries"]]
    assert actions[:2] == ["campaign.cancel", "campaign.create"]
