"""Installing on Shopify starts the history import as a job; bulk_operations/finish is subscribed and resumes it."""

from __future__ import annotations

from rq import SimpleWorker
from sqlalchemy import select

from app.extensions import db
from app.platform.queue import get_queue, get_redis
from app.records.history import history_import
from app.records.models import Customer
from tests.inbox.history import counts, gql_customer, gql_order
from tests.stores.shopify.conftest import SHOP, code_grant, store_row


def test_install_imports_the_past_as_a_job(http, shop_app, standin, clock):
    bulk = standin.state(SHOP).bulk
    bulk.customers = [gql_customer(n) for n in range(5)]
    bulk.orders = [gql_order(n, 5) for n in range(30)]
    shop_app.config["HISTORY_POLL_SECONDS"] = 0.01
    code_grant(http, standin, clock)
    # bulk_operations/finish is an app-specific subscription (shopify.app.toml, checked against the connector's
    # topics by tests/stores/shopify/test_shopify_webhooks.py): nothing is subscribed per shop.
    assert standin.subscriptions(SHOP) == []
    store = store_row(shop_app)
    with shop_app.app_context():
        assert history_import(db.session, store.id).status == "queued"
        SimpleWorker([get_queue()], connection=get_redis()).work(burst=True)
        db.session.rollback()
        row = history_import(db.session, store.id)
        assert row.status == "done", row.last_error
        found = counts(store.id)
        assert (found["customers"], found["orders"], found["review_requests"]) == (5, 30, 0)
        # The customers' tags and country come with them (the segments' conditions, docs/segments.md).
        people = db.session.scalars(
            select(Customer).where(Customer.store_id == store.id).order_by(Customer.platform_id)
        )
        assert [(c.country, c.tags) for c in people][:2] == [(None, ""), ("PL", ",vip,wholesale,")]
