"""The loyalty panel's storefront endpoints: thin views over loyalty.api and loyalty.redemptions.

GET /me/balance, GET /rewards, POST /me/redemptions {reward_id, idempotency_key}, GET /me/redemptions/<id>,
GET /me/activity (the last 50 ledger rows). A customer we never saw has 0 points and cannot redeem (404).
/me/balance's `progress` is the next tier and the distance to it (loyalty.tiers.progress; the store's
currency when the tier is on amount spent), null when no tiers are configured or the customer is at the top.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Response, jsonify, request
from sqlalchemy import select

from app.extensions import db
from app.loyalty import balance_cache, balance_invalidation
from app.loyalty.admin_redemptions import error, redeem_for
from app.loyalty.api import get_settings
from app.loyalty.balance import storefront_balance
from app.loyalty.ledger import customer_rows
from app.loyalty.models import PointsLedger
from app.loyalty.redemptions import as_dict, find
from app.loyalty.settings import snapshot_settings
from app.loyalty.tiers import metrics, progress
from app.platform.types import utcnow
from app.storefront.copies import Kept, Lasting
from app.storefront.registry import register_schema, storefront_route
from app.storefront.shopper import Shopper, current_shopper

_INT = {"type": "integer"}
_STR_OR_NULL = {"type": ["string", "null"]}
BALANCE = register_schema(
    "LoyaltyBalance",
    {
        "type": "object",
        "required": ["pending", "spendable", "expiring_30d", "tier", "progress"],
        "properties": {
            "pending": _INT,
            "spendable": _INT,
            "expiring_30d": _INT,
            "expires_at": _STR_OR_NULL,
            "tier": _STR_OR_NULL,
            "progress": {
                "type": ["object", "null"],
                "required": ["tier", "basis", "threshold", "current", "remaining"],
                "properties": {
                    "tier": {"type": "string"},
                    "basis": {"enum": ["points_earned", "amount_spent"]},
                    "window": {"type": "string"},
                    "threshold": {"type": "string"},  # decimal strings: amount_spent is money
                    "current": {"type": "string"},
                    "remaining": {"type": "string"},
                    "currency": _STR_OR_NULL,
                },
            },
        },
    },
)
REWARDS = register_schema(
    "LoyaltyRewards",
    {
        "type": "object",
        "required": ["rewards"],
        "properties": {
            "rewards": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["id", "type", "points"],
                    "properties": {"id": {"type": "string"}, "type": {"type": "string"}, "points": _INT},
                },
            }
        },
    },
)
REDEMPTION = register_schema(
    "Redemption",
    {
        "type": "object",
        "required": ["id", "status", "points", "reward_id"],
        "properties": {
            "id": _INT,
            "status": {"enum": ["pending", "issued", "failed", "used", "refunded"]},
            "points": _INT,
            "reward_id": {"type": "string"},
            "code": _STR_OR_NULL,
        },
    },
)
REDEEM_BODY = register_schema(
    "RedeemRequest",
    {
        "type": "object",
        "required": ["reward_id", "idempotency_key"],
        "properties": {
            "reward_id": {"type": "string", "maxLength": 64},
            "idempotency_key": {"type": "string", "minLength": 1, "maxLength": 128},
        },
    },
)
ACTIVITY = register_schema(
    "LoyaltyActivity",
    {
        "type": "object",
        "required": ["activity"],
        "properties": {
            "activity": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["kind", "points", "at"],
                    "properties": {"kind": {"type": "string"}, "points": _INT, "at": {"type": "string"}},
                },
            }
        },
    },
)


def _keeps(shopper: Shopper) -> bool:
    """May this answer join the process's copies? Not for stores whose tiers use a rolling window (progress
    changes as old orders leave the window, with no write), and only if the read saw the committed state as of
    after the request's snapshot (storefront/copies.py): not through a session with uncommitted writes. Otherwise it
    did: PostgreSQL's READ COMMITTED takes a snapshot per statement, and pysqlite sends no BEGIN before a
    SELECT, so SQLite's reads hold no older snapshot either (a test checks both)."""
    if any(t.window != "lifetime" for t in snapshot_settings(shopper.ref).tiers):
        return False
    return not db.session.registry.has() or not balance_invalidation.pending(db.session())


def _fingerprint(shopper: Shopper) -> bytes:
    return balance_cache.fingerprint(shopper.ref)


def _copy_name(shopper: Shopper, kwargs: dict[str, Any]) -> str | None:
    assert shopper.customer_platform_id is not None  # auth="customer"
    return balance_cache.copy_name(shopper.store_id, shopper.customer_platform_id)


