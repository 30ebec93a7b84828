"""GET|POST /orders/<order_id>/survey: the one-question survey on the Shopify Thank-you page (the ppe-thank-you
extension, docs/shopify-extensions.md), beside the e-mail survey after delivery (sending.py, page.py).

auth="customer" (the extension's session token naming a customer, `sub`; the widget's token and the app proxy
work too), order-scoped: the order must be that customer's in that store; any other order, another customer's or
one we never saw (the webhook may still trail the page), is the same 404 `order_not_found`.

GET answers the question the store set (NPS 0-10 or CSAT 1-5, settings.py) and whether this order was answered.
POST {"score": n} stores the answer once per order: the survey's row is keyed by (store, order) (models.py's
unique key), so the Thank-you page inserts it when the e-mail survey has not scheduled one yet (insert_row: a
concurrent twin or an existing row is simply found), then fork.answer stores the score with a conditional UPDATE:
the first answer wins, from the page, the e-mail link or two tabs at once. The answer feeds the same fork as the
e-mail's (a detractor's tells the merchant and may open a recovery case; a promoter gets the review and referral
links), and an order answered on the page is not surveyed again by e-mail (sending.py sends only scheduled rows).

A row made here counts as sent when the question was answered (sent_at = answered_at): the results (results.py)
count requests sent in a period, and an unanswered Thank-you question leaves no row.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Response, current_app, jsonify, request
from sqlalchemy import select
from werkzeug.exceptions import Gone, NotFound, UnprocessableEntity

from app.extensions import db
from app.messaging.api import mail_now
from app.platform.sql import insert_row
from app.records.models import Customer, Order
from app.records.orders import find_order
from app.storefront.registry import register_schema, storefront_route
from app.storefront.shopper import current_shopper
from app.stores.models import Store
from app.surveys.fork import answer, next_steps, valid_score
from app.surveys.models import CANCELLED, SENT, SurveyRequest
from app.surveys.settings import SCALES, get_settings

ORDER_ID = re.compile(r"[0-9A-Za-z_-]{1,64}")
_PATH = {"order_id": {"type": "string", "pattern": "^[0-9A-Za-z_-]{1,64}$"}}
_NULLABLE_URL = {"type": ["string", "null"]}
ORDER_SURVEY = register_schema(
    "OrderSurvey",
    {
        "type": "object",
        "required": ["enabled", "kind", "low", "high", "answered", "score", "group"],
        "properties": {
            "enabled": {"type": "boolean"},
            "kind": {"enum": ["nps", "csat", None]},
            "low": {"type": ["integer", "null"]},
            "high": {"type": ["integer", "null"]},
            "answered": {"type": "boolean"},
            "score": {"type": ["integer", "null"]},
            "group": {"enum": ["promoter", "passive", "detractor", None]},
            "stored": {"type": "boolean"},
            "review_url": _NULLABLE_URL,
            "referral_url": _NULLABLE_URL,
        },
    },
)
SURVEY_ANSWER = register_schema(
    "SurveyAnswer",
    {
        "type": "object",
        "required": ["score"],
        "additionalProperties": False,
        "properties": {"score": {"type": "integer", "minimum": 0, "maximum": 10}},
    },
)
_ERRORS = {"404": "no such order of this customer", "410": "the order's survey was cancelled (order cancelled)"}


def _customers_order(order_id: str) -> tuple[Store, Customer, Order]:
    store, customer = current_shopper()
    order = find_order(db.session, store, order_id) if ORDER_ID.fullmatch(order_id) else None
    if customer is None or order is None or order.customer_id != customer.id or order.deleted_at is not None:
        raise NotFound(description="order_not_found")
    return store, customer, order


def _row(store: Store, order: Order) -> SurveyRequest | None:
    return db.session.scalar(
        select(SurveyRequest).where(
            SurveyRequest.store_id == store.id, SurveyRequest.order_platform_id == order.platform_id
        )
    )


def _answer(kind: str | None, row: SurveyRequest | None, **extra: Any) -> dict[str, Any]:
    kind = row.kind if row is not None else kind
    low, high = SCALES[kind] if kind else (None, None)
    answered = row is not None and row.score is not None
    return {
        "enabled": kind is not None,
        "kind": kind,
        "low": low,
        "high": high,
        "answered": answered,
        "score": row.score if answered and row is not None else None,
        "group": row.group if answered and row is not None else None,
        **extra,
    }


@storefront_route(
    "/orders/<order_id>/survey",
    auth="customer",
    summary="The post-purchase question for one of the customer's orders, and whether it was answered",
    response=ORDER_SURVEY,
    path_params=_PATH,
    errors=_ERRORS,
)
def order_survey(order_id: str) -> Response:
    store, _, order = _customers_order(order_id)
    settings = get_settings(store)
    row = _row(store, order)
    if row is not None and row.score is None and row.status == CANCELLED:
        return jsonify(_answer(None, None))  # nothing to ask: the order was cancelled or refunded
    return jsonify(_answer(settings.kind if settings.enabled else None, row))


@storefront_route(
    "/orders/<order_id>/survey",
    methods=["POST"],
    auth="customer",
    summary="Answer the post-purchase question for one of the customer's orders (stored once per order)",
    request=SURVEY_ANSWER,
    response=ORDER_SURVEY,
    path_params=_PATH,
    errors={**_ERRORS, "422": "score missing or outside the store's scale"},
)
def answer_order_survey(order_id: str) -> Response:
    store, customer, order = _customers_order(order_id)
    settings = get_settings(store)
    body = request.get_json(silent=True)
    score = body.get("score") if isinstance(body, dict) else None
    now = mail_now(current_app)
    row = _row(store, order)
    if row is None and not settings.enabled:
        raise NotFound(description="survey_off")
    kind = row.kind if row is not None else settings.kind
    if isinstance(score, bool) or not isinstance(score, int) or not valid_score(kind, score):
        raise UnprocessableEntity(description="score")
    if row is None:
        # The unique (store, order) key decides: a row the e-mail path or a twin request made first is found below.
        insert_row(
            db.session,
            SurveyRequest(
                store_id=store.id,
                order_platform_id=order.platform_id,
                customer_id=customer.id,
                kind=kind,
                status=SENT,
                sent_at=now,
                locale=order.locale,
            ),
        )
        row = _row(store, order)
        assert row is not None
        if not valid_score(row.kind, score):  # a twin row of another kind (the store switched scale meanwhile)
            db.session.rollback()
            raise UnprocessableEntity(description="score")
    if row.score is None and row.status == CANCELLED:
        db.session.rollback()
        raise Gone(description="survey_closed")
    stored = answer(db.session, store, row, score, None, now)
    steps = next_steps(db.session, store, row)  # may draw the promoter's referral code: inside the transaction
    db.session.commit()
    return jsonify(_answer(None, row, stored=stored, **steps))
