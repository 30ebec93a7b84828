"""Redemptions in one process: the admin API, the issue job against the stand-in stores (real HTTP), the code's
use on a later order, its refund on cancellation, and failures giving the points back exactly once."""

from __future__ import annotations

import dataclasses

import pytest
from rq import SimpleWorker
from sqlalchemy import select

from app.admin.auth import issue_admin_token
from app.extensions import db
from app.loyalty.api import balance, check_invariants
from app.loyalty.models import PointsLedger, Redemption
from app.loyalty.redemption_tasks import issue_discount
from app.loyalty.redemption_tasks import tick as redemption_tick
from app.loyalty.settings import update_settings
from app.platform.queue import get_queue
from app.platform.types import utcnow
from app.security import secret_box
from app.stores.models.woocommerce import WooStoreState
from app.stores.service import add_store as add_store_service
from app.stores.uninstall import on_uninstalled
from tests.helpers import SHOP, add_store
from tests.loyalty.conftest import ann, apply, customer, customer_event, order_event
from tests.query_audit import audited, origins
from tests.standins.shopify import StandInServer, StandInShopify, admin_schema
from tests.standins.woocommerce import WooStandin

REWARD = {"id": "five-off", "type": "fixed_amount", "points": 40, "value": "5.00", "currency": "USD"}
BIG = {"id": "big", "type": "percentage", "points": 500, "value": "20"}


@pytest.fixture
def standin(app, monkeypatch):
    admin_schema()
    with StandInServer(StandInShopify(api_key="key", api_secret="secret")) as server:
        monkeypatch.setitem(app.config, "SHOPIFY_ADMIN_ORIGIN", server.origin())
        monkeypatch.setitem(app.config, "REDEMPTION_MAX_RETRY_WAIT_SECONDS", 0.5)
        yield server


@pytest.fixture
def site():
    standin = WooStandin().start()
    yield standin
    standin.stop()


def shopify_store(standin):
    token = standin.issue_tokens(SHOP)["access_token"]
    store = add_store_service(db.session, secret_box(), "shopify", SHOP, {"access_token": token}, currency="USD")
    update_settings(db.session, store, {"rewards": [REWARD, BIG]})
    db.session.commit()
    return store


def woo_store(site):
    key, secret = site.add_key()
    creds = {"consumer_key": key, "consumer_secret": secret, "webhook_secret": "s"}
    store = add_store_service(db.session, secret_box(), "woocommerce", site.url, creds, currency="USD")
    db.session.add(WooStoreState(store_id=store.id, api_url=site.url, webhooks={}))  # as the wc-auth connect does
    update_settings(db.session, store, {"rewards": [REWARD, BIG]})
    db.session.commit()
    return store


def member(store, platform_id="7001", email="ann@example.com"):
    apply(store, customer_event(ann(platform_id, email)))  # the signup reward: 50 spendable points
    return customer(platform_id)


def headers(store):
    return {"Authorization": f"Bearer {issue_admin_token(store)}"}


def post(client, store, customer_id, **body):
    return client.post(f"/admin/api/v1/customers/{customer_id}/redemptions", json=body, headers=headers(store))


def ledger(store, prefix="redeem:"):
    stmt = select(PointsLedger).where(PointsLedger.store_id == store.id, PointsLedger.source_key.startswith(prefix))
    return {r.source_key: r.points for r in db.session.scalars(stmt)}


def test_shopify_throttled_create_retries_to_one_code_for_that_customer(app, ctx, client, standin):
    store = shopify_store(standin)
    ann_ = member(store)
    answer = post(client, store, ann_.id, reward_id="five-off", idempotency_key="k1")
    assert answer.status_code == 202 and answer.json["status"] == "pending" and answer.json["code"] is None
    rid = answer.json["id"]
    assert ledger(store) == {f"redeem:{rid}": -40}
    assert balance(db.session, store, ann_, utcnow()).spendable == 10
    standin.graphql_failures[:] = [None, "throttle"]  # the lookup answers, the create is throttled
    first = issue_discount(rid, store_id=store.id)
    assert first["status"] == "pending" and 0 < first["retry_in"] <= 0.5
    assert standin.state(SHOP).writeback.discounts == {}
    assert issue_discount(rid, store_id=store.id)["status"] == "issued"
    assert issue_discount(rid, store_id=store.id)["status"] == "issued"  # a duplicate job does nothing
    db.session.expire_all()
    row = db.session.get(Redemption, rid)
    [(code, stored)] = standin.state(SHOP).writeback.discounts.items()
    assert code == row.code and row.platform_discount_id == stored["id"] and row.attempts == 2
    assert stored["input"]["context"] == {"customers": {"add": ["gid://shopify/Customer/7001"]}}
    assert stored["input"]["usageLimit"] == 1 and stored["input"]["endsAt"]
    shown = client.get(f"/admin/api/v1/customers/{ann_.id}/redemptions/{rid}", headers=headers(store)).json
    assert shown["status"] == "issued" and shown["code"] == row.code
    assert standin.calls["discountCodeBasicCreate"] == 1  # the throttled request never reached the resolver
    assert ledger(store) == {f"redeem:{rid}": -40} and check_invariants(db.session, store) == []


