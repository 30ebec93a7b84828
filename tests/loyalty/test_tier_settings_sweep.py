"""A tier settings change is applied to every customer of the store at once, by a job the change enqueues (admin
API and command), not at each customer's next order: the hardening issue's customer with 4,957 points earned
stayed without a tier and the widget said "0 points to Silver".

The rules are the loyalty docs': an upgrade is immediate (a lowered threshold or a new tier moves customers up
now); a raised threshold lowers nobody before their window ends (rolling) and never a lifetime tier; a deleted
tier is taken away and its holders placed in the tier they meet. The job is set-based: a few statements per
chunk of customers, whatever their number, and the storefront's copies of the changed customers are dropped."""

from __future__ import annotations

import json

from rq import SimpleWorker
from sqlalchemy import event, select

from app.extensions import db
from app.loyalty.api import check_invariants
from app.loyalty.models import LoyaltyAccount, LoyaltyTierChange, LoyaltyWriteback, PointsLedger
from app.platform.queue import get_queue
from tests.loyalty.conftest import ann, apply, new_shopper, order_event, read_balance

CUSTOMERS = 300


def _tier(name, threshold, *, basis="points_earned", window="lifetime", reward=0):
    return {"name": name, "threshold": threshold, "basis": basis, "window": window, "multiplier": "1",
            "reward_points": reward}  # fmt: skip


def _customers(store) -> None:
    """Customer n (platform id 7000 + n) paid one order of n x 10 EUR: n x 10 points earned, n x 10 spent."""
    events = [
        order_event(str(90000 + n), total=f"{n * 10}.00", customer=ann(str(7000 + n), f"c{n}@example.com"))
        for n in range(1, CUSTOMERS + 1)
    ]
    apply(store, *events)


def _tiers_by_platform_id(store) -> dict[int, str | None]:
    from app.records.models import Customer

    db.session.expire_all()
    stmt = (
        select(Customer.platform_id, LoyaltyAccount.tier)
        .join(LoyaltyAccount, LoyaltyAccount.customer_id == Customer.id)
        .where(Customer.store_id == store.id)
    )
    return {int(pid) - 7000: tier for pid, tier in db.session.execute(stmt)}


def _admin(app, store) -> dict[str, str]:
    issued = json.loads(app.test_cli_runner().invoke(args=["stores", "admin-token", str(store.id)]).output)
    return {"Authorization": f"Bearer {issued['token']}"}


def _run_jobs(app) -> int:
    """Run what is queued, as an rq worker would; returns the SQL statements the jobs sent."""
    sent = []

    def count(*_args) -> None:
        sent.append(1)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        queue = get_queue()
        SimpleWorker([queue], connection=queue.connection).work(burst=True)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    return len(sent)


def test_new_tiers_reach_every_qualifying_customer_in_a_few_statements(app, client, ctx):
    store, headers = new_shopper("7100")  # customer 100, with a storefront token: 1,000 points earned
    _customers(store)
    before = read_balance(client, headers).json
    assert before["tier"] is None

    tiers = [_tier("Silver", "1000"), _tier("Gold", "2500", basis="amount_spent")]
    patched = client.patch("/admin/api/v1/loyalty/settings", headers=_admin(app, store), json={"tiers": tiers})
    assert patched.status_code == 200, patched.json
    stale = read_balance(client, headers).json  # between the change and the job: no tier yet, kept as a copy
    assert stale["tier"] is None
    statements = _run_jobs(app)

    held = _tiers_by_platform_id(store)
    expected = {n: "Gold" if n >= 250 else "Silver" if n >= 100 else None for n in range(1, CUSTOMERS + 1)}
    assert held == expected
    assert statements < 40, statements  # set-based: not a statement (or three) per customer
    changes = db.session.scalars(select(LoyaltyTierChange).where(LoyaltyTierChange.store_id == store.id)).all()
    assert len(changes) == 201 and {c.reason for c in changes} == {"upgrade"}
    writebacks = db.session.scalars(select(LoyaltyWriteback).where(LoyaltyWriteback.store_id == store.id)).all()
    assert len(writebacks) == 201 and {w.generation for w in writebacks} == {1}  # the store's copy of the tier
    after = read_balance(client, headers).json  # the copy kept above was dropped by the job's commit
    assert after["tier"] == "Silver" and after["progress"]["tier"] == "Gold"
    assert check_invariants(db.session, store) == []


