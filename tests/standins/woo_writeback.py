"""The stand-in WooCommerce store's write-back routes: coupons, customers/batch, products/reviews.

Answers are shaped as WooCommerce shapes them: a duplicate coupon code is 400
`woocommerce_rest_coupon_code_already_exists` (codes compare lowercased, as wc_format_coupon_code does); a batch
over 100 objects is 413 `woocommerce_rest_request_entity_too_large`; a duplicate review (same product, email and
content: WordPress's wp_allow_comment check) is 409 `woocommerce_rest_comment_duplicate`. Reviews come back with
their content wrapped in <p>, as WordPress renders post content.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from werkzeug.wrappers import Request, Response


def _error(status: int, code: str, message: str) -> Response:
    body = json.dumps({"code": code, "message": message, "data": {"status": status}})
    return Response(body, status=status, mimetype="application/json")


def _ok(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body), status=status, mimetype="application/json")


@dataclass
class WooWritebackState:
    coupons: dict[int, dict[str, Any]] = field(default_factory=dict)
    customers: dict[int, dict[str, Any]] = field(default_factory=dict)  # id -> {id, email, meta_data}
    reviews: dict[int, dict[str, Any]] = field(default_factory=dict)
    calls: Counter = field(default_factory=Counter)  # "POST /coupons" -> count
    next_id: Any = None

    def add_customer(self, customer_id: int, email: str) -> None:
        self.customers[customer_id] = {"id": customer_id, "email": email, "meta_data": []}


def route(state: WooWritebackState, new_id: Any, request: Request, path: str) -> Response | None:
    """The answer for a write-back route, or None when the path is not one of them."""
    key = f"{request.method} {path}"
    handler = {
        "GET /coupons": _list_coupons,
        "POST /coupons": _create_coupon,
        "POST /customers/batch": _customers_batch,
        "GET /products/reviews": _list_reviews,
        "POST /products/reviews": _create_review,
    }.get(key)
    if handler is None:
        return None
    state.calls[key] += 1
    return handler(state, new_id, request)


def _query(request: Request) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(request.url).query))


def _list_coupons(state: WooWritebackState, new_id: Any, request: Request) -> Response:
    code = _query(request).get("code")
    items = [c for c in state.coupons.values() if code is None or c["code"] == code.lower()]
    return _ok(items)


def _create_coupon(state: WooWritebackState, new_id: Any, request: Request) -> Response:
    data = request.get_json(force=True)
    code = str(data.get("code") or "").strip().lower()
    if not code:
        return _error(400, "rest_missing_callback_param", "Missing parameter(s): code")
    if any(c["code"] == code for c in state.coupons.values()):
        return _error(400, "woocommerce_rest_coupon_code_already_exists", "The coupon code already exists")
    if data.get("discount_type") not in ("fixed_cart", "percent", "fixed_product"):
        return _error(400, "rest_invalid_param", "Invalid parameter(s): discount_type")
    if not isinstance(data.get("amount"), str):
        return _error(400, "rest_invalid_param", "Invalid parameter(s): amount")
    coupon = {**data, "id": new_id(), "code": code, "usage_count": 0}
    state.coupons[coupon["id"]] = coupon
    return _ok(coupon, 201)


def _customers_batch(state: WooWritebackState, new_id: Any, request: Request) -> Response:
    data = request.get_json(force=True)
    total = sum(len(data.get(k) or []) for k in ("create", "update", "delete"))
    if total > 100:
        return _error(
            413, "woocommerce_rest_request_entity_too_large", "Unable to accept more than 100 items for this request."
        )
    answers = []
    for item in data.get("update") or []:
        customer = state.customers.get(int(item.get("id", 0)))
        if customer is None:
            answers.append(
                {"id": item.get("id"), "error": {"code": "woocommerce_rest_invalid_id", "message": "Invalid ID."}}
            )
            continue
        for meta in item.get("meta_data") or []:
            current = [m for m in customer["meta_data"] if m["key"] == meta["key"]]
            if current:
                current[0]["value"] = meta["value"]
            else:
                customer["meta_data"].append({"id": new_id(), "key": meta["key"], "value": meta["value"]})
        answers.append(customer)
    return _ok({"update": answers})


def _list_reviews(state: WooWritebackState, new_id: Any, request: Request) -> Response:
    query = _query(request)
    items = [
        r
        for r in state.reviews.values()
        if ("product" not in query or str(r["product_id"]) in query["product"].split(","))
        and ("reviewer_email" not in query or r["reviewer_email"] == query["reviewer_email"])
    ]
    response = _ok(items)
    response.headers["X-WP-TotalPages"] = "1"
    return response


def _create_review(state: WooWritebackState, new_id: Any, request: Request) -> Response:
    data = request.get_json(force=True)
    for name in ("product_id", "review", "reviewer", "reviewer_email"):
        if not data.get(name):
            return _error(400, "rest_missing_callback_param", f"Missing parameter(s): {name}")
    if not 0 <= int(data.get("rating", 0)) <= 5:
        return _error(400, "rest_invalid_param", "Invalid parameter(s): rating")
    content = f"<p>{data['review'].strip()}</p>"
    for existing in state.reviews.values():
        if (existing["product_id"], existing["reviewer_email"], existing["review"]) == (
            int(data["product_id"]),
            data["reviewer_email"],
            content,
        ):
            return _error(
                409,
                "woocommerce_rest_comment_duplicate",
                "Duplicate comment detected; it looks as though you&#8217;ve already said that!",
            )
    review = {
        "id": new_id(),
        "product_id": int(data["product_id"]),
        "status": data.get("status", "approved"),
        "reviewer": data["reviewer"],
        "reviewer_email": data["reviewer_email"],
        "review": content,
        "rating": int(data.get("rating", 0)),
        "verified": bool(data.get("verified", False)),
    }
    state.reviews[review["id"]] = review
    return _ok(review, 201)
