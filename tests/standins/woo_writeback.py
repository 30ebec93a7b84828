"""The stand-in WooCommerce store's write-back routes: coupons, customers/batch, products/reviews.

Answers are shaped as WooCommerce shapes them: a duplicate coupon code is 400
`woocommerce_rest_coupon_code_already_exists` (codes compare lowercased, as wc_format_coupon_code does); a batch
over 100 objects is 413 `woocommerce_rest_request_entity_too_large`; a duplicate review (same product, email and
content: WordPress's wp_allow_comment check) is 409 `woocommerce_rest_comment_duplicate`. Reviews come back with
their content wrapped in <p>, as WordPress renders post content; `verified` is read-only (WooCommerce derives it
from the reviewer's orders: wc_review_is_from_verified_owner), `status` defaults to approved. Coupons are kept as
tests/standins/woo_coupons.py describes (fields without a setter, such as date_expires_gmt, silently dropped).
"""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlsplit
from zoneinfo import ZoneInfo

from werkzeug.wrappers import Request, Response

from tests.standins import woo_coupons


def _error(status: int, code: str, message: str) -> Response:
    body = json.dumps({"code": code, "message": message, "data": {"status": status}})
    return Response(body, status=status, mimetype="application/json")


def _ok(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body), status=status, mimetype="application/json")


@dataclass
class WooWritebackState:
    coupons: dict[int, dict[str, Any]] = field(default_factory=dict)  # id -> the coupon as the store answers it
    coupon_props: dict[int, dict[str, Any]] = field(default_factory=dict)  # id -> what WC_Coupon holds
    deleted_coupons: list[dict[str, Any]] = field(default_factory=list)  # force-deleted, as they were
    timezone: str = "UTC"  # the site's time zone (Settings > General), in which naive dates are read
    orders: list[dict[str, Any]] = field(default_factory=list)  # the store's orders (verified reviewers)
    # Fields (coupon properties, customer meta keys, a review's status) a plugin drops before the object is saved
    # (woocommerce_rest_pre_insert_* filters): accepted, answered 200/201, not stored.
    ignored: set[str] = field(default_factory=set)
    customers: dict[int, dict[str, Any]] = field(default_factory=dict)  # id -> {id, email, meta_data}
    reviews: dict[int, dict[str, Any]] = field(default_factory=dict)
    calls: Counter = field(default_factory=Counter)  # "POST /coupons" -> count
    next_id: Any = None

    def edit_coupon(self, coupon_id: int, **props: Any) -> None:
        """The merchant edits a coupon in wp-admin."""
        self.coupon_props[coupon_id].update(props)
        self.coupons[coupon_id] = woo_coupons.answer(self.coupon_props[coupon_id], self.timezone)

    def add_customer(self, customer_id: int, email: str) -> None:
        self.customers[customer_id] = {"id": customer_id, "email": email, "meta_data": []}


