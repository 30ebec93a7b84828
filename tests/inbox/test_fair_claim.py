"""The inbox's fair claim (app/inbox/claim.py): one store's burst does not hold the other stores' deliveries back,
the burst store still drains, and two workers claiming at once on PostgreSQL never take the same row."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta
from itertools import count as numbers

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.extensions import db
from app.inbox.models import DONE, FAILED, PENDING, PROCESSING, WebhookDelivery
from app.inbox.processing import claim_batch as claim_rows
from app.platform.types import utcnow
from tests.helpers import add_store

_keys = numbers()  # dedupe keys, unique per store as the inbox requires


def _stores(count: int) -> list[int]:
    return [add_store("shopify", f"fair-{n}.myshopify.com").id for n in range(count)]


def _deliveries(store_id: int, count: int, **columns: object) -> list[int]:
    rows = [
        WebhookDelivery(
            store_id=store_id,
            platform="shopify",
            topic="orders/create",
            dedupe_key=f"fair-{next(_keys)}",
            body=b"{}",
            **columns,
        )
        for _ in range(count)
    ]
    db.session.add_all(rows)
    db.session.commit()
    return [row.id for row in rows]


def claim_batch(session: Session, limit: int) -> list[int]:
    """The claim's delivery ids, each claimed with its row's store (what process_batch splits the batch by)."""
    claimed = claim_rows(session, limit)
    ids = [delivery_id for delivery_id, _, _ in claimed]
    stores = dict(
        session.execute(select(WebhookDelivery.id, WebhookDelivery.store_id).where(WebhookDelivery.id.in_(ids)))
        .tuples()
        .all()
    )
    assert {delivery_id: store_id for delivery_id, _, store_id in claimed} == stores
    return ids


def _store_of(ids: list[int]) -> Counter[int]:
    rows = db.session.execute(select(WebhookDelivery.store_id).where(WebhookDelivery.id.in_(ids))).scalars()
    return Counter(rows)


def _finish(ids: list[int]) -> None:
    db.session.execute(update(WebhookDelivery).where(WebhookDelivery.id.in_(ids)).values(status=DONE))
    db.session.commit()


def test_the_first_claim_holds_every_stores_deliveries_beside_a_burst(app, ctx):
    burst, *others = _stores(5)
    _deliveries(burst, 300)  # received first: a FIFO claim would take only these
    theirs = {store: set(_deliveries(store, 3)) for store in others}
    ids = claim_batch(db.session, 50)
    assert len(ids) == 50  # the fair part leaves room: the rest of the batch is the burst's
    for store, mine in theirs.items():
        assert mine <= set(ids), store
    assert _store_of(ids)[burst] == 50 - 4 * 3


def test_each_store_gets_its_share_round_by_round(app, ctx):
    first, second, third = _stores(3)
    for store in (first, second, third):
        _deliveries(store, 40)
    # 3 stores, a claim of 10: a share of 4 each; rounds 1-3 (9 rows) always fit, and the 4th round's one place
    # goes to the store with the oldest due delivery. A FIFO claim would be 10 of the first store's.
    assert _store_of(claim_batch(db.session, 10)) == {first: 4, second: 3, third: 3}
    assert _store_of(claim_batch(db.session, 10)) == {first: 4, second: 3, third: 3}


def test_beside_other_stores_a_burst_fills_a_claim_by_at_most_fill_rows(app, ctx, monkeypatch):
    from app.inbox import claim

    monkeypatch.setattr(claim, "FILL", 5)
    burst, *others = _stores(5)
    _deliveries(burst, 300)
    for store in others:
        _deliveries(store, 3)
    # 5 stores, a claim of 50: a share of 10; the fair part is 10 + 4 * 3, and the fill 5 more of the burst's,
    # not 28: the claim, which every other store's next delivery waits for, stays short.
    assert _store_of(claim_batch(db.session, 50)) == {burst: 15, **{store: 3 for store in others}}
    # Alone in the inbox, the burst store's share is the whole claim.
    assert _store_of(claim_batch(db.session, 50)) == {burst: 50}


def test_only_due_deliveries_are_claimed_and_leased(app, ctx):
    store, other = _stores(2)
    later = utcnow() + timedelta(minutes=5)
    waiting = _deliveries(store, 3, next_attempt_at=later)  # a retry's backoff not over
    _deliveries(store, 2, status=DONE)
    _deliveries(other, 2, status=FAILED)
    due = _deliveries(store, 2, next_attempt_at=utcnow() - timedelta(seconds=1)) + _deliveries(other, 1)
    ids = claim_batch(db.session, 100)
    assert sorted(ids) == sorted(due)
    rows = db.session.scalars(select(WebhookDelivery).where(WebhookDelivery.id.in_(ids))).all()
    assert {(row.status, row.attempts) for row in rows} == {(PROCESSING, 1)}
    assert all(row.locked_until is not None for row in rows)
    assert claim_batch(db.session, 100) == []
    assert {
        row.status for row in db.session.scalars(select(WebhookDelivery).where(WebhookDelivery.id.in_(waiting)))
    } == {PENDING}


def test_the_burst_store_drains_completely_and_is_in_every_claim(app, ctx):
    burst, *others = _stores(4)
    expected = set(_deliveries(burst, 120))
    for store in others:
        expected |= set(_deliveries(store, 5))
    seen: list[int] = []
    while ids := claim_batch(db.session, 25):
        assert _store_of(ids)[burst] > 0  # never starved by the others' share
        seen += ids
        _finish(ids)
    assert sorted(seen) == sorted(expected)  # every delivery once


def _postgres_only() -> None:
    if db.engine.dialect.name != "postgresql":
        pytest.skip("row locks (FOR UPDATE SKIP LOCKED) are PostgreSQL's: run with TEST_DATABASE_URL")


def test_a_claim_skips_rows_another_worker_holds_locked(app, ctx):
    _postgres_only()
    burst, other = _stores(2)
    held_ids = _deliveries(burst, 5)
    rest = _deliveries(burst, 5) + _deliveries(other, 2)
    with Session(db.engine) as first:
        # The first worker is inside its claim: the burst store's oldest rows locked, not yet updated.
        stmt = select(WebhookDelivery.id).where(WebhookDelivery.id.in_(held_ids)).with_for_update()
        assert sorted(first.scalars(stmt)) == held_ids
        assert sorted(claim_batch(db.session, 100)) == sorted(rest)  # no wait, none of the first worker's rows
        first.rollback()
    assert sorted(claim_batch(db.session, 100)) == held_ids


def test_workers_claiming_at_once_never_take_the_same_row(app, ctx):
    _postgres_only()
    burst, *others = _stores(6)
    expected = _deliveries(burst, 400)
    for store in others:
        expected += _deliveries(store, 20)
    claimed: list[list[int]] = [[], [], []]
    start = threading.Barrier(len(claimed))

    def worker(index: int) -> None:
        with app.app_context(), Session(db.engine) as session:
            start.wait()
            while batch := claim_batch(session, 13):
                claimed[index].extend(batch)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(claimed))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    ids = [delivery_id for batch in claimed for delivery_id in batch]
    assert sorted(ids) == sorted(expected)  # every row once: none twice, none left
    assert all(claimed), "every worker claimed some: nobody stood in line behind another's locks"
