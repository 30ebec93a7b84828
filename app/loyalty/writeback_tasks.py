"""push_balances(store_id): copy dirty customers' spendable points and tier to the store.

Shopify: metafieldsSet (loyalty.points_balance, loyalty.tier; connectors/shopify_metafields.py), at most 25
metafields per call (https://shopify.dev/docs/api/admin-graphql/2026-10/mutations/metafieldsSet), so a call
carries whole customers up to 25 metafields. WooCommerce: POST customers/batch with meta_data, 100 customers per
request (https://woocommerce.github.io/woocommerce-rest-api-docs/#batch-update-customers); an item refused in the
answer stays dirty with a backoff. The batching is the client's (StoreClient.write_loyalty, app/stores/clients.py):
the job hands it the due customers and at most LOYALTY_WRITEBACK_MAX_CALLS calls in all. One job per store at a
time (a Redis lock). RateLimited postpones the whole store by the wait it carries; rows are deleted only after
their call succeeded and only if their generation did not move meanwhile (loyalty/writeback.py).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from redis.exceptions import RedisError

from app.extensions import db
from app.loyalty.models import LoyaltyAccount, LoyaltyWriteback
from app.loyalty.writeback import clear, due_rows, postpone
from app.platform.jobs import job_app
from app.platform.locks import job_lock
from app.platform.metrics import outbox_retried
from app.platform.outbox import backoff
from app.platform.queue import get_queue, get_redis
from app.platform.redis_keys import store_tag
from app.platform.sql import get_in_store
from app.platform.types import utcnow
from app.records.models import Customer
from app.stores.clients import NotConnected, client_for
from app.stores.models import Store
from connectors.exceptions import RateLimited, StoreUnavailable
from connectors.writeback import LoyaltyBalance

log = logging.getLogger(__name__)

#: The metrics' name for this outbox (rows are never given up on: a refusal keeps backing off).
KIND = "loyalty_writeback"
LOCK_SECONDS = 300
ROWS_PER_PASS = 500  # due rows read at once; the client sends them in as many calls as its batch limit needs


def _queued_key(store_id: int) -> str:
    return f"loyalty:writeback:queued:{store_tag(store_id)}"


def enqueue_push(store_id: int) -> bool:
    """Enqueue one push per store at a time (a marker the job removes when it starts)."""
    try:
        if not get_redis().set(_queued_key(store_id), "1", nx=True, ex=LOCK_SECONDS):
            return False
        get_queue().enqueue(push_balances, store_id, job_timeout=LOCK_SECONDS, result_ttl=600)
        return True
    except RedisError:
        return False


def push_balances(store_id: int, now: datetime | None = None) -> dict[str, Any]:
    with job_app().app_context():
        redis = get_redis()
        with job_lock(redis, f"loyalty:writeback:lock:{store_tag(store_id)}", LOCK_SECONDS) as held:
            if not held:
                return {"status": "busy"}
            redis.delete(_queued_key(store_id))
            try:
                return _push(store_id, now or utcnow())
            finally:
                db.session.remove()


def _payload(
    store: Store, rows: list[LoyaltyWriteback]
) -> tuple[list[tuple[LoyaltyWriteback, LoyaltyBalance]], list[int]]:
    """(row, what to write) per customer still worth writing; ids of rows to drop (no platform customer)."""
    items, gone = [], []
    for row in rows:
        customer = get_in_store(db.session, Customer, row.customer_id, row.store_id)
        account = db.session.scalar(
            db.select(LoyaltyAccount).where(
                LoyaltyAccount.store_id == store.id, LoyaltyAccount.customer_id == row.customer_id
            )
        )
        if customer is None or customer.platform_id is None or account is None:
            gone.append(row.id)
            continue
        items.append((row, LoyaltyBalance(customer.platform_id, account.spendable, account.tier)))
    return items, gone


def _push(store_id: int, now: datetime) -> dict[str, Any]:
    cfg = current_app.config
    store = db.session.get(Store, store_id)
    if store is None or store.status != "active":
        return {"status": "skipped"}
    base, cap = float(cfg["REDEMPTION_RETRY_BASE_SECONDS"]), float(cfg["REDEMPTION_MAX_RETRY_WAIT_SECONDS"])
    max_calls = int(cfg["LOYALTY_WRITEBACK_MAX_CALLS"])
    calls = cleared = 0
    try:
        client = client_for(store)
    except NotConnected:
        return {"status": "not_connected"}
    while calls < max_calls:
        items, gone = _payload(store, due_rows(db.session, store, now, ROWS_PER_PASS))
        if gone:
            db.session.execute(db.delete(LoyaltyWriteback).where(LoyaltyWriteback.id.in_(gone)))
        if not items:
            db.session.commit()
            break
        # Customer ids are unique per store: each names its row, its generation as sent and its attempts.
        rows = {balance.customer_id: (row.id, row.generation, row.attempts) for row, balance in items}
        db.session.commit()  # no transaction held open across the HTTP calls
        result = client.write_loyalty([balance for _, balance in items], max_calls=max_calls - calls)
        calls += result.calls
        for customer_id in result.refused:
            row_id, _, attempts = rows[customer_id]
            reason = result.reasons.get(customer_id, "refused")  # e.g. the store kept another value
            postpone(db.session, store, [row_id], now + backoff(attempts + 1, base, cap), reason)
        outbox_retried(KIND, len(result.refused) + (len(result.failed) if result.error is not None else 0))
        cleared += clear(db.session, store, {rows[c][0]: rows[c][1] for c in result.written})
        error = result.error
        if isinstance(error, RateLimited):
            postpone(db.session, store, None, now + timedelta(seconds=min(float(error.retry_after), cap)), None)
            db.session.commit()
            return {"status": "rate_limited", "calls": calls, "cleared": cleared}
        if error is not None:
            # Each row waits by its own attempts; a permanent refusal keeps backing off (and shows in last_error).
            reason = f"{type(error).__name__}: {error}"
            for customer_id in result.failed:
                row_id, _, attempts = rows[customer_id]
                postpone(db.session, store, [row_id], now + backoff(attempts + 1, base, cap), reason)
        db.session.commit()
        if isinstance(error, StoreUnavailable):
            return {"status": "unavailable", "calls": calls, "cleared": cleared}
    log.info("loyalty.balances_pushed", extra={"store_id": store_id, "calls": calls, "cleared": cleared})
    return {"status": "done", "calls": calls, "cleared": cleared}
