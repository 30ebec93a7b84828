"""Admin API: redeem a customer's points for a reward on their behalf, and follow the redemption.

- POST /admin/api/v1/customers/<customer id>/redemptions {reward_id, idempotency_key}
  -> 202 while the code is being created at the store (status pending), 201 once it exists or has failed;
  the same idempotency_key again answers the same redemption (no second hold, no second code).
  409 insufficient_points {spendable, wanted}; 404 customer_not_found / reward_not_found; 403 account_required.
- GET /admin/api/v1/customers/<customer id>/redemptions/<id>
Scoped to g.store: a customer or redemption of another store is 404.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Response, g, jsonify, request
from sqlalchemy.exc import IntegrityError

from app.admin import audit, bp
from app.admin.auth import merchant_required
from app.admin.openapi import documented, obj
from app.extensions import db
from app.loyalty.models import Redemption
from app.loyalty.redemption_tasks import enqueue_issue
from app.loyalty.redemptions import as_dict, find, redeem
from app.platform.sql import reread_in_store
from app.platform.types import utcnow
from app.records.customers import store_customer
from app.records.models import Customer
from app.stores.models import Store

REDEMPTION = obj("id", "customer_id", "reward_id", "status", id={"type": "integer"}, status={"type": "string"})
_REFUSALS = {
    400: "Not a JSON object with reward_id",
    403: "The customer has no account",
    409: "Not enough spendable points ({spendable, wanted}), or the idempotency key names another redemption",
    422: "Refused input (a missing idempotency key, no such reward)",
}


def error(key: str, message: str, status: int, **extra: object) -> tuple[Response, int]:
    return jsonify(error=key, message=message, **extra), status


def redeem_for(
    store: Store, customer: Customer, body: object, on_new: Callable[[Redemption], None] | None = None
) -> tuple[Response, int]:
    """Shared by the admin and storefront views: validate the body, redeem, commit, enqueue. A refusal
    (InsufficientPoints, RedemptionError) is raised to the surface's error handler. `on_new` runs in the
    redemption's transaction when this call made it (not for a replayed key): the admin's audit row."""
    if not isinstance(body, dict) or not isinstance(body.get("reward_id"), str):
        return error("invalid_request", "send a JSON object with reward_id and idempotency_key", 400)
    try:
        now = utcnow()
        redemption = redeem(db.session, store, customer, body["reward_id"], body.get("idempotency_key"), now)
        if on_new is not None and redemption.created_at == now:  # made now, with this call's clock
            on_new(redemption)
        rid = redemption.id
        db.session.commit()
    except IntegrityError:
        # The same key from a concurrent request won the insert: answer its redemption (that request's action).
        db.session.rollback()
        rid = redeem(db.session, store, customer, body["reward_id"], body["idempotency_key"], utcnow()).id
        db.session.commit()
    # The commit expired the row; the ORM's own refresh would read it by id alone (every shard on Citus).
    redemption = reread_in_store(db.session, Redemption, rid, store.id)
    if redemption.status == "pending":
        enqueue_issue(redemption.id, redemption.store_id)
        return jsonify(as_dict(redemption)), 202
    return jsonify(as_dict(redemption)), 201


@bp.post("/customers/<int:customer_id>/redemptions")
@documented(
    summary="Redeem a customer's points for a reward (idempotent by idempotency_key)",
    request=obj(
        "reward_id",
        "idempotency_key",
        reward_id={"type": "string", "minLength": 1},
        idempotency_key={"type": "string", "minLength": 1, "maxLength": 100},
    ),
    response=REDEMPTION,
    status=(201, 202),
    errors=_REFUSALS,
)
@merchant_required
def create_redemption(customer_id: int) -> tuple[Response, int]:
    customer = store_customer(db.session, g.store, customer_id)
    if customer is None:
        return error("customer_not_found", "no such customer in this store", 404)
    return redeem_for(g.store, customer, request.get_json(silent=True), on_new=audit_redemption)


def audit_redemption(redemption: Redemption) -> None:
    """The merchant's redemption on a customer's behalf (no code: it is the shopper's discount)."""
    diff = {"customer_id": redemption.customer_id, "reward_id": redemption.reward_id, "points": redemption.points}
    audit.record(db.session, g.store, "points.redeem", f"redemption:{redemption.id}", diff)


@bp.get("/customers/<int:customer_id>/redemptions/<int:redemption_id>")
@documented(summary="One redemption (its code once it exists at the store)", response=REDEMPTION)
@merchant_required
def get_redemption(customer_id: int, redemption_id: int) -> Response | tuple[Response, int]:
    redemption = find(db.session, g.store, redemption_id)
    if redemption is None or redemption.customer_id != customer_id:
        return error("redemption_not_found", "no such redemption in this store", 404)
    return jsonify(as_dict(redemption))
