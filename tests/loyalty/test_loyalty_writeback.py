"""Balance write-back: dirty customers copied to the store in platform-sized batches, rows cleared after success."""

from __future__ import annotations

from sqlalchemy import func, select

from app.extensions import db
from app.loyalty.models import LoyaltyWriteback
from app.loyalty.writeback import clear, mark_dirty
from app.loyalty.writeback_tasks import push_balances
from app.platform.types import utcnow
from connectors.woocommerce_writeback import LOYALTY_BALANCE_META
from tests.helpers import SHOP
from tests.loyalty.conftest import ann, apply, customer, customer_event, order_event
from tests.loyalty.test_redemptions import shopify_store, site, standin, woo_store  # noqa: F401  (fixtures)


def dirty(store) -> int:
    stmt = select(func.count()).select_from(LoyaltyWriteback).where(LoyaltyWriteback.store_id == store.id)
    return db.session.scalar(stmt)


def test_sixty_dirty_customers_are_three_metafields_set_calls(app, ctx, standin):  # noqa: F811
    store = shopify_store(standin)
    apply(store, *[customer_event(ann(str(9000 + i), f"c{i}@example.com")) for i in range(60)])
    apply(store, order_event("77", customer=ann(None, "guest@example.com")))  # guests are never marked
    assert dirty(store) == 60
    result = push_balances(store.id)
    assert (result["status"], result["calls"], result["cleared"]) == ("done", 3, 60)
    assert standin.calls["metafieldsSet"] == 3 and dirty(store) == 0
    stored = standin.state(SHOP).writeback.metafields
    assert stored[("gid://shopify/Customer/9007", "loyalty", "points_balance")]["value"] == "50"
    assert len(stored) == 60
    assert push_balances(store.id)["calls"] == 0  # nothing dirty: no call


def test_throttled_push_keeps_rows_and_a_redirtied_row_is_not_cleared(app, ctx, standin):  # noqa: F811
    store = shopify_store(standin)
    apply(store, customer_event(ann("9100", "a@example.com")))
    standin.graphql_failures[:] = ["throttle"]
    assert push_balances(store.id)["status"] == "rate_limited"
    row = db.session.scalar(select(LoyaltyWriteback))
    assert row is not None and row.next_attempt_at > utcnow()
    sent = {row.id: row.generation}
    mark_dirty(db.session, store, customer("9100"), utcnow())  # changed again while "sending"
    assert clear(db.session, store, sent) == 0 and dirty(store) == 1
    db.session.commit()
    assert push_balances(store.id)["cleared"] == 1 and dirty(store) == 0


def test_woocommerce_meta_through_customers_batch(app, ctx, site):  # noqa: F811
    store = woo_store(site)
    site.writeback.add_customer(501, "w@example.com")
    apply(store, customer_event(ann("501", "w@example.com")), customer_event(ann("502", "gone@example.com")))
    result = push_balances(store.id)
    assert result["calls"] == 1 and site.writeback.calls["POST /customers/batch"] == 1
    meta = {m["key"]: m["value"] for m in site.writeback.customers[501]["meta_data"]}
    assert meta[LOYALTY_BALANCE_META] == "50"
    assert dirty(store) == 1  # 502 is unknown to the store: refused in the answer, kept with a backoff


def test_woocommerce_balance_the_store_does_not_keep_waits_with_its_reason(app, ctx, site):  # noqa: F811
    store = woo_store(site)
    site.writeback.add_customer(601, "k@example.com")
    site.writeback.ignored = {LOYALTY_BALANCE_META}  # answered 200 with the customer, the balance not kept
    apply(store, customer_event(ann("601", "k@example.com")))
    assert push_balances(store.id)["cleared"] == 0
    row = db.session.scalar(select(LoyaltyWriteback).where(LoyaltyWriteback.store_id == store.id))
    assert row is not None and row.next_attempt_at > utcnow()
    assert "stored differently" in row.last_error and LOYALTY_BALANCE_META in row.last_error
