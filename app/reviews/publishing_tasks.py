"""Publishing reviews back to the stores: the per-store drain job and its scheduler step.

`schedule_review_publishing(app)` (a scheduler step) enqueues `publish_store_reviews(store_id)` for every
active store with due rows, at most one queued job per store (a Redis NX key the job deletes when it starts),
so a lost enqueue or a crashed worker costs one tick, never a stranded row. The job takes a per-store Redis
lock (one drain per store at a time), then, with no transaction open across HTTP, writes through the store's
client (app/stores/clients.client_for) as the store keeps reviews (StoreClient.review_model). That choice stays in
the job because what it reads and records differs in kind: an aggregate recomputed from every published review,
or each review created once with its platform id recorded.
- "ratings", Shopify: products in groups of 12 (2 metafields each: 24 <= the 25 metafieldsSet takes per call,
  https://shopify.dev/docs/api/admin-graphql/2026-10/mutations/metafieldsSet), rating recomputed from our
  published reviews; products with none left have both metafields deleted (metafieldsDelete).
- "reviews", WooCommerce: one POST /products/reviews per published review not yet there (verified=true); a lost
  answer is retried and WordPress's duplicate check (409) hands back the existing review, so it arrives once
  (https://woocommerce.github.io/woocommerce-rest-api-docs/#create-a-product-review).
RateLimited: the row waits the platform's retry_after; StoreUnavailable: exponential backoff
(REVIEW_PUBLISH_RETRY_BASE_SECONDS * 2^(attempts-1), at most 6 h) until REVIEW_PUBLISH_MAX_ATTEMPTS, then
`failed`; any other connector error is permanent (`failed`, with the error's class or platform code).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from flask import Flask
from redis.exceptions import RedisError

from app.extensions import db
from app.messaging.api import mail_now
from app.platform.jobs import job_app
from app.platform.locks import job_lock
from app.platform.logs import reason
from app.platform.metrics import outbox_failed, outbox_retried
from app.platform.outbox import backoff
from app.platform.queue import get_queue, get_redis
from app.platform.redis_keys import store_tag
from app.platform.sql import get_in_store
from app.platform.types import utcnow
from app.records.models import Customer
from app.reviews import publishing as outbox
from app.stores.clients import NotConnected, client_for
from app.stores.models import Store
from connectors.exceptions import ConnectorError, RateLimited, StoreUnavailable
from connectors.woocommerce_writeback import WooRefused
from connectors.writeback import ProductRating, ReviewToPublish, StoreClient

log = logging.getLogger(__name__)
JOB = "app.reviews.publishing_tasks.publish_store_reviews"
PRODUCTS_PER_CALL = 12  # two metafields each: one metafieldsSet call of 24
BATCH = 100  # rows read per pass of the job
MAX_BACKOFF = timedelta(hours=6)


def _queued_key(store_id: int) -> str:
    return f"reviews:publish:queued:{store_tag(store_id)}"


def kick_publishing(store_id: int) -> bool:
    """Enqueue the store's drain job unless one is already queued; False when Redis is away (the step retries)."""
    try:
        redis = get_redis()
        if not redis.set(_queued_key(store_id), "1", nx=True, ex=300):
            return False
        get_queue().enqueue(JOB, store_id, job_timeout=600, result_ttl=3600)
        return True
    except RedisError as exc:
        log.warning("reviews.publish_kick_failed", extra={"store_id": store_id, "reason": reason(exc)})
        return False


def schedule_review_publishing(app: Flask) -> dict[str, int]:
    with app.app_context():
        try:
            stores = outbox.due_store_ids(db.session, mail_now(app))
            db.session.rollback()
            kicked = sum(kick_publishing(store_id) for store_id in stores)
            if kicked:
                log.info("reviews.publish_scheduled", extra={"stores": kicked})
            return {"due_stores": len(stores), "kicked": kicked}
        finally:
            db.session.remove()


def publish_store_reviews(store_id: int) -> dict[str, Any]:
    """RQ job: drain the store's due rows. Safe to run twice: the second finds nothing due, or the lock."""
    app = job_app()
    with app.app_context():
        try:
            redis = get_redis()
            redis.delete(_queued_key(store_id))  # before any work: a later mark triggers a new job
            lease = float(app.config.get("REVIEW_PUBLISH_LOCK_SECONDS", 600))
            with job_lock(redis, f"reviews:publish:lock:{store_tag(store_id)}", lease) as held:
                return _drain(app, store_id) if held else {"skipped": "locked"}
        finally:
            db.session.remove()


