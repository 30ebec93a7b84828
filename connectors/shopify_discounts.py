"""Shopify discount codes (Admin GraphQL 2026-10): create once, whatever the retries.

Docs relied on:
- https://shopify.dev/docs/api/admin-graphql/2026-10/mutations/discountCodeBasicCreate (amount off: percentage or
  fixed amount; DiscountCustomerGetsValueInput.percentage is a Float "between 0.00 - 1.00")
- https://shopify.dev/docs/api/admin-graphql/2026-10/mutations/discountCodeFreeShippingCreate
- https://shopify.dev/docs/api/admin-graphql/2026-10/input-objects/DiscountContextInput: who may use the code
  (`context` replaces the deprecated `customerSelection`): customers {add: [gid]}, customerSegments, or all: ALL
- https://shopify.dev/docs/api/admin-graphql/2026-10/queries/codeDiscountNodeByCode
- https://shopify.dev/docs/api/shopifyql/segment-query-language-reference (`number_of_orders = 0`: new customers)

Retry safety: the code is the idempotency key. We look it up before creating, so a retried job whose first
create ran but whose answer was lost (timeout) finds it and answers created=False. If the lookup misses a code
that exists anyway (created in between), Shopify answers the userError code TAKEN: we read it again.
Amounts are in the shop's currency (discount amounts carry no currency of their own in the API).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from .shopify_admin import AdminClient, UserErrors
from .shopify_graphql import customer_gid
from .writeback import CreatedDiscount, DiscountSpec

NEW_CUSTOMERS_SEGMENT = "Post-purchase: new customers (no orders)"
NEW_CUSTOMERS_QUERY = "number_of_orders = 0"

CODE_LOOKUP = """
query DiscountCodeLookup($code: String!) {
  codeDiscountNodeByCode(code: $code) { id }
}
"""

CREATE_BASIC = """
mutation DiscountCodeBasicCreate($discount: DiscountCodeBasicInput!) {
  discountCodeBasicCreate(basicCodeDiscount: $discount) {
    codeDiscountNode { id }
    userErrors { field code message }
  }
}
"""

CREATE_FREE_SHIPPING = """
mutation DiscountCodeFreeShippingCreate($discount: DiscountCodeFreeShippingInput!) {
  discountCodeFreeShippingCreate(freeShippingCodeDiscount: $discount) {
    codeDiscountNode { id }
    userErrors { field code message }
  }
}
"""

LIST_SEGMENTS = """
query CustomerSegments($after: String) {
  segments(first: 250, after: $after) {
    nodes { id name query }
    pageInfo { hasNextPage endCursor }
  }
}
"""

CREATE_SEGMENT = """
mutation CustomerSegmentCreate($name: String!, $query: String!) {
  segmentCreate(name: $name, query: $query) {
    segment { id }
    userErrors { field message }
  }
}
"""


DELETE_CODE = """
mutation DiscountCodeDelete($id: ID!) {
  discountCodeDelete(id: $id) {
    deletedCodeDiscountId
    userErrors { field code message }
  }
}
"""


def delete_discount_code(client: AdminClient, node_id: str) -> bool:
    """discountCodeDelete (https://shopify.dev/docs/api/admin-graphql/latest/mutations/discountCodeDelete): True when
    it was deleted now, False when the code was already gone (a retry after a lost answer)."""
    payload = client.execute(DELETE_CODE, {"id": node_id}).get("discountCodeDelete") or {}
    errors = payload.get("userErrors") or []
    if errors:
        if all("not exist" in str(e.get("message", "")).lower() for e in errors):
            return False
        reasons = "; ".join(str(e.get("code") or e.get("message")) for e in errors)
        raise UserErrors(f"discount code not deleted: {reasons}", errors)
    return bool(payload.get("deletedCodeDiscountId"))


def find_discount_code(client: AdminClient, code: str) -> str | None:
    """The DiscountCodeNode gid of `code`, or None."""
    node = client.execute(CODE_LOOKUP, {"code": code}).get("codeDiscountNodeByCode")
    return str(node["id"]) if node else None


def create_discount_code(
    client: AdminClient, spec: DiscountSpec, *, now: Callable[[], datetime] = lambda: datetime.now(UTC)
) -> CreatedDiscount:
    existing = find_discount_code(client, spec.code)
    if existing:
        return CreatedDiscount(spec.code, existing, created=False)
    discount = discount_input(spec, now(), new_customers_segment(client) if _needs_segment(spec) else None)
    if spec.kind == "free_shipping":
        data = client.execute(CREATE_FREE_SHIPPING, {"discount": discount})
        payload = data.get("discountCodeFreeShippingCreate") or {}
    else:
        data = client.execute(CREATE_BASIC, {"discount": discount})
        payload = data.get("discountCodeBasicCreate") or {}
    errors = payload.get("userErrors") or []
    if errors:
        if any(e.get("code") == "TAKEN" for e in errors):
            existing = find_discount_code(client, spec.code)
            if existing:
                return CreatedDiscount(spec.code, existing, created=False)
        reasons = "; ".join(str(e.get("code") or e.get("message")) for e in errors)
        raise UserErrors(f"discount code refused: {reasons}", errors)
    return CreatedDiscount(spec.code, payload["codeDiscountNode"]["id"], created=True)


def discount_input(spec: DiscountSpec, now: datetime, segment_gid: str | None = None) -> dict[str, Any]:
    """The DiscountCodeBasicInput / DiscountCodeFreeShippingInput for a spec."""
    fields: dict[str, Any] = {
        "title": spec.title,
        "code": spec.code,
        "startsAt": _iso(spec.starts_at or now),
        "endsAt": _iso(spec.ends_at) if spec.ends_at else None,
        "usageLimit": spec.usage_limit,
        "appliesOncePerCustomer": spec.once_per_customer,
        "context": _context(spec, segment_gid),
    }
    if spec.minimum_subtotal is not None:
        fields["minimumRequirement"] = {"subtotal": {"greaterThanOrEqualToSubtotal": _decimal(spec.minimum_subtotal)}}
    if spec.kind == "free_shipping":
        fields["destination"] = {"all": True}
    elif spec.kind == "percentage":
        # The API takes a Float fraction; a percentage is exact in Decimal and at most 4 digits after / 100.
        fields["customerGets"] = {"value": {"percentage": float(spec.value / 100)}, "items": {"all": True}}
    else:
        amount = {"amount": _decimal(spec.value), "appliesOnEachItem": False}
        fields["customerGets"] = {"value": {"discountAmount": amount}, "items": {"all": True}}
    return fields


def new_customers_segment(client: AdminClient) -> str:
    """Our "no orders yet" segment's gid, created on first use (found by name afterwards)."""
    after: str | None = None
    while True:
        connection = client.execute(LIST_SEGMENTS, {"after": after}).get("segments") or {}
        for node in connection.get("nodes") or []:
            if node.get("name") == NEW_CUSTOMERS_SEGMENT:
                return str(node["id"])
        page = connection.get("pageInfo") or {}
        if not page.get("hasNextPage"):
            break
        after = page.get("endCursor")
    payload = client.execute(CREATE_SEGMENT, {"name": NEW_CUSTOMERS_SEGMENT, "query": NEW_CUSTOMERS_QUERY})
    result = payload.get("segmentCreate") or {}
    if result.get("userErrors"):
        raise UserErrors("customer segment refused", result["userErrors"])
    return str(result["segment"]["id"])


def _needs_segment(spec: DiscountSpec) -> bool:
    # A code for one named customer is scoped to that customer; whether they are new is checked by us.
    return spec.new_customers_only and not spec.customer_platform_id


def _context(spec: DiscountSpec, segment_gid: str | None) -> dict[str, Any]:
    if spec.customer_platform_id:
        return {"customers": {"add": [customer_gid(spec.customer_platform_id)]}}
    if segment_gid:
        return {"customerSegments": {"add": [segment_gid]}}
    return {"all": "ALL"}


def _decimal(value: Decimal) -> str:
    return format(value, "f")


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
