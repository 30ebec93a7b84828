"""A WooCommerce store's name, currency, time zone and e-mail, read from the site at connect and on each reconcile,
over real HTTP against the stand-in (which answers /wp-json and the settings groups as WordPress and WooCommerce do).
"""

from __future__ import annotations

import pytest

from app.extensions import db
from connectors.exceptions import StoreUnavailable
from connectors.store_details import StoreDetails
from connectors.woocommerce_store import WooStoreReader
from tests.stores.woocommerce import conftest as shared
from tests.stores.woocommerce.conftest import connect, make_due, run_jobs, the_store

site, wctx, woo_app = shared.site, shared.wctx, shared.woo_app


def details(store) -> tuple:
    return store.name, store.currency, store.timezone, store.contact_email


def test_connect_reads_the_store_details_and_each_reconcile_refreshes_them(app, woo_app, site, wctx):
    from app.inbox.woo_upkeep import tick

    site.site_name, site.currency, site.timezone_string = "Tom & Jerry's Mugs", "EUR", "Europe/Berlin"
    site.email_from = "hello@mugs.example"
    connect(woo_app, site)
    run_jobs(woo_app)  # the registration job the callback enqueued
    store = the_store()
    assert details(store) == ("Tom & Jerry's Mugs", "EUR", "Europe/Berlin", "hello@mugs.example")

    # The merchant changes their settings; picks a fixed offset (WordPress then has no zone name)
    site.site_name, site.currency, site.timezone_string, site.gmt_offset = "Mugs", "CHF", "", 2
    make_due(store.id)
    tick(woo_app)
    run_jobs(woo_app)
    assert details(the_store()) == ("Mugs", "CHF", "Etc/GMT-2", "hello@mugs.example")


def test_a_site_that_hides_what_we_read_keeps_what_we_have(app, woo_app, site, wctx):
    from app.inbox.woo_upkeep import tick

    connect(woo_app, site)
    run_jobs(woo_app)
    store = the_store()
    assert details(store) == ("Stand-in Shop", "USD", "UTC", "owner@example.com")
    site.fail("GET", "/settings/general", 503, times=1)  # the store is down: nothing changes, no error kept
    site.currency = "EUR"
    make_due(store.id)
    tick(woo_app)
    run_jobs(woo_app)
    assert the_store().currency == "USD"
    db.session.rollback()


def test_reader_answers_none_for_what_it_cannot_read(app, woo_app, site, wctx):
    key, secret = site.add_key()
    reader = WooStoreReader(site.url, key, secret, timeout=2)
    site.gmt_offset, site.email_from = 5.5, "not an address"  # UTC+5:30 has no IANA name
    assert reader.store_details() == StoreDetails("Stand-in Shop", "USD", None, None)
    site.fail("GET", "/settings/email", 401, times=1)  # a key without the capability
    assert reader.store_details().contact_email is None
    site.fail("GET", "/settings/general", 503, times=1)
    with pytest.raises(StoreUnavailable):  # raised, so the caller keeps what it has and tries again later
        reader.store_details()
