"""The Overview's daily points rollup (loyalty/points_days.py) stays equal to a recount of the ledger, whatever wrote
the rows: random histories through the real write paths (orders earned and cancelled through the pipeline,
merchant adjustments, action awards, redemption holds and their release, expiry and tier rows through the
ledger's append, a guest's rows moved to an account), one step per transaction, several per transaction, steps
rolled back whole or to a savepoint, at instants on both sides of UTC midnight. After each history the rollup is
compared with a recount done here in Python from the rows, and with `rebuild` (and the command)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.loyalty import points_days
from app.loyalty.adjustments import AdjustmentRefused, adjust_points
from app.loyalty.api import balance, hold_points, release_hold
from app.loyalty.ledger import append, award_action, move_rows
from app.loyalty.models import PointsDay, PointsLedger
from app.records.models import Customer
from tests.helpers import add_store, reset_state
from tests.loyalty.conftest import ann, apply, ledger_recount, order_event, points_days_rows

DAY0 = datetime(2026, 11, 3, tzinfo=UTC)
# Midnight's both sides; many days, so that a row whose day is not marked is seldom rescued by another on its day.
MOMENTS = [timedelta(days=d, seconds=s) for d in range(40) for s in (0, 1, 43200, 86399)]


def stored(store) -> dict:
    return points_days_rows(store.id)


def recount(store) -> dict:
    return ledger_recount(store.id)


def _customers(store) -> list[Customer]:
    return list(db.session.scalars(select(Customer).where(Customer.store_id == store.id).order_by(Customer.id)))


OPS = ["order", "order", "cancel", "adjust", "action", "hold", "hold", "release", "expire", "tier", "move"]


def _step(rng: random.Random, store, n: int, op: str, now: datetime, holds: list[str]) -> None:
    who = _customers(store)
    if op in ("order", "cancel"):
        pid = str(rng.randrange(8) if op == "cancel" else n)
        snap = ann(platform_id=f"70{rng.randrange(3)}", email=f"s{rng.randrange(3)}@example.com")
        event = order_event(
            pid, total=f"{rng.randrange(5, 300)}.00", cancelled=op == "cancel", version=n, customer=snap
        )
        from app.inbox.pipeline import dispatch

        dispatch(db.session, store, event, now)
    elif not who:
        return
    elif op == "adjust":
        try:
            adjust_points(
                db.session, store, rng.choice(who), rng.choice([1, -1]) * rng.randrange(1, 80), "t", str(n), now
            )
        except AdjustmentRefused:
            pass
    elif op == "action":
        award_action(db.session, store, rng.choice(who), "review", str(n), now)
    elif op == "hold":
        shopper = rng.choice(who)
        # the merchant's points are spendable at once: so most holds find enough (expiries and adjustments take some)
        adjust_points(db.session, store, shopper, rng.randrange(20, 80), "t", f"g{n}", now)
        spendable = balance(db.session, store, shopper, now).spendable
        if spendable <= 0:
            return
        holds.append(
            hold_points(db.session, store, shopper, rng.randrange(1, spendable + 1), f"h:{n}", {}, now).source_key
        )
        if rng.random() < 0.3:  # the code could not be created: given back in the same transaction
            release_hold(db.session, store, holds.pop(), "failed", now + timedelta(seconds=rng.choice([0, 86400])))
    elif op == "release" and holds:
        release_hold(db.session, store, holds.pop(rng.randrange(len(holds))), "unused", now)
    elif op in ("expire", "tier"):
        kind, sign = ("expire", -1) if op == "expire" else ("tier_reward", 1)
        append(db.session, store, customer_id=rng.choice(who).id, source_key=f"{op}:{n}", kind=kind,
               points=sign * rng.randrange(1, 50), now=now)  # fmt: skip
    elif op == "move" and len(who) > 1:
        move_rows(db.session, store, who[0].id, who[-1].id)  # a guest's rows follow them (days unchanged)


@pytest.mark.parametrize("seed", range(6))
def test_the_rollup_equals_a_recount_of_the_ledger_after_random_histories(app, ctx, seed):
    db.session.remove()
    reset_state(app)
    rng = random.Random(seed)
    store, other = add_store("shopify"), add_store("shopify", "other.myshopify.com")
    apply(other, order_event("1", customer=ann(platform_id="9")))  # another store's rows: never in this one's
    holds: list[str] = []
    plan = [op for _ in range(7) for op in rng.sample(OPS, len(OPS))]  # every path several times, in random order
    for n, op in enumerate(plan):
        mode = rng.choice(["commit", "commit", "batch", "savepoint", "rollback"])
        now = DAY0 + rng.choice(MOMENTS)
        if mode == "savepoint":  # written, flushed (days marked), then undone: the recount finds them gone
            nested = db.session.begin_nested()
            _step(rng, store, n, op, now, holds)
            db.session.flush()
            nested.rollback()
        else:
            _step(rng, store, n, op, now, holds)
        if mode == "rollback":
            db.session.rollback()
            holds[:] = [k for k in holds if db.session.scalar(select(PointsLedger.id).filter_by(source_key=k))]
        elif mode == "commit":
            db.session.commit()
            assert stored(store) == recount(store), n
    db.session.commit()
    expected = recount(store)
    assert stored(store) == expected
    kinds = set(db.session.scalars(select(PointsLedger.kind).where(PointsLedger.store_id == store.id)))
    assert {"earn", "adjust", "redeem", "redeem_release", "expire", "tier_reward"} <= kinds, (
        kinds
    )  # the paths were taken
    assert stored(store) == expected
    assert stored(other) == recount(other)
    points_days.rebuild(db.session, store.id)
    db.session.commit()
    assert stored(store) == expected


def test_rebuild_command_restores_a_damaged_rollup(app, ctx):
    store = add_store("shopify")
    apply(store, order_event("1", total="120.00"))
    expected = recount(store)
    assert expected and stored(store) == expected
    db.session.execute(PointsDay.__table__.delete().where(PointsDay.store_id == store.id))
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["loyalty", "rebuild-rollup", store.domain])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert stored(store) == expected
