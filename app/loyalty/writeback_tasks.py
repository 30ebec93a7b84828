"""push_balances(store_id): copy dirty customers' spendable points and tier to the store.

Shopify: metafieldsSet (loyalty.points_balance, loyalty.tier; connectors/shopify_metafields.py), at most 25
metafields per call (https://shopify.dev/docs/api/admin-graphql/2026-10/mutations/metafieldsSet), so a call
carries whole customers up to 25 metafields. WooCommerce: POST customers/batch with meta_data, 100 customers per
request (https://woocommerce.github.io/woocommerce-rest-api-docs/#batch-update-customers); an item refused in the
answer stays dirty with a backoff. One job per store at a time (a Redis lock). RateLimited postpones the whole
store by the wait it carries; rows are deleted only after the call succeeded and only if their generation did
not move meanwhile (loyalty/writeback.py).
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from redis.exceptions import RedisError

from app.extensions import db
from app.loyalty.models import LoyaltyAccount, LoyaltyWriteback
from app.loyalty.writeback import backoff, clear, due_rows, postpone
from app.platform.clients import NotConnected, shopify_client, woo_client
from app.platform.jobs import job_app
from app.platform.queue import get_queue, get_redis
from app.platform.types import utcnow
from app.records.models import Customer
from app.stores.models import Store
from connectors.exceptions import ConnectorError, RateLimited, StoreUnavailable
from connectors.shopify_metafields import METAFIELDS_PER_CALL, loyalty_metafields
from connectors.woocommerce_writeback import BATCH_LIMIT, LOYALTY_BALANCE_META, LOYALTY_TIER_META

log = logging.getLogger(__name__)
LOCK_SECONDS = 300


def _queued_key(store_id: int) -> str:
    return f"loyalty:writeback:queued:{store_id}"


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
        token = uuid.uuid4().hex
        lock = f"loyalty:writeback:lock:{store_id}"
        if not redis.set(lock, token, nx=True, ex=LOCK_SECONDS):
            return {"status": "busy"}
        redis.delete(_queued_key(store_id))
        try:
            return _push(store_id, now or utcnow())
        finally:
            db.session.remove()
            if redis.get(lock) == token.encode():
                redis.delete(lock)


def _payload(store: Store, rows: list[LoyaltyWriteback]) -> tuple[list[tuple[LoyaltyWriteback, Any]], list[int]]:
    """(row, what to send) per customer still worth writing; ids of rows to drop (no platform customer)."""
    items, gone = [], []
    for row in rows:
        customer = db.session.get(Customer, row.customer_id)
        account = db.session.scalar(
            db.select(LoyaltyAccount).where(
                LoyaltyAccount.store_id == store.id, LoyaltyAccount.customer_id == row.customer_id
            )
        )
        if customer is None or customer.platform_id is None or account is None:
            gone.append(row.id)
            continue
        if store.platform == "shopify":
            items.append((row, loyalty_metafields(customer.platform_id, account.spendable, account.tier)))
        else:
            meta = {LOYALTY_BALANCE_META: str(account.spendable), LOYALTY_TIER_META: account.tier or ""}
            items.append((row, (customer.platform_id, meta)))
    return items, gone


def _chunk(store: Store, items: list[tuple[LoyaltyWriteback, Any]]) -> list[tuple[LoyaltyWriteback, Any]]:
    """The first call's worth: whole customers up to 25 metafields (Shopify) or 100 customers (WooCommerce)."""
    if store.platform != "shopify":
        return items[:BATCH_LIMIT]
    taken, size = [], 0
    for row, fields in items:
        if size + len(fields) > METAFIELDS_PER_CALL:
            break
        taken.append((row, fields))
        size += len(fields)
    return taken


def _push(store_id: int, now: datetime) -> dict[str, Any]:
    cfg = current_app.config
    store = db.session.get(Store, store_id)
    if store is None or store.status != "active":
        return {"status": "skipped"}
    base, cap = float(cfg["REDEMPTION_RETRY_BASE_SECONDS"]), float(cfg["REDEMPTION_MAX_RETRY_WAIT_SECONDS"])
    calls = cleared = 0
    try:
        client = shopify_client(store) if store.platform == "shopify" else woo_client(store)
    except NotConnected:
        return {"status": "not_connected"}
    while calls < int(cfg["LOYALTY_WRITEBACK_MAX_CALLS"]):
        limit = METAFIELDS_PER_CALL if store.platform == "shopify" else BATCH_LIMIT
        items, gone = _payload(store, due_rows(db.session, store, now, limit))
        if gone:
            db.session.execute(db.delete(LoyaltyWriteback).where(LoyaltyWriteback.id.in_(gone)))
        chunk = _chunk(store, items)
        if not chunk:
            db.session.commit()
            break
        sent = {row.id: row.generation for row, _ in chunk}
        attempts = {row.id: row.attempts for row, _ in chunk}
        db.session.commit()  # no transaction held open across the HTTP call
        calls += 1
        refused: list[int] = []
        try:
            if store.platform == "shopify":
                client.set_metafields([m for _, fields in chunk for m in fields])
            else:
                answers = client.update_customer_meta([payload for _, payload in chunk])
                bad = {str(a.get("id")) for a in answers if isinstance(a, dict) and a.get("error")}
                refused = [row.id for row, payload in chunk if payload[0] in bad]
        except RateLimited as exc:
            postpone(db.session, store, None, now + timedelta(seconds=min(float(exc.retry_after), cap)), None)
            db.session.commit()
            return {"status": "rate_limited", "calls": calls, "cleared": cleared}
        except ConnectorError as exc:
            # Each row waits by its own attempts; a permanent refusal keeps backing off (and shows in last_error).
            for row_id in sent:
                until = now + backoff(attempts[row_id] + 1, base, cap)
                postpone(db.session, store, [row_id], until, f"{type(exc).__name__}: {exc}")
            db.session.commit()
            if isinstance(exc, StoreUnavailable):
                return {"status": "unavailable", "calls": calls, "cleared": cleared}
            continue
        for row_id in refused:
            postpone(db.session, store, [row_id], now + backoff(attempts[row_id] + 1, base, cap), "refused")
            sent.pop(row_id)
        cleared += clear(db.session, store, sent)
        db.session.commit()
    log.info("loyalty.balances_pushed", extra={"store_id": store_id, "calls": calls, "cleared": cleared})
    return {"status": "done", "calls": calls, "cleared": cleared}