@storefront_route(
    "/me/balance",
    auth="customer",
    summary="The customer's points",
    response=BALANCE,
    door=True,
    kept=Kept(name=_copy_name, fingerprint=_fingerprint, miss="balance_reads"),
)
def loyalty_balance(shopper: Shopper) -> dict[str, Any] | Lasting:
    # Asked each time a shopper opens the widget's panel, and on every page by a theme that shows the points
    # (a door route: answered before Flask, door.py; kept by the process until a bump names the customer,
    # balance_cache.py): one indexed query, no ORM objects (benchmarked by bench/storefront.py).
    assert shopper.customer_platform_id is not None  # auth="customer"
    now = utcnow()
    found = storefront_balance(
        db.session, shopper.store_id, shopper.customer_platform_id, snapshot_settings(shopper.ref), now
    )
    if found is None:
        answer: dict[str, Any] = {
            "pending": 0,
            "spendable": 0,
            "expiring_30d": 0,
            "expires_at": None,
            "tier": None,
            "progress": None,
        }
        changes = None
    else:
        points, tier, changes = found
        answer = {
            "pending": points.pending,
            "spendable": points.spendable,
            "expiring_30d": points.expiring_30d,
            "expires_at": points.expires_at.isoformat() if points.expires_at else None,
            "tier": tier,
            "progress": _progress(shopper, tier),
        }
    if not _keeps(shopper):
        return answer
    until = changes or now + timedelta(seconds=balance_cache.ENTRY_SECONDS)
    return Lasting(answer, int(until.timestamp() * 1000))


def _progress(shopper: Shopper, tier: str | None) -> dict | None:
    """The next tier and the distance to it; only stores with tiers pay for loading the customer's rows."""
    settings = snapshot_settings(shopper.ref)
    if not settings.tiers:
        return None
    store, customer = shopper.store, shopper.customer
    if customer is None:
        return None
    figures = metrics(db.session, store, customer.id, customer_rows(db.session, store, customer.id), settings, utcnow())
    nxt = progress(settings, tier, figures)
    if nxt is not None:
        nxt["currency"] = store.currency if nxt["basis"] == "amount_spent" else None
    return nxt


@storefront_route("/rewards", auth="any", summary="The rewards catalogue", response=REWARDS)
def loyalty_rewards() -> Response:
    store, _ = current_shopper()
    rewards = [
        {
            "id": r.id,
            "type": r.type,
            "points": r.points,
            "value": None if r.value is None else format(r.value, "f"),
            "currency": r.currency,
        }
        for r in get_settings(store).rewards
    ]
    return jsonify(rewards=rewards)


@storefront_route(
    "/me/redemptions",
    methods=["POST"],
    auth="customer",
    summary="Redeem points for a reward",
    request=REDEEM_BODY,
    response=REDEMPTION,
)
def loyalty_redeem() -> tuple[Response, int]:
    store, customer = current_shopper()
    if customer is None:
        return error("customer_not_found", "no points yet", 404)
    body, status = redeem_for(store, customer, request.get_json(silent=True))
    return body, 200 if status in (201, 202) else status  # the widget polls GET /me/redemptions/<id> for the code


@storefront_route("/me/redemptions/<redemption_id>", auth="customer", summary="A redemption", response=REDEMPTION)
def loyalty_redemption(redemption_id: str) -> Response | tuple[Response, int]:
    # A plain segment (not <int:>), so the guard answers first (401 before any 404) whatever the caller sends.
    store, customer = current_shopper()
    # BIGINT range, ASCII digits only ("¹".isdigit() is True, int("¹") raises)
    known = redemption_id.isascii() and redemption_id.isdigit() and len(redemption_id) <= 18
    redemption = find(db.session, store, int(redemption_id)) if known else None
    if customer is None or redemption is None or redemption.customer_id != customer.id:
        return error("redemption_not_found", "no such redemption", 404)
    return jsonify(as_dict(redemption))


@storefront_route("/me/activity", auth="customer", summary="The customer's last 50 points movements", response=ACTIVITY)
def loyalty_activity() -> Response:
    store, customer = current_shopper()
    if customer is None:
        return jsonify(activity=[])
    rows = db.session.scalars(
        select(PointsLedger)
        .where(PointsLedger.store_id == store.id, PointsLedger.customer_id == customer.id)
        .order_by(PointsLedger.id.desc())
        .limit(50)
    )
    return jsonify(activity=[{"kind": r.kind, "points": r.points, "at": r.created_at.isoformat()} for r in rows])
