"""When a survey is due: the follower's rule, a pure function of the order as it now is (so duplicates and any
delivery order converge, as for review requests).

- delivered (Order.delivered_at; a WooCommerce order's completion counts as its delivery, as for reviews) and the
  store's survey on: a request due `days_after_delivery` later, once per order (the unique key);
- cancelled, deleted or fully refunded before it was sent: cancelled, and its queued message with it;
- orders before the store's history cut-off never reach this follower (takes_past = False): the past is not
  surveyed.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.messaging import cancel_messages
from app.platform.sql import in_keys, insert_row
from app.records.models import Order
from app.stores.models import Store
from app.surveys.models import CANCELLED, SCHEDULED, SurveyRequest
from app.surveys.settings import get_settings


def delivered_at(store: Store, order: Order) -> datetime | None:
    if order.delivered_at is not None:
        return order.delivered_at
    if store.platform == "woocommerce" and order.platform_status == "completed":
        return order.fulfilled_at or order.platform_updated_at
    return None


def _stops(order: Order) -> str | None:
    if order.deleted_at is not None:
        return "deleted"
    if order.cancelled_at is not None:
        return "cancelled"
    if order.total_price > 0 and order.refunded_amount >= order.total_price:
        return "refunded"
    return None


def existing_requests(session: Session, store: Store, order_ids: Sequence[str]) -> dict[str, SurveyRequest]:
    stmt = select(SurveyRequest).where(
        SurveyRequest.store_id == store.id, in_keys(session, SurveyRequest.order_platform_id, order_ids)
    )
    return {row.order_platform_id: row for row in session.scalars(stmt)}


def reconcile(session: Session, store: Store, order: Order, existing: SurveyRequest | None) -> None:
    stop = _stops(order)
    if existing is not None:
        if stop and existing.status == SCHEDULED:
            existing.status, existing.reason = CANCELLED, stop
            cancel_messages(session, store, dedupe_prefix=f"survey:{existing.id}")
        return
    settings = get_settings(store)
    when = delivered_at(store, order)
    if stop or not settings.enabled or when is None or order.customer_id is None:
        return
    insert_row(
        session,
        SurveyRequest(
            store_id=store.id,
            order_platform_id=order.platform_id,
            customer_id=order.customer_id,
            kind=settings.kind,
            status=SCHEDULED,
            due_at=when + timedelta(days=settings.days_after_delivery),
            locale=order.locale,
        ),
    )
