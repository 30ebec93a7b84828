"""The scheduler step: due requests become messages on the customer's channel. No lease is needed: sending only
writes an outbox row, idempotent per request (dedupe key survey:<id>), so a step run twice queues one message.
At send time the rule is checked again (the store may have turned the survey off, the order may have been
cancelled while the batch path skipped a disabled store)."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from flask import Flask
from sqlalchemy import select

from app.extensions import db
from app.messaging.api import mail_now, resolve_locale, send_to_customer
from app.platform.sql import get_in_store
from app.records.models import Customer, Order
from app.records.orders import find_order
from app.stores.models import Store
from app.surveys.links import answer_url
from app.surveys.models import CANCELLED, SCHEDULED, SENT, SurveyRequest
from app.surveys.scheduling import _stops
from app.surveys.settings import SCALES, get_settings

log = logging.getLogger(__name__)
PER_TICK = 500
TEMPLATE = "survey_request"


def context(store: Store, request: SurveyRequest, customer: Customer, order: Order, locale: str) -> dict[str, Any]:
    low, high = SCALES[request.kind]
    return {
        "first_name": customer.first_name,
        "order_name": order.name or f"#{order.platform_id}",
        "kind": request.kind,
        "scores": [{"score": n, "url": answer_url(store.id, request.id, n, locale)} for n in range(low, high + 1)],
        "choose_url": answer_url(store.id, request.id, -1, locale),  # SMS: one link to the scale
    }


def send_one(session: Any, store: Store, request: SurveyRequest, now: datetime) -> str:
    order = find_order(session, store, request.order_platform_id)
    customer = get_in_store(session, Customer, request.customer_id, request.store_id) if request.customer_id else None
    stop = _stops(order) if order is not None else "deleted"
    if stop or customer is None or not get_settings(store).enabled:
        request.status, request.reason = CANCELLED, stop or ("no_customer" if customer is None else "disabled")
        return request.status
    assert order is not None
    locale = resolve_locale(request.locale, customer.locale, (store.settings or {}).get("locale"))
    request.locale = locale
    send_to_customer(session, store, customer_id=customer.id, template=TEMPLATE,
                     context=context(store, request, customer, order, locale), dedupe_key=f"survey:{request.id}",
                     locale=locale, capped=True, urgent=False)  # fmt: skip
    request.status, request.sent_at = SENT, now
    return SENT


def send_due(app: Flask) -> dict[str, int]:
    with app.app_context():
        try:
            now = mail_now(app)
            stmt = (
                select(SurveyRequest, Store)
                .join(Store, Store.id == SurveyRequest.store_id)
                .where(SurveyRequest.status == SCHEDULED, SurveyRequest.due_at <= now, Store.status == "active")
                .order_by(SurveyRequest.due_at, SurveyRequest.id)
                .limit(PER_TICK)
            )
            outcomes: dict[str, int] = {}
            for request, store in db.session.execute(stmt).all():
                outcome = send_one(db.session, store, request, now)
                outcomes[outcome] = outcomes.get(outcome, 0) + 1
            db.session.commit()
            if outcomes:
                log.info("surveys.sent", extra=outcomes)
            return outcomes
        finally:
            db.session.remove()
