"""Review requests timed to delivery: each request kept in step with its order (the reviews follower,
reviews/follower.py), the scheduler's claim, and the send (a request becomes an outbox message; reviews/tasks.py
runs it).

Reconciliation is a pure function of the order's current rows, run on every order / refund / fulfilment /
shipment event, so duplicates and any delivery order converge (DESIGN.md, "Why events are snapshots"):
- due = delivered_at + delay_days once every active parcel is delivered (orders.refresh_order's rule), else
  the last parcel's shipped_at + fallback_days (carriers that never report delivery); a WooCommerce order's
  completion counts as its delivery (WooCommerce has no carrier events), so it is due completed + delay_days;
- a cancelled, deleted or fully refunded order cancels a request not sent yet, and its queued message;
- a re-fulfilment (a parcel cancelled, another created) recomputes the due date; no active parcel left:
  cancelled with reason "unfulfilled", revived when one appears.
Per-customer cap and consent are checked at send time, not here (they depend on when it is sent); the cap's
count is taken under the customer's lock (platform/guards.within_cap), held to the send's commit.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session

from app.messaging import enqueue_message
from app.messaging.api import CANCELLED as MESSAGE_CANCELLED
from app.messaging.api import QUEUED, SENDING, Message, resolve_locale
from app.platform import outbox as platform_outbox
from app.platform.guards import within_cap
from app.platform.sql import get_in_store
from app.records.catalog import order_product_ids, products_by_id
from app.records.models import Customer, Fulfillment, Order, Product
from app.records.orders import INACTIVE_FULFILLMENTS
from app.reviews.links import help_url, star_url
from app.reviews.models.review import CANCELLED, REMINDED, REVIEWED, SCHEDULED, SENT, SKIPPED, Review, ReviewRequest
from app.reviews.settings import PER_SHIPMENT, ReviewSettings, review_settings
from app.stores.models import Store

log = logging.getLogger(__name__)
REVIVABLE = {"unfulfilled"}


def _stops(order: Order) -> str | None:
    if order.deleted_at is not None:
        return "deleted"
    if order.cancelled_at is not None:
        return "cancelled"
    if order.financial_status == "refunded" or (order.total_price > 0 and order.refunded_amount >= order.total_price):
        return "refunded"
    return None


def _due(parcels: list[Fulfillment], cfg: ReviewSettings, *, completion_delivers: bool = False) -> datetime | None:
    if not parcels:
        return None
    # WooCommerce reports no carrier events: the merchant's "completed" is the signal review timing rests
    # on, so its synthetic completion parcel (connectors/woocommerce_snapshots.py) counts as delivered when it shipped.
    delivered = [
        f.delivered_at or (f.shipped_at if completion_delivers and f.platform_id.endswith("-completed") else None)
        for f in parcels
    ]
    if all(delivered):
        # all() checked that every parcel has a date; it does not narrow the list's item type.
        return max(cast("list[datetime]", delivered)) + timedelta(days=cfg.delay_days)
    shipped = [f.shipped_at for f in parcels if f.shipped_at is not None]
    return max(shipped) + timedelta(days=cfg.fallback_days) if shipped else None


def reconcile(session: Session, store: Store, order_platform_id: str) -> None:
    order = session.scalar(select(Order).where(Order.store_id == store.id, Order.platform_id == order_platform_id))
    if order is None:
        return  # a fulfilment before its order: the order's own event reconciles
    requests = session.scalars(
        select(ReviewRequest)
        .where(ReviewRequest.store_id == store.id, ReviewRequest.order_platform_id == order_platform_id)
        .with_for_update()
    ).all()
    rows = session.scalars(
        select(Fulfillment).where(Fulfillment.store_id == store.id, Fulfillment.order_platform_id == order_platform_id)
    ).all()
    reconcile_loaded(session, store, order, requests, rows)
    session.flush()


def reconcile_loaded(
    session: Session, store: Store, order: Order, requests: Sequence[ReviewRequest], rows: Sequence[Fulfillment]
) -> None:
    """reconcile() on the order's requests and fulfilment rows already loaded (the batch path); no flush."""
    order_platform_id = order.platform_id
    held = {r.fulfillment_key: r for r in requests}
    request: ReviewRequest | None  # the loops below bind it, the last to held.get(key)
    stop = _stops(order)
    if stop is not None:
        for request in held.values():
            cancel_request(session, store, request, stop)
        return
    cfg = review_settings(store)
    woo = store.platform == "woocommerce"
    parcels = [f for f in rows if f.status is not None and f.status not in INACTIVE_FULFILLMENTS]
    if cfg.mode == PER_SHIPMENT:
        wanted = {f.platform_id: _due([f], cfg, completion_delivers=woo) for f in parcels}
    else:
        wanted = {"": _due(parcels, cfg, completion_delivers=woo)} if parcels else {}
    for key, request in held.items():
        if key not in wanted:
            cancel_request(session, store, request, "unfulfilled")
    if not cfg.enabled or order.customer_id is None:
        return
    for key, due in wanted.items():
        request = held.get(key)
        if request is None:
            request = ReviewRequest(
                store_id=store.id, order_platform_id=order_platform_id, fulfillment_key=key, attempts=0
            )
            session.add(request)
        elif request.status == CANCELLED and request.reason in REVIVABLE:
            request.status, request.reason = SCHEDULED, None
        elif request.status != SCHEDULED:
            continue  # sent, reviewed or skipped: a late event never re-sends
        request.status = SCHEDULED
        request.customer_id = order.customer_id
        request.due_at = due


