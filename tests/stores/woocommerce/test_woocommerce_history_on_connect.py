"""Connecting a WooCommerce store starts its history import as a job (docs/history-import.md)."""

from __future__ import annotations

from app.extensions import db
from app.records.history import history_import
from tests.inbox.history import counts, woo_customer, woo_order
from tests.stores.woocommerce.conftest import connect, run_jobs, the_store


def test_connect_imports_the_past_as_a_job(app, woo_app, site, wctx):
    site.customers = [woo_customer(n) for n in range(12)]
    site.orders = [woo_order(n, 12) for n in range(130)]
    assert connect(woo_app, site).status_code == 200
    store = the_store()
    row = history_import(db.session, store.id)
    assert (row.status, row.earn_points, row.tiers_from_past) == ("queued", False, False)
    assert row.cutoff_at == store.installed_at
    run_jobs(woo_app)  # webhook registration, then the import
    db.session.rollback()
    assert history_import(db.session, store.id).status == "done"
    found = counts(store.id)
    assert (found["customers"], found["orders"], found["ledger"], found["messages"]) == (12, 130, 0, 0)