def _drain(app: Flask, store_id: int) -> dict[str, Any]:
    counts = {"done": 0, "retry": 0, "failed": 0}
    seen: set[int] = set()
    while True:
        store = db.session.get(Store, store_id)
        if store is None or store.status != "active":
            return {**counts, "skipped": "inactive"}
        now = mail_now(app)
        rows = [r for r in outbox.due_rows(db.session, store_id, now, BATCH) if r.id not in seen]
        if not rows:
            return counts
        seen.update(r.id for r in rows)
        try:
            client = client_for(store)
        except NotConnected as exc:
            for row in rows:
                outbox.failed(db.session, row, _reason(exc))
            db.session.commit()
            counts["failed"] += len(rows)
            return counts
        db.session.commit()  # no transaction held open across HTTP calls
        # Ratings: PRODUCTS_PER_CALL products share a call (and its outcome); reviews: each product on its own, as
        # each of its reviews is a call and a problem with one (a missing e-mail) is that product's.
        size = PRODUCTS_PER_CALL if client.review_model == "ratings" else 1
        groups = [rows[i : i + size] for i in range(0, len(rows), size)]
        for group in groups:
            outcome, wait_until = _publish(app, store, client, group)
            counts[outcome] += len(group)
            if outcome in ("failed", "retry"):
                (outbox_failed if outcome == "failed" else outbox_retried)("review_publication", len(group))
            if wait_until is not None:  # the store asked us to slow down or is away: the rest waits too
                for row in rows[rows.index(group[-1]) + 1 :]:
                    outbox.retry_later(db.session, row, wait_until, None, attempt=False)
                db.session.commit()
                return counts


def _publish(app: Flask, store: Store, client: StoreClient, group: list[outbox.Claimed]) -> tuple[str, datetime | None]:
    try:
        if client.review_model == "ratings":
            _ratings(client, store, group)
        else:
            problem = _reviews(client, store, group[0], mail_now(app))
            if problem:
                outbox.failed(db.session, group[0], problem)
                db.session.commit()
                log.warning(
                    "reviews.publish_failed",
                    extra={"store_id": store.id, "publication_id": group[0].id, "reason": problem.split(":")[0]},
                )
                return "failed", None
    except (RateLimited, StoreUnavailable) as exc:
        db.session.rollback()
        wait = exc.retry_after if isinstance(exc, RateLimited) else None
        latest = None
        for row in group:
            if row.attempts + 1 >= int(app.config.get("REVIEW_PUBLISH_MAX_ATTEMPTS", 8)):
                outbox.failed(db.session, row, _reason(exc))
            else:
                latest = _wait_until(app, row, wait)
                outbox.retry_later(db.session, row, latest, _reason(exc))
        db.session.commit()
        log.info("reviews.publish_retry", extra={"store_id": store.id, "error": type(exc).__name__})
        return "retry", latest or _wait_until(app, group[0], wait)
    except ConnectorError as exc:
        db.session.rollback()
        for row in group:
            outbox.failed(db.session, row, _reason(exc))
        db.session.commit()
        log.warning(
            "reviews.publish_failed",
            extra={"store_id": store.id, "publication_ids": [row.id for row in group], "reason": reason(exc)},
        )
        return "failed", None
    now = mail_now(app)
    for row in group:
        outbox.succeeded(db.session, row, now)
    db.session.commit()
    return "done", None


def _ratings(client: StoreClient, store: Store, group: list[outbox.Claimed]) -> None:
    """A "ratings" store (Shopify): each product's rating recomputed from our published reviews, then one write."""
    ratings = [
        ProductRating(row.product_id, *outbox.product_rating(db.session, store.id, row.product_id)) for row in group
    ]
    db.session.commit()
    client.publish_ratings(ratings)


def _reviews(client: StoreClient, store: Store, row: outbox.Claimed, now: datetime) -> str | None:
    """A "reviews" store (WooCommerce): create the product's unsent published reviews; a reason when something
    needs the merchant."""
    for review in outbox.unsent_reviews(db.session, store.id, row.product_id):
        customer = (
            get_in_store(db.session, Customer, review.customer_id, review.store_id) if review.customer_id else None
        )
        email = customer.email if customer is not None else None
        if not email:  # erased or never known: WooCommerce requires reviewer_email
            return f"no_reviewer_email:{review.id}"
        name = review.display_name or (customer.first_name if customer else None) or "Customer"
        text = review.body or review.title or "★" * review.rating  # WooCommerce refuses an empty review
        published = ReviewToPublish(row.product_id, text, name, email, review.rating, True)
        db.session.commit()
        try:
            created = client.publish_review(published)
        except WooRefused as exc:
            return f"refused:{exc.code or exc.status}:{review.id}"
        if created.platform_id is None:  # 409 but the existing one was not found again
            return f"duplicate_not_found:{review.id}"
        review.platform_review_id, review.published_to_platform_at = created.platform_id, now
        db.session.commit()
        log.info(
            "reviews.published",
            extra={"store_id": store.id, "review_id": review.id, "created_on_platform": created.created},
        )
    withdrawn = outbox.withdrawn_on_platform(db.session, store.id, row.product_id)
    return "rejected_on_platform:" + ",".join(withdrawn) if withdrawn else None


def _wait_until(app: Flask, row: outbox.Claimed, retry_after: float | None) -> datetime:
    if retry_after is None:
        base = float(app.config.get("REVIEW_PUBLISH_RETRY_BASE_SECONDS", 30))
        delay = backoff(row.attempts + 1, base, MAX_BACKOFF.total_seconds())
    else:
        delay = timedelta(seconds=max(1.0, retry_after))
    return (mail_now(app) or utcnow()) + delay


def _reason(exc: Exception) -> str:
    code = getattr(exc, "code", None)
    return f"{type(exc).__name__}:{code}" if isinstance(code, str) and code else type(exc).__name__