def route(state: WooWritebackState, new_id: Any, request: Request, path: str) -> Response | None:
    """The answer for a write-back route, or None when the path is not one of them."""
    key = f"{request.method} {path}"
    if path.startswith("/coupons/") and path[len("/coupons/") :].isdigit():
        key = f"{request.method} /coupons/"
    handler = {
        "GET /coupons": _list_coupons,
        "POST /coupons": _create_coupon,
        "PUT /coupons/": _update_coupon,
        "DELETE /coupons/": _delete_coupon,
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
        return _error(400, "woocommerce_rest_empty_coupon_code", "The coupon code cannot be empty.")
    if any(c["code"] == code for c in state.coupons.values()):
        return _error(400, "woocommerce_rest_coupon_code_already_exists", "The coupon code already exists")
    invalid = _invalid_coupon_param(data)
    if invalid:
        return invalid
    props = woo_coupons.new_props(new_id(), time.time())
    try:
        woo_coupons.apply(props, _kept(state, data), state.timezone, new_id, time.time())
    except woo_coupons.InvalidValue:
        return _error(400, "woocommerce_rest_invalid_date", "Invalid date.")
    state.coupon_props[props["id"]] = props
    state.coupons[props["id"]] = woo_coupons.answer(props, state.timezone)
    return _ok(state.coupons[props["id"]], 201)


def _delete_coupon(state: WooWritebackState, new_id: Any, request: Request) -> Response:
    """WC_REST_CRUD_Controller::delete_item: force=true deletes and answers the coupon as it was; without it the
    coupon goes to the trash; an unknown id is 404 `woocommerce_rest_shop_coupon_invalid_id`."""
    coupon_id = int(request.path.rsplit("/", 1)[1])
    if coupon_id not in state.coupons:
        return _error(404, "woocommerce_rest_shop_coupon_invalid_id", "Invalid ID.")
    if _query(request).get("force") not in ("true", "1"):
        state.coupons[coupon_id] = {**state.coupons[coupon_id], "status": "trash"}
        return _ok(state.coupons[coupon_id])
    state.coupon_props.pop(coupon_id, None)
    state.deleted_coupons.append(state.coupons[coupon_id])
    return _ok(state.coupons.pop(coupon_id))


def _update_coupon(state: WooWritebackState, new_id: Any, request: Request) -> Response:
    coupon_id = int(request.path.rsplit("/", 1)[1])
    props = state.coupon_props.get(coupon_id)
    if props is None:
        return _error(400, "woocommerce_rest_shop_coupon_invalid_id", "Invalid ID.")
    data = request.get_json(force=True)
    code = str(data.get("code") or "").strip().lower()
    if code and any(c["code"] == code and c["id"] != coupon_id for c in state.coupons.values()):
        return _error(400, "woocommerce_rest_coupon_code_already_exists", "The coupon code already exists")
    invalid = _invalid_coupon_param(data)
    if invalid:
        return invalid
    try:
        woo_coupons.apply(props, _kept(state, data), state.timezone, new_id, time.time())
    except woo_coupons.InvalidValue:
        return _error(400, "woocommerce_rest_invalid_date", "Invalid date.")
    state.coupons[coupon_id] = woo_coupons.answer(props, state.timezone)
    return _ok(state.coupons[coupon_id])


def _kept(state: WooWritebackState, data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k not in state.ignored}


def _invalid_coupon_param(data: dict[str, Any]) -> Response | None:
    # The schema's enum and types, checked by WordPress before the controller runs (rest_validate_request_arg).
    if "discount_type" in data and data["discount_type"] not in ("fixed_cart", "percent", "fixed_product"):
        return _error(400, "rest_invalid_param", "Invalid parameter(s): discount_type")
    if "amount" in data and not isinstance(data["amount"], str):
        return _error(400, "rest_invalid_param", "Invalid parameter(s): amount")
    return None


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
            if meta["key"] in state.ignored:
                continue
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
    product_id, email = int(data["product_id"]), data["reviewer_email"]
    created = datetime.fromtimestamp(int(time.time()), ZoneInfo(state.timezone))  # whole seconds, as MySQL keeps them
    review = {
        "id": new_id(),
        "date_created": created.replace(tzinfo=None).isoformat(),
        "date_created_gmt": created.astimezone(UTC).replace(tzinfo=None).isoformat(),
        "product_id": product_id,
        "status": "hold" if "status" in state.ignored else data.get("status", "approved"),
        "reviewer": data["reviewer"],
        "reviewer_email": data["reviewer_email"],
        "review": content,
        "rating": int(data.get("rating", 0)),
        "verified": any(_bought(order, email, product_id) for order in state.orders),
    }
    state.reviews[review["id"]] = review
    return _ok(review, 201)


def _bought(order: dict[str, Any], email: str, product_id: int) -> bool:
    """wc_customer_bought_product: a paid order (processing or completed) of that e-mail with that product."""
    return (
        order.get("status") in ("processing", "completed")
        and str((order.get("billing") or {}).get("email", "")).lower() == email.lower()
        and any(int(item.get("product_id") or 0) == product_id for item in order.get("line_items") or [])
    )
