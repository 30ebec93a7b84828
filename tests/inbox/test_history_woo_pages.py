"""WooCommerce's pages read several at once (HISTORY_WOO_PAGES_IN_FLIGHT): applied in page order whatever order
they arrive in, the cursor still the last page applied, a throttled page retried while the others travel."""

from __future__ import annotations

import time

import pytest

from app.extensions import db
from app.inbox.history_import import run
from app.inbox.history_import import start as set_up
from app.records.history import history_import
from connectors import woocommerce_history
from tests.helpers import add_woo_store_at, woo_standin
from tests.inbox.history import counts, woo_customer, woo_order

CUSTOMERS, ORDERS = 130, 1150  # 2 and 12 pages of 100


@pytest.fixture
def site(app, ctx, monkeypatch):
    monkeypatch.setitem(app.config, "HISTORY_BULK_CHUNK", 500)  # five pages to a chunk on both paths
    with woo_standin(app, monkeypatch, timeout=5) as standin:
        standin.customers = [woo_customer(n) for n in range(CUSTOMERS)]
        standin.orders = [woo_order(n, CUSTOMERS) for n in range(ORDERS)]
        store = add_woo_store_at(standin)
        set_up(db.session, store, earn_points=True, tiers_from_past=False, enqueue_job=False)
        db.session.commit()
        yield store, standin


@pytest.fixture
def pages_read(monkeypatch):
    """(kind, page) of every page read, in the order the answers came back."""
    read: list[tuple[str, int]] = []
    real = woocommerce_history.read_page

    def reading(client, kind, page, session=None):
        answer = real(client, kind, page, session)
        read.append((kind, page))
        return answer

    monkeypatch.setattr(woocommerce_history, "read_page", reading)
    return read


@pytest.fixture
def applied(monkeypatch):
    """(kind, the documents' ids, cursor) of every chunk applied; `crash_at`: the orders' chunk that raises."""
    from app.inbox import history_import as module

    chunks: list[tuple[str, list[str], dict]] = []
    real, crash_at = module.apply_chunk, [0]

    def apply(session, store_id, kind, documents, cursor):
        if kind == "orders" and crash_at[0] and sum(1 for c in chunks if c[0] == "orders") + 1 == crash_at[0]:
            raise KeyboardInterrupt  # the worker killed between two chunks' pages
        chunks.append((kind, [d.key for d in documents], dict(cursor)))
        return real(session, store_id, kind, documents, cursor)

    monkeypatch.setattr(module, "apply_chunk", apply)
    return chunks, crash_at


def _ids(kind: str, count: int) -> list[str]:
    return [str((7000 if kind == "customers" else 500000) + n) for n in range(count)]


@pytest.mark.parametrize("in_flight", [1, 4])
def test_pages_in_flight_are_applied_in_page_order_a_throttled_one_retried(
    app, site, monkeypatch, pages_read, applied, in_flight
):
    store, standin = site
    monkeypatch.setitem(app.config, "HISTORY_WOO_PAGES_IN_FLIGHT", in_flight)
    # The Retry-After waited for real (briefly): the throttled page comes back after the pages asked with it.
    monkeypatch.setattr("app.inbox.history_sources.time.sleep", lambda s, nap=time.sleep: nap(0.3))
    standin.fail("GET", "/orders", 429, after=2, **{"Retry-After": "2"})  # the third page asked for (in flight)
    standin.slow("GET", "/orders", 0.2, times=2)  # the first two answers late: more pages travel meanwhile
    assert run(db.session, store.id) == "done"

    chunks, _ = applied
    for kind, count in (("customers", CUSTOMERS), ("orders", ORDERS)):
        mine = [c for c in chunks if c[0] == kind]
        assert [key for c in mine for key in c[1]] == _ids(kind, count)  # every document once, in id order
        pages = -(-count // 100)
        assert [c[2] for c in mine] == [{"page": min(p, pages)} for p in range(5, pages + 5, 5)]
        assert sorted(p for k, p in pages_read if k == kind) == list(range(1, pages + 1))  # none past the last
    row = history_import(db.session, store.id)
    assert (row.customers_done, row.orders_done, row.failed) == (CUSTOMERS, ORDERS, 0)
    if in_flight > 1:  # pages overtook one another on the wire, and were still applied in order
        orders_read = [p for k, p in pages_read if k == "orders"]
        assert orders_read != sorted(orders_read)


def test_a_kill_between_pages_in_flight_resumes_after_the_last_page_applied(
    app, site, monkeypatch, pages_read, applied
):
    store, _ = site
    monkeypatch.setitem(app.config, "HISTORY_WOO_PAGES_IN_FLIGHT", 4)
    chunks, crash_at = applied
    crash_at[0] = 2  # pages 6-10 read (and some after them in flight), the worker dies before applying them
    with pytest.raises(KeyboardInterrupt):
        run(db.session, store.id)
    db.session.rollback()
    row = history_import(db.session, store.id)
    assert (row.status, row.orders_done, row.cursor["orders"]) == ("running", 500, {"page": 5})
    assert max(p for k, p in pages_read if k == "orders") > 10  # pages beyond the chunk were in flight

    crash_at[0], read_before = 0, len(pages_read)
    assert run(db.session, store.id) == "done"
    assert sorted(p for k, p in pages_read[read_before:] if k == "orders") == list(range(6, 13))
    resumed = [key for kind, keys, _ in chunks if kind == "orders" for key in keys]
    assert resumed == _ids("orders", ORDERS)  # the first chunk once, then page 6 onwards once: nothing twice
    found = counts(store.id)
    assert (found["orders"], found["ledger"]) == (ORDERS, ORDERS + found["refunds"])  # no points twice
    assert history_import(db.session, store.id).orders_done == ORDERS


def test_the_next_chunks_pages_are_read_while_a_chunk_is_applied(app, site, monkeypatch, pages_read):
    """Pages are asked for up to a chunk ahead, not only the few in flight: while the first orders' chunk (pages
    1-5) is applied, the second chunk's pages (6-10) are read, so the runner finds them decoded when it is done."""
    import threading

    from app.inbox import history_import as module

    store, _ = site
    monkeypatch.setitem(app.config, "HISTORY_WOO_PAGES_IN_FLIGHT", 2)
    real, seen, tenth = module.apply_chunk, [], threading.Event()

    def reading(client, kind, page, session=None, read=woocommerce_history.read_page):
        answer = read(client, kind, page, session)
        if (kind, page) == ("orders", 10):
            tenth.set()
        return answer

    def apply(session, store_id, kind, documents, cursor):
        if kind == "orders" and cursor == {"page": 5}:  # not a timing: page 10 comes, or never does without it
            seen.append(tenth.wait(timeout=10))
        return real(session, store_id, kind, documents, cursor)

    monkeypatch.setattr(woocommerce_history, "read_page", reading)
    monkeypatch.setattr(module, "apply_chunk", apply)
    assert run(db.session, store.id) == "done"
    assert seen == [True]
    assert sorted(p for k, p in pages_read if k == "orders") == list(range(1, 13))  # each page once, none past
