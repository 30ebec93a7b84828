"""loyalty/account_rows.refresh_set_based (the history import's accounts, by statements) leaves the accounts, the
write-back rows and the tier history refresh.refresh_accounts (the ORM, one object per account) leaves.

A store gets webhooks (accounts with orders paid, delivered or not, refunded, a guest's order), then damage to
its cached sums: an account deleted (refreshed as new), one stale (its spendable points changed:
the store's copy is behind), one stale elsewhere only (the copy is not), one holding a tier the settings no longer
have (that refresh decides a tier: the ORM's). The damaged rows are refreshed each way (in a savepoint rolled back
between them), as of a moment that makes some earn rows spendable; every row is compared, and once more with tiers
configured.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import delete, select, update

from app.extensions import db
from app.inbox.pipeline import dispatch
from app.loyalty.account_rows import refresh_set_based
from app.loyalty.ledger import refresh_accounts
from app.loyalty.models import LoyaltyAccount, LoyaltyTierChange, LoyaltyWriteback
from app.loyalty.settings import update_settings
from app.records.models import Customer
from connectors.events import CustomerChanged
from tests.helpers import add_store
from tests.loyalty.conftest import T0, ann, delivered_event, fulfil_event, order_event, refund_event

GOLD = {"name": "gold", "threshold": "150", "basis": "points_earned", "window": "lifetime", "multiplier": "1.5"}


@pytest.fixture
def postgres(app):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("the set-based refresh is PostgreSQL's (unnest, ON CONFLICT)")


def _history(store) -> None:
    for n in range(6):
        dispatch(db.session, store, CustomerChanged(ann(f"80{n}", f"a{n}@example.com")), T0)
    for n, total in ((0, "120.00"), (1, "80.00"), (2, "200.00"), (4, "60.00")):
        customer = ann(f"80{n}", f"a{n}@example.com")
        dispatch(db.session, store, order_event(f"90{n}", total=total, customer=customer), T0)
    dispatch(db.session, store, order_event("999", customer=ann(None, "guest@example.com")), T0)  # a guest
    dispatch(db.session, store, fulfil_event("900"), T0)
    dispatch(db.session, store, delivered_event("900", T0 + timedelta(days=1)), T0)
    dispatch(db.session, store, fulfil_event("902"), T0)
    dispatch(db.session, store, refund_event("902", "r902", "50.00"), T0)
    db.session.flush()


def _damage(store) -> list[int]:
    """The cached sums made wrong as a crash or an older refresh would leave them; returns every customer id."""
    ids = {c.email: c.id for c in db.session.scalars(select(Customer).where(Customer.store_id == store.id))}

    def accounts(customer_ids: list[int]):
        return (LoyaltyAccount.store_id == store.id) & LoyaltyAccount.customer_id.in_(customer_ids)

    db.session.execute(delete(LoyaltyAccount).where(accounts([ids["a0@example.com"], ids["a5@example.com"]])))
    db.session.execute(update(LoyaltyAccount).where(accounts([ids["a1@example.com"]])).values(spendable=7, balance=7))
    db.session.execute(update(LoyaltyAccount).where(accounts([ids["a2@example.com"]])).values(pending=3))
    db.session.execute(update(LoyaltyAccount).where(accounts([ids["a3@example.com"]])).values(tier="silver"))
    db.session.execute(delete(LoyaltyWriteback).where(LoyaltyWriteback.store_id == store.id))
    db.session.flush()
    return sorted(ids.values())


def _state(store_id: int) -> dict[str, list[tuple]]:
    db.session.expire_all()
    email = {c.id: c.email for c in db.session.scalars(select(Customer).where(Customer.store_id == store_id))}
    out: dict[str, list[tuple]] = {}
    for name, model in (("accounts", LoyaltyAccount), ("writebacks", LoyaltyWriteback), ("tiers", LoyaltyTierChange)):
        skip = ("id", "store_id", "customer_id", "updated_at")
        columns = [c for c in model.__table__.columns if c.name not in skip]
        rows = db.session.execute(select(model.customer_id, *columns).where(model.store_id == store_id))
        out[name] = sorted((email[row[0]], *(repr(v) if isinstance(v, dict) else v for v in row[1:])) for row in rows)
    return out


@pytest.mark.parametrize("tiers", [[], [GOLD]], ids=["no tiers", "tiers"])
def test_the_set_based_refresh_leaves_what_the_orm_refresh_leaves(app, ctx, postgres, tiers):
    store = add_store(currency="EUR")
    update_settings(db.session, store, {"tiers": tiers})
    _history(store)
    ids = set(_damage(store))
    now: datetime = T0 + timedelta(days=40)  # order 900's points are spendable by now, the others pending
    found: dict[str, dict[str, list[tuple]]] = {}
    for name, refresh in (("orm", refresh_accounts), ("statements", refresh_set_based)):
        attempt = db.session.begin_nested()  # each way from the same damaged rows
        refresh(db.session, store, ids, now)
        db.session.flush()
        found[name] = _state(store.id)
        attempt.rollback()
    for table, rows in found["orm"].items():
        only_orm = sorted(set(rows) - set(found["statements"][table]))
        assert (table, sorted(set(found["statements"][table]) - set(rows))) == (table, only_orm)
    accounts = {row[0]: row for row in found["statements"]["accounts"]}
    assert len(accounts) == 7 and accounts["a0@example.com"][1:4] == (170, 0, 170)  # balance, pending, spendable
    written = {row[0] for row in found["statements"]["writebacks"]}
    assert written >= {"a0@example.com", "a1@example.com", "a5@example.com"}  # new, or spendable points changed
    assert "a2@example.com" not in written and "guest@example.com" not in written
