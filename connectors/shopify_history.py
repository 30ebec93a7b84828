"""A shop's past customers and orders from bulk query results, parsed by the webhooks' own parsers.

The bulk file holds Admin GraphQL objects (camelCase, gids, MoneyBags); the webhooks carry REST resource JSON.
Rather than a second parser, each object is spelled as the REST resource the webhook would carry (numeric
ids, snake_case, `total_price` strings), then handed to connectors/shopify_snapshots.py's `order_snapshot` and
`customer_snapshot`, so an imported order and the same order from `orders/updated` are the same event.
Field correspondence: https://shopify.dev/docs/api/admin-graphql/2026-10/objects/Order and the REST
order resource (https://shopify.dev/docs/api/admin-rest/2024-04/resources/order). What the GraphQL objects
lack here: `payment_details` (deprecated in REST too; the referral fraud check does without it).
"""

from __future__ import annotations

from typing import Any

from .events import CustomerChanged, Event, OrderChanged
from .shopify_graphql import gid_id
from .shopify_snapshots import customer_snapshot, order_snapshot

_MONEY = "shopMoney { amount currencyCode }"
_ADDRESS = "firstName lastName address1 address2 zip countryCodeV2 phone"
_CUSTOMER = "id firstName lastName locale updatedAt defaultEmailAddress { emailAddress marketingState } " + (
    "defaultPhoneNumber { phoneNumber } defaultAddress { countryCodeV2 }"
)

# The customer's tags come with the customer (as customers/update carries them), not with their orders: an order
# webhook's customer object has none, and an imported order must be the webhook's order (one parsing path).
CUSTOMERS_QUERY = f"{{ customers {{ edges {{ node {{ {_CUSTOMER} tags }} }} }} }}"

ORDERS_QUERY = (
    "{ orders { edges { node { "
    "id name email phone createdAt updatedAt cancelledAt currencyCode customerLocale "
    "displayFinancialStatus displayFulfillmentStatus discountCodes "
    f"totalPriceSet {{ {_MONEY} }} subtotalPriceSet {{ {_MONEY} }} "
    f"customer {{ {_CUSTOMER} }} "
    f"shippingAddress {{ {_ADDRESS} }} billingAddress {{ {_ADDRESS} }} "
    "customAttributes { key value } "
    f"refunds {{ id createdAt totalRefundedSet {{ {_MONEY} }} }} "
    "fulfillments { id status displayStatus createdAt updatedAt } "
    f"lineItems {{ edges {{ node {{ id title quantity originalUnitPriceSet {{ {_MONEY} }} "
    "product { id } variant { id } } } } "
    "} } } }"
)

#: OrderDisplayFulfillmentStatus as the REST order's fulfillment_status (null, partial, fulfilled, restocked).
_FULFILLMENT_STATUS = {"FULFILLED": "fulfilled", "PARTIALLY_FULFILLED": "partial", "RESTOCKED": "restocked"}

QUERIES = {"customers": CUSTOMERS_QUERY, "orders": ORDERS_QUERY}


def _id(value: Any) -> str | None:
    return gid_id(value) if isinstance(value, str) and value else None


def _amount(bag: Any) -> Any:
    return ((bag or {}).get("shopMoney") or {}).get("amount")


def _lower(value: Any) -> str | None:
    return value.lower() if isinstance(value, str) else None


def customer_payload(node: dict[str, Any]) -> dict[str, Any]:
    """A Customer object as the REST customer resource (the customers/update webhook's body)."""
    email = node.get("defaultEmailAddress") or {}
    state = email.get("marketingState")
    return {
        "id": _id(node.get("id")),
        "email": email.get("emailAddress"),
        "first_name": node.get("firstName"),
        "last_name": node.get("lastName"),
        "phone": (node.get("defaultPhoneNumber") or {}).get("phoneNumber"),
        "locale": node.get("locale"),
        "updated_at": node.get("updatedAt"),
        "email_marketing_consent": {"state": state.lower()} if isinstance(state, str) else None,
        # Customer.tags is [String!]! in GraphQL, a comma-separated string in REST: parsing.tags takes either.
        "tags": node.get("tags"),
        "default_address": {"country_code": (node.get("defaultAddress") or {}).get("countryCodeV2")},
    }


def _address(node: Any) -> dict[str, Any] | None:
    if not isinstance(node, dict):
        return None
    return {
        "first_name": node.get("firstName"),
        "last_name": node.get("lastName"),
        "address1": node.get("address1"),
        "address2": node.get("address2"),
        "zip": node.get("zip"),
        "country_code": node.get("countryCodeV2"),
        "phone": node.get("phone"),
    }


def _refund(node: dict[str, Any], currency: Any) -> dict[str, Any]:
    # REST refunds carry their transactions; the refunded money is their successful refund sum, which is what
    # totalRefundedSet reports (https://shopify.dev/docs/api/admin-graphql/2026-10/objects/Refund).
    amount = _amount(node.get("totalRefundedSet"))
    return {
        "id": _id(node.get("id")),
        "created_at": node.get("createdAt"),
        "transactions": [{"kind": "refund", "status": "success", "amount": amount, "currency": currency}],
    }


def _fulfillment(node: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": _id(node.get("id")),
        "status": _lower(node.get("status")),
        "shipment_status": _lower(node.get("displayStatus")),
        "created_at": node.get("createdAt"),
        "updated_at": node.get("updatedAt"),
    }


def _line_item(node: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": _id(node.get("id")),
        "title": node.get("title"),
        "quantity": node.get("quantity"),
        "price": _amount(node.get("originalUnitPriceSet")),
        "product_id": _id((node.get("product") or {}).get("id")),
        "variant_id": _id((node.get("variant") or {}).get("id")),
    }


def order_payload(node: dict[str, Any]) -> dict[str, Any]:
    """An Order object (with its LineItem lines gathered under `__children`) as the REST order resource."""
    currency = node.get("currencyCode")
    customer = node.get("customer")
    return {
        "id": _id(node.get("id")),
        "name": node.get("name"),
        "email": node.get("email"),
        "phone": node.get("phone"),
        "currency": currency,
        "total_price": _amount(node.get("totalPriceSet")),
        "subtotal_price": _amount(node.get("subtotalPriceSet")),
        "created_at": node.get("createdAt"),
        "updated_at": node.get("updatedAt"),
        "cancelled_at": node.get("cancelledAt"),
        "financial_status": _lower(node.get("displayFinancialStatus")),
        "fulfillment_status": _FULFILLMENT_STATUS.get(str(node.get("displayFulfillmentStatus")), None),
        "customer_locale": node.get("customerLocale"),
        "customer": customer_payload(customer) if isinstance(customer, dict) else None,
        "discount_codes": [{"code": code} for code in node.get("discountCodes") or []],
        "shipping_address": _address(node.get("shippingAddress")),
        "billing_address": _address(node.get("billingAddress")),
        "note_attributes": [
            {"name": a.get("key"), "value": a.get("value")} for a in node.get("customAttributes") or []
        ],
        "refunds": [_refund(r, currency) for r in node.get("refunds") or []],
        "fulfillments": [_fulfillment(f) for f in node.get("fulfillments") or []],
        "line_items": [_line_item(li) for li in (node.get("__children") or {}).get("LineItem", [])],
    }


def events(kind: str, node: dict[str, Any]) -> list[Event]:
    """A root object of the `kind` ("customers" or "orders") bulk file as the webhook's events."""
    if kind == "customers":
        return [CustomerChanged(customer_snapshot(customer_payload(node)))]
    return [OrderChanged(order_snapshot(order_payload(node)))]