def test_lowered_raised_and_deleted_tiers_follow_the_docs_rules(app, ctx):
    store, _ = new_shopper()
    _customers(store)
    runner = app.test_cli_runner()

    def settings(tiers) -> None:
        done = runner.invoke(args=["loyalty", "settings", "set", str(store.id), "--json", json.dumps({"tiers": tiers})])
        assert done.exit_code == 0, done.output
        _run_jobs(app)

    settings([_tier("Silver", "1000"), _tier("Gold", "2500", window="rolling_12m")])
    assert sum(t == "Gold" for t in _tiers_by_platform_id(store).values()) == 51
    settings([_tier("Silver", "500"), _tier("Gold", "2500", window="rolling_12m")])  # lowered: up at once
    held = _tiers_by_platform_id(store)
    assert (held[49], held[50], held[249], held[250]) == (None, "Silver", "Silver", "Gold")
    settings([_tier("Silver", "2000"), _tier("Gold", "2900", window="rolling_12m")])  # raised: nobody down now
    assert _tiers_by_platform_id(store) == held
    settings([_tier("Silver", "2000")])  # Gold deleted: its holders get the tier they meet
    held = _tiers_by_platform_id(store)
    assert (held[50], held[199], held[200], held[250], held[300]) == ("Silver", "Silver", "Silver", "Silver", "Silver")
    removed = db.session.scalars(select(LoyaltyTierChange).where(LoyaltyTierChange.reason == "removed")).all()
    assert len(removed) == 51 and {c.from_tier for c in removed} == {"Gold"}
    assert check_invariants(db.session, store) == []
    again = runner.invoke(args=["loyalty", "tiers", "apply", str(store.id)])  # by hand: nothing left to change
    assert again.exit_code == 0 and json.loads(again.stdout)["updated"] == 0, again.output


def test_reaching_a_tier_in_the_sweep_gives_its_reward_once(app, client, ctx):
    store, _ = new_shopper()
    _customers(store)
    auth = _admin(app, store)
    tiers = [_tier("Silver", "2900", reward=40)]
    assert client.patch("/admin/api/v1/loyalty/settings", headers=auth, json={"tiers": tiers}).status_code == 200
    _run_jobs(app)
    assert client.patch("/admin/api/v1/loyalty/settings", headers=auth, json={"enabled": True}).status_code == 200
    _run_jobs(app)  # nothing that decides tiers changed: no job, or one that changes nothing
    rewards = db.session.scalars(select(PointsLedger).where(PointsLedger.kind == "tier_reward")).all()
    assert sorted(r.points for r in rewards) == [40] * 11  # customers 290..300
    accounts = db.session.scalars(select(LoyaltyAccount).where(LoyaltyAccount.tier == "Silver")).all()
    assert len(accounts) == 11 and all(a.balance == a.lifetime_earned + 40 for a in accounts)
    assert check_invariants(db.session, store) == []


def test_an_expiry_change_moves_the_cached_expiry_dates(app, client, ctx):
    from app.loyalty.api import refresh_account
    from app.platform.types import utcnow
    from tests.loyalty.conftest import T0, customer, delivered_event, fulfil_event

    store, _ = new_shopper()
    apply(store, order_event("1", total="50.00"), fulfil_event("1"), delivered_event("1", T0))
    ann_id = customer().id
    refresh_account(db.session, store, ann_id, utcnow())  # the scheduler's refresh: the points are spendable
    db.session.commit()
    held = db.session.scalar(select(LoyaltyAccount).where(LoyaltyAccount.customer_id == ann_id))
    assert held.spendable == 50 and held.expires_at.month == held.last_activity_at.month  # 12 months on
    patch = {"expiry": {"inactive_months": 6, "reminder_days": 10}}
    assert client.patch("/admin/api/v1/loyalty/settings", headers=_admin(app, store), json=patch).status_code == 200
    _run_jobs(app)
    db.session.expire_all()
    held = db.session.scalar(select(LoyaltyAccount).where(LoyaltyAccount.customer_id == ann_id))
    months = (held.expires_at.year - held.last_activity_at.year) * 12 + held.expires_at.month
    assert months - held.last_activity_at.month == 6
    assert (held.expires_at - held.reminder_due_at).days == 10
    assert check_invariants(db.session, store) == []
