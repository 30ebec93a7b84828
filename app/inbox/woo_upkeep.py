"""WooCommerce upkeep: register our webhooks, keep them enabled, reconcile missed orders, refresh the store's details.

- register_woo_webhooks(store_id): enqueued by the wc-auth callback (which must
  answer 200 quickly, so it makes no REST call). Idempotent: our webhooks are
  found by delivery_url + topic and updated, never duplicated.
- maintain_woo_store(store_id): enqueued by tick() every WOO_RECONCILE_INTERVAL_SECONDS.
  WooCommerce disables a webhook after 5 consecutive failed deliveries (filter
  woocommerce_max_webhook_delivery_failures, includes/class-wc-webhook.php) and
  never retries a failed delivery, so we re-enable disabled webhooks and fetch orders modified since the
  last watermark (app/inbox/woo_reconcile.py).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any, cast

from flask import Flask, current_app
from redis.exceptions import RedisError
from rq import Retry
from sqlalchemy import CursorResult, or_, select, update

from app.extensions import db
from app.inbox.woo_reconcile import reconcile_orders
from app.platform.jobs import job_app
from app.platform.logs import reason
from app.platform.queue import get_queue
from app.platform.types import utcnow
from app.security import secret_box
from app.stores.cache import forget_store
from app.stores.details import refresh_details
from app.stores.models import Store
from app.stores.models.woocommerce import WEBHOOKS_ACTIVE, WEBHOOKS_ERROR, WooStoreState
from app.stores.woo_connect import disconnect, same_url
from connectors import get_connector
from connectors.exceptions import ConnectorError, RateLimited, StoreUnavailable
from connectors.woocommerce_admin import AccessDenied, WooAdminClient
from connectors.woocommerce_store import WooStoreReader

log = logging.getLogger(__name__)

_RETRY = Retry(max=5, interval=[30, 120, 600, 1800, 3600])


def delivery_url() -> str:
    return current_app.config.get("APP_URL", "http://127.0.0.1:8000").rstrip("/") + "/webhooks/woocommerce"


def _client(store: Store, state: WooStoreState) -> tuple[WooStoreReader, dict[str, Any]]:
    creds = secret_box().open(store.credentials)
    if not creds.get("consumer_key") or not creds.get("consumer_secret"):
        raise AccessDenied("no keys stored")
    timeout = float(current_app.config.get("WOO_API_TIMEOUT_SECONDS", 10))
    return WooStoreReader(state.api_url, creds["consumer_key"], creds["consumer_secret"], timeout=timeout), creds


def _load(store_id: int) -> tuple[Store, WooStoreState] | None:
    store = db.session.get(Store, store_id)
    state = db.session.get(WooStoreState, store_id)
    if store is None or state is None or store.platform != "woocommerce" or store.status != "active":
        return None
    return store, state


def sync_webhooks(client: WooAdminClient, *, url: str, secret: str, name: str, rotate: bool) -> dict[str, Any]:
    """Make exactly one active webhook per topic point at `url`; returns topic -> {id, status}.

    rotate=True (a new connection) also sets the secret and re-activates paused
    ones; upkeep only re-enables what WooCommerce itself disabled.
    """
    ours = [w for w in client.list_webhooks() if same_url(w.get("delivery_url"), url)]
    result: dict[str, Any] = {}
    for topic in get_connector("woocommerce").topics:
        matches = sorted((w for w in ours if w.get("topic") == topic), key=lambda w: int(w["id"]))
        if not matches:
            made = client.create_webhook(name=f"{name} {topic}", topic=topic, delivery_url=url, secret=secret)
            result[topic] = {"id": str(made["id"]), "status": made.get("status")}
            continue
        keep = matches[0]
        for extra in matches[1:]:  # left by a concurrent or interrupted earlier run
            client.delete_webhook(extra["id"])
        fields: dict[str, Any] = {}
        if rotate:
            fields = {"name": f"{name} {topic}", "secret": secret}
        if keep.get("status") == "disabled" or (rotate and keep.get("status") != "active"):
            fields["status"] = "active"
        if fields:
            keep = client.update_webhook(keep["id"], **fields)
            if "status" in fields:
                log.info("woo.webhook_reenabled" if not rotate else "woo.webhook_updated", extra={"topic": topic})
        result[topic] = {"id": str(keep["id"]), "status": keep.get("status")}
    return result


def _sync(store: Store, state: WooStoreState, *, rotate: bool) -> None:
    client, creds = _client(store, state)
    db.session.commit()  # no transaction held open across HTTP calls
    name = current_app.config.get("APP_NAME", "Post-purchase engine")
    webhooks = sync_webhooks(
        client, url=delivery_url(), secret=creds.get("webhook_secret", ""), name=name, rotate=rotate
    )
    state.webhooks = webhooks
    all_active = all(w.get("status") == "active" for w in webhooks.values())
    state.webhooks_status = WEBHOOKS_ACTIVE if all_active else WEBHOOKS_ERROR
    state.last_error = None if all_active else "webhook_not_active"
    refresh_details(store, client.store_details)  # name, currency, time zone, e-mail (stores/details.py)


def _fail(store_id: int, exc: Exception) -> None:
    db.session.rollback()
    state = db.session.get(WooStoreState, store_id)
    if state is not None:
        state.last_error = type(exc).__name__
        if isinstance(exc, AccessDenied):
            state.webhooks_status = WEBHOOKS_ERROR
        db.session.commit()
    log.warning("woo.sync_failed", extra={"store_id": store_id, "error": type(exc).__name__, "reason": reason(exc)})


def register_woo_webhooks(store_id: int) -> dict[str, Any]:
    """RQ job. Raises StoreUnavailable/RateLimited so RQ retries; a refused key is final."""

    def register(store: Store, state: WooStoreState) -> dict[str, Any]:
        _sync(store, state, rotate=True)
        db.session.commit()
        log.info("woo.webhooks_registered", extra={"store_id": store_id, "count": len(state.webhooks)})
        return {"status": state.webhooks_status, "webhooks": len(state.webhooks)}

    return _store_job(store_id, register, retry_on=(StoreUnavailable, RateLimited))


def enqueue_registration(store_id: int) -> bool:
    """After the callback committed. False (and upkeep will do it) when Redis is away."""
    try:
        get_queue().enqueue(register_woo_webhooks, store_id, retry=_RETRY, job_timeout=300, failure_ttl=7 * 86400)
        return True
    except RedisError as exc:
        log.warning("woo.enqueue_failed", extra={"store_id": store_id, "reason": reason(exc)})
        db.session.execute(
            update(WooStoreState).where(WooStoreState.store_id == store_id).values(next_maintenance_at=utcnow())
        )
        db.session.commit()
        return False


def maintain_woo_store(store_id: int) -> dict[str, Any]:
    """RQ job (from tick): re-enable disabled webhooks, create missing ones, reconcile orders."""

    def maintain(store: Store, state: WooStoreState) -> dict[str, Any]:
        _sync(store, state, rotate=False)
        db.session.commit()
        client, _ = _client(store, state)
        counts = reconcile_orders(store, state, client)
        db.session.commit()
        log.info("woo.maintained", extra={"store_id": store_id, **counts})
        return {"status": state.webhooks_status, **counts}

    return _store_job(store_id, maintain)


def _store_job(
    store_id: int,
    work: Callable[[Store, WooStoreState], dict[str, Any]],
    retry_on: tuple[type[ConnectorError], ...] = (),
) -> dict[str, Any]:
    """Run a job's work for a connected store (skipped otherwise). A connector error is recorded on
    the store; those in retry_on are raised again so RQ retries the job."""
    with job_app().app_context():
        try:
            loaded = _load(store_id)
            if loaded is None:
                return {"status": "skipped"}
            try:
                return work(*loaded)
            except retry_on as exc:
                _fail(store_id, exc)
                raise
            except ConnectorError as exc:
                _fail(store_id, exc)
                return {"status": "error", "error": type(exc).__name__}
        finally:
            db.session.remove()


def tick(app: Flask) -> dict[str, int]:
    """Scheduler hook: enqueue upkeep for every connected store that is due. No HTTP here."""
    with app.app_context():
        try:
            now = utcnow()
            interval = timedelta(seconds=int(app.config.get("WOO_RECONCILE_INTERVAL_SECONDS", 900)))
            due_clause = or_(WooStoreState.next_maintenance_at.is_(None), WooStoreState.next_maintenance_at <= now)
            due = db.session.scalars(
                select(WooStoreState.store_id)
                .join(Store, Store.id == WooStoreState.store_id)
                .where(Store.platform == "woocommerce", Store.status == "active", due_clause)
                .order_by(WooStoreState.next_maintenance_at)
                .limit(200)
            ).all()
            enqueued = 0
            for store_id in due:
                # Claim by moving the due time forward, so two schedulers cannot both enqueue it.
                # DML returns a CursorResult (rowcount); execute() is typed Result
                claimed = cast(
                    "CursorResult[Any]",
                    db.session.execute(
                        update(WooStoreState)
                        .where(WooStoreState.store_id == store_id, due_clause)
                        .values(next_maintenance_at=now + interval)
                    ),
                ).rowcount
                db.session.commit()
                if claimed:
                    get_queue().enqueue(maintain_woo_store, store_id, job_timeout=600, result_ttl=0)
                    enqueued += 1
            return {"due": len(due), "enqueued": enqueued}
        finally:
            db.session.remove()


def disconnect_woo_store(store_id: int) -> dict[str, Any]:
    """Job or direct call (CLI): stores.woo_connect.disconnect with a client on the stored keys."""
    with job_app().app_context():
        try:
            store = db.session.get(Store, store_id)
            if store is None or store.platform != "woocommerce":
                return {"status": "unknown"}
            state = db.session.get(WooStoreState, store_id)
            client = None
            if state is not None:
                try:
                    client, _ = _client(store, state)
                except AccessDenied:
                    client = None  # no keys left: nothing we can delete remotely
            result = disconnect(db.session, secret_box(), store, client=client, delivery_url=delivery_url())
            db.session.commit()
            forget_store("woocommerce", store.domain)
            log.info("woo.disconnected", extra={"store_id": store_id, "webhooks_deleted": result.webhooks_deleted})
            return {
                "status": "uninstalled",
                "webhooks_deleted": result.webhooks_deleted,
                "remote_error": result.remote_error,
            }
        finally:
            db.session.remove()