def cancel_request(session: Session, store: Store, request: ReviewRequest, reason: str) -> None:
    if request.status == SCHEDULED:
        request.status, request.reason, request.locked_until = CANCELLED, reason, None
        log.info("reviews.request_cancelled", extra={"store_id": store.id, "request_id": request.id, "reason": reason})
    if request.id is not None and request.status in (SCHEDULED, SENT, CANCELLED):
        # Exact keys, not a prefix: "review_request:12" is a prefix of "review_request:123".
        session.execute(
            update(Message)
            .where(
                Message.store_id == store.id,
                Message.dedupe_key.in_((f"review_request:{request.id}", f"review_reminder:{request.id}")),
                Message.status.in_((QUEUED, SENDING)),
            )
            .values(status=MESSAGE_CANCELLED, locked_until=None)
            .execution_options(synchronize_session=False)
        )
        if request.status == SENT:  # the request went out already: never send its reminder
            request.reminder_due_at = None
    session.flush()


def claim_due(session: Session, *, now: datetime, limit: int, lease: timedelta) -> list[platform_outbox.Claimed]:
    """Claim due requests and reminders of active stores; (request id, attempt, store id). Commits."""
    return platform_outbox.claim_due(
        session,
        ReviewRequest,
        now=now,
        limit=limit,
        lease=lease,
        join=(Store, Store.id == ReviewRequest.store_id),
        where=[
            Store.status == "active",
            or_(
                and_(ReviewRequest.status == SCHEDULED, ReviewRequest.due_at <= now),
                and_(ReviewRequest.status == SENT, ReviewRequest.reminder_due_at <= now),
            ),
            or_(ReviewRequest.locked_until.is_(None), ReviewRequest.locked_until < now),
        ],
        order_by=[ReviewRequest.due_at, ReviewRequest.id],
    )


def _products(order: Order, request: ReviewRequest, locale: str, catalogue: dict[str, Product]) -> list[dict[str, Any]]:
    seen: dict[str, dict[str, Any]] = {}
    for item in order.line_items or []:
        product_id = item.get("product_id")
        if not product_id or product_id in seen:
            continue
        cached = catalogue.get(product_id)
        known = cached if cached is not None and cached.found else None  # the row, not a bool: narrows the type
        seen[product_id] = {
            "title": (known.title if known and known.title else None) or item.get("title") or "",
            # The line item's own image (WooCommerce) is the variant bought; else the catalogue's (both https).
            "image_url": item.get("image_url") or (known.image_url if known else None),
            "url": known.url if known else None,
            "star_urls": [star_url(order.store_id, request.id, product_id, n, locale) for n in range(1, 6)],
        }
    return list(seen.values())


def _skip(store: Store, request: ReviewRequest, reason: str) -> str:
    request.status, request.reason, request.locked_until = SKIPPED, reason, None
    log.info("reviews.request_skipped", extra={"store_id": store.id, "request_id": request.id, "reason": reason})
    return "skipped"


