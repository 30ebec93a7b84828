"""Campaigns (docs/campaigns.md): a win-back to a generated store's lapsed segment sends exactly once per consenting
member, with the fan-out, batch and coupon jobs duplicated and retried, and makes exactly one coupon per customer
in the stand-in store; a recurring campaign sends only to who entered the segment since the last run or was never
sent; the admin API's validation, preview, counts, cancel and store scoping."""

from __future__ import annotations

import random
from collections import Counter
from datetime import timedelta
from decimal import Decimal

import pytest
from rq import SimpleWorker
from sqlalchemy import select

from app.extensions import db
from app.platform.queue import get_queue
from tests.helpers import SHOP, add_store, shopify_standin
from tests.messaging.conftest import Clock

COUPON = {"kind": "percentage", "value": "15", "expires_days": 30}
WIN_BACK = {"name": "Come back", "segment": "lapsed", "message": {"kind": "win_back", "coupon": COUPON}}


def _auth(store) -> dict[str, str]:
    from app.admin.auth import issue_admin_token

    return {"Authorization": "Bearer " + issue_admin_token(store)}


def _work(app) -> None:
    with app.app_context():
        queue = get_queue()
        SimpleWorker([queue], connection=queue.connection).work(burst=True)


def _generate(store, now, rng: random.Random, n: int) -> dict[str, set[int]]:
    """A store history: n customers, each with 1-4 orders, some long silent (lapsed), some consenting to
    marketing; which customer is which, for the checks."""
    from app.records.customers import refresh_totals
    from app.records.models import Customer, Order

    kinds: dict[str, set[int]] = {"lapsed": set(), "consenting_lapsed": set(), "recent": set()}
    for i in range(n):
        lapsed = rng.random() < 0.6
        consent = rng.random() < 0.5
        customer = Customer(store_id=store.id, platform_id=str(90000 + i), email=f"c{i}@example.com",
                            email_key=f"c{i}@example.com", first_name=f"C{i}", accepts_marketing=consent)  # fmt: skip
        db.session.add(customer)
        db.session.flush()
        last = rng.randint(400, 700) if lapsed else rng.randint(1, 30)
        for k in range(rng.randint(1, 4)):
            when = now - timedelta(days=last + k * 20)
            db.session.add(Order(store_id=store.id, platform_id=f"{i}-{k}", customer_id=customer.id, currency="USD",
                                 total_price=Decimal("40"), subtotal_price=Decimal("40"), placed_at=when,
                                 platform_updated_at=when))  # fmt: skip
        db.session.flush()
        refresh_totals(db.session, store, customer)
        (kinds["lapsed"] if lapsed else kinds["recent"]).add(customer.id)
        if lapsed and consent:
            kinds["consenting_lapsed"].add(customer.id)
    db.session.commit()
    return kinds


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
            kinds = _generate(store, clock.now, random.Random(24), 40)
            auth = _auth(db.session.get(Store, store.id))
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
        _work(app)
        with app.app_context():
            batches = db.session.scalars(select(CampaignBatch)).all()
            assert len(batches) == -(-len(kinds["lapsed"]) // 4)  # each page written once
            for batch in batches:  # every batch job, twice more
                queue.enqueue("app.campaigns.tasks.send_batch", batch.id, None)
                queue.enqueue("app.campaigns.tasks.send_batch", batch.id, batch.attempts)
            for send in db.session.scalars(select(CampaignSend)):  # and every coupon job
                queue.enqueue("app.campaigns.tasks.create_coupon", send.id, None)
        _work(app)
        clock.advance(3600)
        tick(app)  # claims nothing left pending; closes the run
        _work(app)

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
        auth = _auth(db.session.get(Store, store.id))
    segment = {"key": "vips", "name": "VIPs", "conditions": [{"field": "tag", "op": "has", "value": "vip"}]}
    assert client.post("/admin/api/v1/segments", json=segment, headers=auth).status_code == 201
    body = {"name": "Thanks", "segment": "vips", "message": {"kind": "thanks"}, "schedule": {"every_days": 7}}
    assert client.post("/admin/api/v1/campaigns", json=body, headers=auth).status_code == 201

    def run_once() -> list[tuple[int, int, str]]:
        tick(app)
        _work(app)
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
        auth = _auth(db.session.get(Store, store.id))
    answer = client.post("/admin/api/v1/campaigns", json={**WIN_BACK, **change}, headers=auth)
    assert answer.status_code == 422 and answer.json["field"] == field


def test_cancel_and_store_scoping(app, client):
    from app.campaigns.tasks import tick
    from app.stores.models import Store

    with app.app_context():
        store = db.session.merge(add_store("shopify", currency="USD"))
        other = db.session.merge(add_store("woocommerce"))
        db.session.commit()
        auth, theirs = _auth(db.session.get(Store, store.id)), _auth(db.session.get(Store, other.id))
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
            kinds = _generate(db.session.get(Store, store.id), clock.now, random.Random(7), 12)
            auth = _auth(db.session.get(Store, store.id))
        assert client.post("/admin/api/v1/campaigns", json=WIN_BACK, headers=auth).status_code == 201
        for _ in range(2):
            tick(app)
            _work(app)
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
            kinds = _generate(store, clock.now, random.Random(7), 20)
            auth = _auth(db.session.get(Store, store.id))
        assert kinds["consenting_lapsed"]
        assert client.post("/admin/api/v1/campaigns", json=WIN_BACK, headers=auth).status_code == 201
        tick(app)
        real = tasks.enqueue
        monkeypatch.setattr(tasks, "enqueue", lambda kind, *a: kind != "batch" and real(kind, *a))  # lost kicks
        _work(app)  # the fan-out plans the batches; their jobs are left to the tick's claim
        monkeypatch.setattr(tasks, "enqueue", real)
        with app.app_context():
            assert db.session.scalars(select(CampaignBatch)).all()
            db.session.get(Store, store.id).status = "uninstalled"
            db.session.commit()
        tick(app)
        _work(app)
        with app.app_context():
            assert db.session.scalars(select(Message)).all() == []
            assert {b.status for b in db.session.scalars(select(CampaignBatch))} <= {"done"}
        assert server.state(SHOP).writeback.discounts == {} or not server.state(SHOP).writeback.discounts
