"""The stand-in Shopify's write-back resolvers: discount codes, customer segments, metafields.

State lives in WritebackState (one per shop). Every create records its full input, so tests can assert what a
real store would enforce (the customer a code is limited to, its usage limit, the minimum subtotal).
Checks mirror Shopify's documented rules: codes are unique per shop (userError code TAKEN), percentage between
0 and 1, metafieldsSet takes at most 25 metafields and validates `rating` / `number_integer` values.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from graphql import GraphQLError

WRITEBACK_FIELDS = {
    "codeDiscountNodeByCode",
    "discountCodeBasicCreate",
    "discountCodeFreeShippingCreate",
    "discountCodeDelete",
    "segments",
    "segmentCreate",
    "metafieldsSet",
    "metafieldsDelete",
}
MAX_METAFIELDS = 25
_ids = itertools.count(5001)


@dataclass
class WritebackState:
    discounts: dict[str, dict[str, Any]] = field(default_factory=dict)  # code (upper) -> {id, kind, input}
    segments: list[dict[str, str]] = field(default_factory=list)
    metafields: dict[tuple[str, str, str], dict[str, Any]] = field(default_factory=dict)
    hidden_from_lookup: set[str] = field(default_factory=set)  # codes the lookup misses (replication lag)
    deleted: list[dict[str, Any]] = field(default_factory=list)  # discountCodeDelete'd codes, as they were


def writeback_roots(state: WritebackState) -> dict[str, Any]:
    return {
        "codeDiscountNodeByCode": lambda info, code: _lookup(state, code),
        "discountCodeBasicCreate": lambda info, basicCodeDiscount: _create(state, "basic", basicCodeDiscount),
        "discountCodeFreeShippingCreate": lambda info, freeShippingCodeDiscount: _create(
            state, "free_shipping", freeShippingCodeDiscount
        ),
        "discountCodeDelete": lambda info, id: _delete(state, id),
        "segments": lambda info, **args: {
            "nodes": state.segments[: args.get("first") or 50],
            "pageInfo": {"hasNextPage": False, "endCursor": None},
        },
        "segmentCreate": lambda info, name, query: _create_segment(state, name, query),
        "metafieldsSet": lambda info, metafields: _set_metafields(state, metafields),
        "metafieldsDelete": lambda info, metafields: _delete_metafields(state, metafields),
    }


def _lookup(state: WritebackState, code: str) -> dict[str, Any] | None:
    found = state.discounts.get(code.upper())
    if found is None or code.upper() in state.hidden_from_lookup:
        return None
    return {"id": found["id"], "codeDiscount": {"__typename": found["typename"], "title": found["input"]["title"]}}


def _error(field_path: list[str], code: str, message: str) -> dict[str, Any]:
    return {"codeDiscountNode": None, "userErrors": [{"field": field_path, "code": code, "message": message}]}


def _create(state: WritebackState, kind: str, data: dict[str, Any]) -> dict[str, Any]:
    arg = "basicCodeDiscount" if kind == "basic" else "freeShippingCodeDiscount"
    code = (data.get("code") or "").strip()
    if not code:
        return _error([arg, "code"], "BLANK", "Code can't be blank")
    if code.upper() in state.discounts:
        return _error([arg, "code"], "TAKEN", "Code must be unique. Please try a different code.")
    if data.get("context") and data.get("customerSelection"):
        return _error([arg], "CONFLICT", "Only one of context or customerSelection can be provided.")
    if kind == "basic":
        value = ((data.get("customerGets") or {}).get("value")) or {}
        if "percentage" in value and not 0 <= value["percentage"] <= 1:
            return _error([arg, "customerGets", "value", "percentage"], "VALUE_OUTSIDE_RANGE", "out of range")
        if not value:
            return _error([arg, "customerGets"], "BLANK", "Customer gets can't be blank")
    node_id = f"gid://shopify/DiscountCodeNode/{next(_ids)}"
    typename = "DiscountCodeBasic" if kind == "basic" else "DiscountCodeFreeShipping"
    state.discounts[code.upper()] = {"id": node_id, "kind": kind, "typename": typename, "input": data}
    return {"codeDiscountNode": {"id": node_id}, "userErrors": []}


def _delete(state: WritebackState, node_id: str) -> dict[str, Any]:
    for code, found in list(state.discounts.items()):
        if found["id"] == node_id:
            state.deleted.append(state.discounts.pop(code))
            return {"deletedCodeDiscountId": node_id, "userErrors": []}
    error = {"field": ["id"], "code": "INVALID", "message": "Discount does not exist"}
    return {"deletedCodeDiscountId": None, "userErrors": [error]}


def _create_segment(state: WritebackState, name: str, query: str) -> dict[str, Any]:
    if any(s["name"] == name for s in state.segments):
        return {"segment": None, "userErrors": [{"field": ["name"], "message": "Name has already been taken"}]}
    segment = {"id": f"gid://shopify/Segment/{next(_ids)}", "name": name, "query": query}
    state.segments.append(segment)
    return {"segment": segment, "userErrors": []}


def _set_metafields(state: WritebackState, metafields: list[dict[str, Any]]) -> dict[str, Any]:
    if len(metafields) > MAX_METAFIELDS:
        raise GraphQLError(
            f"The input array size of {len(metafields)} is greater than the maximum allowed of {MAX_METAFIELDS}.",
            extensions={"code": "MAX_INPUT_SIZE_EXCEEDED"},
        )
    errors = [
        {"field": ["metafields", str(i), "value"], "code": "INVALID_VALUE", "message": problem, "elementIndex": i}
        for i, m in enumerate(metafields)
        if (problem := _invalid(m))
    ]
    if errors:  # atomic: nothing is set
        return {"metafields": [], "userErrors": errors}
    result = []
    for m in metafields:
        key = (m["ownerId"], m.get("namespace") or "$app", m["key"])
        stored = state.metafields.get(key) or {"id": f"gid://shopify/Metafield/{next(_ids)}"}
        stored.update(namespace=key[1], key=key[2], type=m.get("type"), value=m["value"], ownerId=key[0])
        state.metafields[key] = stored
        result.append(stored)
    return {"metafields": result, "userErrors": []}


def _delete_metafields(state: WritebackState, metafields: list[dict[str, Any]]) -> dict[str, Any]:
    if len(metafields) > MAX_METAFIELDS:
        raise GraphQLError("The input array size is greater than the maximum allowed of 25.")
    deleted = []
    for m in metafields:
        key = (m["ownerId"], m["namespace"], m["key"])
        # A metafield that does not exist is not an error: its identifier comes back null.
        deleted.append(
            {"ownerId": key[0], "namespace": key[1], "key": key[2]} if state.metafields.pop(key, None) else None
        )
    return {"deletedMetafields": deleted, "userErrors": []}


def _invalid(m: dict[str, Any]) -> str | None:
    if not str(m.get("ownerId", "")).startswith("gid://shopify/"):
        return "Owner is invalid"
    kind, value = m.get("type"), m.get("value", "")
    if kind == "number_integer":
        return None if value.lstrip("-").isdigit() else "Value must be an integer."
    if kind == "single_line_text_field":
        return None if value and "\n" not in value else "Value must be a single line of text."
    if kind == "rating":
        try:
            rating = json.loads(value)
            low, high, given = (Decimal(rating[k]) for k in ("scale_min", "scale_max", "value"))
        except (ValueError, KeyError, TypeError, InvalidOperation):
            return "Value must be a rating object with value, scale_min and scale_max."
        if not all(isinstance(rating[k], str) for k in ("scale_min", "scale_max", "value")):
            return "Rating numbers must be strings."
        return None if low <= given <= high else "Value must be within the scale."
    return f"stand-in does not implement type {kind}"
