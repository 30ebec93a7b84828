"""Storefront endpoints that need no other feature: the programme's public description and "who am I"."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from flask import Response, jsonify

from app.storefront.registry import register_schema, storefront_route
from app.storefront.shopper import current_identity
from app.stores.models import Store

PROGRAM = register_schema(
    "Program",
    {
        "type": "object",
        "required": ["name", "currency", "earn_text", "rewards"],
        "properties": {
            "name": {"type": "string"},
            "currency": {"type": ["string", "null"]},
            "earn_text": {"type": "string"},
            "rewards": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["name", "points"],
                    "properties": {
                        "name": {"type": "string"},
                        "points": {"type": ["integer", "null"]},
                        "description": {"type": ["string", "null"]},
                    },
                },
            },
        },
    },
)
ME = register_schema(
    "Me",
    {
        "type": "object",
        "required": ["logged_in", "customer"],
        "properties": {
            "logged_in": {"type": "boolean"},
            "customer": {
                "oneOf": [
                    {"type": "null"},
                    {
                        "type": "object",
                        "required": ["first_name", "orders_count"],
                        "properties": {
                            "first_name": {"type": ["string", "null"]},
                            "orders_count": {"type": "integer", "minimum": 0},
                        },
                    },
                ]
            },
        },
    },
)


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _points(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return int(number) if number.is_finite() and number == number.to_integral_value() and number >= 0 else None


def program_description(store: Store) -> dict[str, Any]:
    """Store.settings["loyalty"] as widgets see it, tolerant of missing or odd values (defaults fill in).

    The loyalty feature owns those settings; this reads the obvious names and ignores anything else, so a
    half-configured programme still renders.
    """
    loyalty = (store.settings or {}).get("loyalty")
    loyalty = loyalty if isinstance(loyalty, dict) else {}
    currency = store.currency
    earn_text = _text(loyalty.get("earn_text")) or _text(loyalty.get("earn_rate_text"))
    if earn_text is None:
        rate = _points(loyalty.get("points_per_unit"))
        rate = 1 if rate is None else rate
        per = f"1 {currency}" if currency else "1 unit of currency"
        earn_text = f"Earn {rate} point{'' if rate == 1 else 's'} for every {per} spent"
    raw_rewards = loyalty.get("rewards")
    rewards = []
    for item in raw_rewards if isinstance(raw_rewards, list) else []:
        if not isinstance(item, dict):
            continue
        name = _text(item.get("name")) or _text(item.get("title"))
        if name is None:
            continue
        points = _points(item.get("points", item.get("points_cost", item.get("cost"))))
        rewards.append({"name": name, "points": points, "description": _text(item.get("description"))})
    return {
        "name": _text(loyalty.get("name")) or _text(loyalty.get("program_name")) or "Rewards",
        "currency": currency,
        "earn_text": earn_text,
        "rewards": rewards,
    }


@storefront_route("/program", auth="any", summary="The loyalty programme's public description", response=PROGRAM)
def program() -> Response:
    return jsonify(program_description(current_identity().store))


@storefront_route("/me", auth="any", summary="Who the shopper is: anonymous, or the customer", response=ME)
def me() -> Response:
    shopper = current_identity()
    if not shopper.logged_in:
        return jsonify(logged_in=False, customer=None)
    customer = shopper.customer
    first_name = customer.first_name if customer is not None else None
    orders = customer.orders_count if customer is not None else 0
    return jsonify(logged_in=True, customer={"first_name": first_name, "orders_count": int(orders or 0)})