def test_same_idempotency_key_is_one_redemption_and_one_code(app, ctx, client, standin):
    store = shopify_store(standin)
    ann_ = member(store)
    first = post(client, store, ann_.id, reward_id="five-off", idempotency_key="same")
    again = post(client, store, ann_.id, reward_id="five-off", idempotency_key="same")
    assert first.json["id"] == again.json["id"]
    issue_discount(first.json["id"], store_id=store.id)
    issue_discount(again.json["id"], store_id=store.id)
    third = post(client, store, ann_.id, reward_id="five-off", idempotency_key="same")
    assert third.status_code == 201 and third.json["status"] == "issued"
    assert len(standin.state(SHOP).writeback.discounts) == 1 and len(ledger(store)) == 1
    other = post(client, store, ann_.id, reward_id="big", idempotency_key="same")
    assert other.status_code == 409 and other.json["error"] == "idempotency_key_reused"


def test_refusals_are_clear(app, ctx, client, standin):
    store = shopify_store(standin)
    ann_ = member(store)
    poor = post(client, store, ann_.id, reward_id="big", idempotency_key="k")
    assert poor.status_code == 409 and poor.json["error"] == "insufficient_points"
    assert (poor.json["spendable"], poor.json["wanted"]) == (50, 500)
    assert post(client, store, ann_.id, reward_id="nope", idempotency_key="k2").status_code == 404
    assert post(client, store, ann_.id, reward_id="five-off").status_code == 422  # no idempotency key
    other = add_store("woocommerce")
    bob = member(other, "8001", "bob@example.com")
    foreign = post(client, store, bob.id, reward_id="five-off", idempotency_key="k3")
    assert foreign.status_code == 404 and foreign.json["error"] == "customer_not_found"
    assert client.get(f"/admin/api/v1/customers/{bob.id}/redemptions/1", headers=headers(store)).status_code == 404
    apply(store, order_event("900", customer=ann(None, "guest@example.com")))
    guest = customer(None, "guest@example.com")
    refused = post(client, store, guest.id, reward_id="five-off", idempotency_key="k4")
    assert refused.status_code == 403 and refused.json["error"] == "account_required"
    assert ledger(store) == {} and db.session.scalar(select(Redemption.id)) is None


def test_permanent_refusal_releases_the_points_once(app, ctx, client, site):
    store = woo_store(site)
    ann_ = member(store)
    rid = post(client, store, ann_.id, reward_id="five-off", idempotency_key="w1").json["id"]
    site.fail("POST", "/coupons", 400, times=1)
    assert issue_discount(rid, store_id=store.id)["status"] == "failed"
    assert issue_discount(rid, store_id=store.id)["status"] == "failed"
    db.session.expire_all()
    assert ledger(store) == {f"redeem:{rid}": -40, f"redeem:{rid}:release": 40}
    assert balance(db.session, store, ann_, utcnow()).spendable == 50 and site.writeback.coupons == {}
    shown = client.get(f"/admin/api/v1/customers/{ann_.id}/redemptions/{rid}", headers=headers(store)).json
    assert shown["status"] == "failed" and "WooRefused" in shown["last_error"]


def test_woo_coupon_restricted_to_the_email_then_used_and_cancelled_gives_points_back_once(app, ctx, client, site):
    store = woo_store(site)
    ann_ = member(store)
    rid = post(client, store, ann_.id, reward_id="five-off", idempotency_key="w2").json["id"]
    site.fail("GET", "/coupons", 429, times=1, **{"Retry-After": "30"})
    assert issue_discount(rid, store_id=store.id)["status"] == "pending"
    assert issue_discount(rid, store_id=store.id)["status"] == "issued"
    [coupon] = site.writeback.coupons.values()
    assert coupon["email_restrictions"] == ["ann@example.com"]
    assert (coupon["usage_limit"], coupon["usage_limit_per_user"]) == (1, 1)
    code = db.session.get(Redemption, rid).code
    assert coupon["code"] == code.lower()
    event = order_event("501")
    used = dataclasses.replace(event, order=dataclasses.replace(event.order, discount_codes=(code.lower(),)))
    apply(store, used, used)
    row = db.session.get(Redemption, rid)
    assert (row.status, row.used_order_platform_id) == ("used", "501")
    cancelled = order_event("501", cancelled=True, version=3)
    cancelled = dataclasses.replace(cancelled, order=dataclasses.replace(cancelled.order, discount_codes=(code,)))
    apply(store, cancelled, cancelled, used)
    db.session.expire_all()
    assert db.session.get(Redemption, rid).status == "refunded"
    assert ledger(store) == {f"redeem:{rid}": -40, f"redeem:{rid}:refund": 40}
    assert check_invariants(db.session, store) == []