def send_request(session: Session, request_id: int, store_id: int, attempt: int | None, now: datetime) -> str:
    """Turn a claimed request (or its reminder) into an outbox message. Caller commits."""
    request = get_in_store(session, ReviewRequest, request_id, store_id, for_update=True)
    if request is None:
        return "missing"
    if attempt is not None and request.attempts != attempt:
        return "stale"  # our lease expired and the row was claimed again: that job sends it
    request.locked_until = None
    store = session.get(Store, request.store_id)
    order = session.scalar(
        select(Order).where(Order.store_id == request.store_id, Order.platform_id == request.order_platform_id)
    )
    if store is None or store.status != "active" or order is None:
        return "gone"
    if request.status == SENT:
        return _remind(session, store, order, request, now)
    if request.status != SCHEDULED or request.due_at is None or request.due_at > now:
        return "not_due"
    stop = _stops(order)
    if stop is not None:
        cancel_request(session, store, request, stop)
        return "cancelled"
    customer = get_in_store(session, Customer, request.customer_id, request.store_id) if request.customer_id else None
    if customer is None or customer.store_id != store.id or not customer.email:
        return _skip(store, request, "no_address")
    if customer.email_consent is False:
        return _skip(store, request, "no_consent")
    cfg = review_settings(store)

    def recent() -> int | None:
        return session.scalar(
            select(func.count(ReviewRequest.id)).where(
                ReviewRequest.store_id == store.id,
                ReviewRequest.customer_id == customer.id,
                ReviewRequest.id != request.id,
                ReviewRequest.sent_at.is_not(None),
                ReviewRequest.sent_at > now - timedelta(days=30),
            )
        )

    # The customer's lock, held until the caller commits this request's sent_at: a concurrent send to the same
    # customer counts after it (platform/guards.py).
    if not within_cap(session, store.id, customer.id, recent, cfg.max_per_customer_30d):
        return _skip(store, request, "customer_cap")
    locale = resolve_locale(order.locale, customer.locale, (store.settings or {}).get("locale"))
    request.locale = locale
    context = _context(session, order, customer, request, locale)
    if not context["products"]:
        return _skip(store, request, "no_products")
    enqueue_message(
        session, store, template="review_request", to=customer.email, locale=locale, context=context,
        dedupe_key=f"review_request:{request.id}", customer_id=customer.id, send_after=now,
    )  # fmt: skip
    request.status, request.sent_at = SENT, now
    request.reminder_due_at = now + timedelta(days=cfg.reminder_days)
    log.info("reviews.request_sent", extra={"store_id": store.id, "request_id": request.id})
    return "sent"


def _context(session: Session, order: Order, customer: Customer, request: ReviewRequest, locale: str) -> dict[str, Any]:
    catalogue = products_by_id(session, order.store_id, order_product_ids(order))
    return {
        "first_name": customer.first_name or None,
        "products": _products(order, request, locale, catalogue),
        "help_url": help_url(order.store_id, request.id, locale),
    }


def _remind(session: Session, store: Store, order: Order, request: ReviewRequest, now: datetime) -> str:
    if request.reminder_due_at is None or request.reminder_due_at > now:
        return "not_due"
    reviewed = session.scalar(select(Review.id).where(Review.store_id == store.id, Review.request_id == request.id))
    if reviewed is not None:
        request.status, request.reminder_due_at = REVIEWED, None
        return "reviewed"
    customer = get_in_store(session, Customer, request.customer_id, request.store_id) if request.customer_id else None
    if _stops(order) or customer is None or not customer.email or customer.email_consent is False:
        request.reminder_due_at = None
        return "no_reminder"
    locale = request.locale or resolve_locale(order.locale, customer.locale, (store.settings or {}).get("locale"))
    enqueue_message(
        session, store, template="review_reminder", to=customer.email, locale=locale,
        context=_context(session, order, customer, request, locale), dedupe_key=f"review_reminder:{request.id}",
        customer_id=customer.id, send_after=now,
    )  # fmt: skip
    request.status, request.reminded_at, request.reminder_due_at = REMINDED, now, None
    log.info("reviews.reminder_sent", extra={"store_id": store.id, "request_id": request.id})
    return "reminded"