def test_uninstall_stops_pending_and_scheduler_reenqueues_due(app, ctx, client, standin):
    store = shopify_store(standin)
    ann_ = member(store)
    rid = post(client, store, ann_.id, reward_id="five-off", idempotency_key="u1").json["id"]
    row = db.session.get(Redemption, rid)
    later = row.next_attempt_at
    assert redemption_tick(app, now=later - (later - row.created_at) / 2)["redemptions"] == 0  # lease not over
    assert redemption_tick(app, now=later)["redemptions"] == 1  # a lost enqueue is picked up
    issues = [job.kwargs for job in get_queue().get_jobs() if job.func_name.endswith(".issue_discount")]
    assert issues == [{"store_id": store.id}] * 2  # the API's, the tick's
    on_uninstalled(db.session, store)
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Redemption, rid).status == "failed"
    assert ledger(store) == {f"redeem:{rid}": -40, f"redeem:{rid}:release": 40}
    assert (
        issue_discount(rid, store_id=store.id)["status"] == "failed" and standin.state(SHOP).writeback.discounts == {}
    )


def test_an_idempotency_key_with_control_characters_is_refused_not_a_500(app, ctx, client, standin):
    """A NUL reached PostgreSQL's text comparison (a driver error, answered 500; SQLite stored it): the key is
    refused before any query, on both backends."""
    store = shopify_store(standin)
    ann_ = member(store)
    for key in ("k\x00", "line\nbreak", "\x7f"):
        answer = post(client, store, ann_.id, reward_id="five-off", idempotency_key=key)
        assert answer.status_code == 422 and answer.json["error"] == "idempotency_key_invalid", (key, answer.json)


def run_jobs(app) -> None:
    """What an rq worker does, in this process."""
    queue = get_queue()
    with app.app_context():
        SimpleWorker([queue], connection=queue.connection).work(burst=True)


def test_the_issue_job_carries_its_store_and_reads_nothing_by_id_alone(app, ctx, client, standin):
    """The job names its redemption's store in every read: on Citus a read by id alone visits every shard
    (docs/deployment.md)."""
    store = shopify_store(standin)
    rid = post(client, store, member(store).id, reward_id="five-off", idempotency_key="s1").json["id"]
    [job] = [job for job in get_queue().get_jobs() if job.func_name.endswith(".issue_discount")]
    assert (job.args, job.kwargs) == ((rid,), {"store_id": store.id})
    db.session.remove()
    with audited() as audit:
        run_jobs(app)
    assert db.session.get(Redemption, rid).status == "issued" and len(standin.state(SHOP).writeback.discounts) == 1
    assert origins(audit, "job_by_id") == origins(audit, "unscoped") == set()
    # Nor the ORM's refresh of a row the commit before the HTTP call expired (its UPDATEs by key are apart).
    assert [row for row in audit.report()["kinds"].get("orm_by_pk", []) if row["sql"].startswith("SELECT")] == []


def test_the_redeem_request_reads_its_redemption_back_by_store(app, ctx, client, standin):
    """After its commit the request answers from the redemption as stored; the ORM's refresh of the expired row
    would read it by id alone (every shard on Citus), so it is read again naming the store."""
    store = shopify_store(standin)
    customer_id, auth = member(store).id, headers(store)
    db.session.remove()
    with audited() as audit:
        body = {"reward_id": "five-off", "idempotency_key": "r1"}
        answer = client.post(f"/admin/api/v1/customers/{customer_id}/redemptions", json=body, headers=auth)
    assert answer.status_code == 202 and answer.json["status"] == "pending"
    by_pk = [row for row in audit.report()["kinds"].get("orm_by_pk", []) if row["sql"].startswith("SELECT")]
    assert [row for row in by_pk if "redemptions" in row["sql"]] == []


def test_an_issue_job_queued_by_the_previous_release_still_issues_the_code(app, ctx, client, site):
    """The previous release enqueued the redemption id alone, and such jobs stay in Redis across a deploy: the job
    reads its row's store once by id (platform/sql.job_store_id), then names it."""
    store = woo_store(site)
    rid = post(client, store, member(store).id, reward_id="five-off", idempotency_key="o1").json["id"]
    queue = get_queue()
    queue.empty()
    queue.enqueue("app.loyalty.redemption_tasks.issue_discount", rid)  # the old shape
    db.session.remove()
    with audited() as audit:
        run_jobs(app)
    assert db.session.get(Redemption, rid).status == "issued" and len(site.writeback.coupons) == 1
    assert origins(audit, "job_by_id") == {"app.platform.sql:job_store_id"} and origins(audit, "unscoped") == set()


def test_the_redeem_command_queues_the_job_with_its_store(app, ctx):
    store = add_store("shopify")
    update_settings(db.session, store, {"rewards": [REWARD]})
    db.session.commit()
    member(store)
    result = app.test_cli_runner().invoke(args=["loyalty", "redeem", str(store.id), "ann@example.com", "five-off"])
    assert result.exit_code == 0, result.output
    [job] = [job for job in get_queue().get_jobs() if job.func_name.endswith(".issue_discount")]
    assert job.kwargs == {"store_id": store.id}
