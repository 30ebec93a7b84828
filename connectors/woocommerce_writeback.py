"""WooWriteback: WooCommerce write-backs (REST v3 via the `woocommerce` package) as the StoreClient protocol
(writeback.py) names them: coupons, customers' loyalty meta, product reviews (review_model "reviews").

Docs relied on (https://woocommerce.github.io/woocommerce-rest-api-docs/ and
https://developer.woocommerce.com/docs/apis/rest-api/v3/):
- #create-a-coupon / #list-all-coupons (`code` filter) / #update-a-coupon: discount_type fixed_cart | percent, amount
  as a string, usage_limit, usage_limit_per_user, email_restrictions, free_shipping, minimum_amount, date_expires.
  The expiry is sent as `date_expires` with an explicit offset: WC_Data::set_date_prop reads
  `YYYY-MM-DDTHH:MM:SS+00:00` as that moment (without an offset, in the site's time zone), while
  `date_expires_gmt`, though listed in the schema, has no setter and is silently dropped.
  A code that exists answers 400 `woocommerce_rest_coupon_code_already_exists`.
- #batch-update-customers: POST /customers/batch, "limited to 100 objects" per request (create+update+delete).
- #create-a-product-review / #list-all-product-reviews (`product`, `reviewer_email` filters): WordPress's duplicate
  comment check answers 409 `woocommerce_rest_comment_duplicate`.

Retry safety: coupons are looked up by code before the POST, and a duplicate-code answer is read back as the
existing coupon; a duplicate review is answered with the existing one (or created=False), never an error that
would make a job retry forever. WooCommerce core has no "new customers only" rule, so that flag is stored in
the coupon's meta_data for our own check when the order arrives; nor a start date (starts_at is not sent).

Every write is read back from the store's answer (woocommerce_readback.py): a coupon, a customer's loyalty meta or
a review stored otherwise than sent is StoredDifferently (a refused item, for a batch), naming the fields. A coupon
of ours found stored otherwise (sent by an older version, or edited) is updated once, then compared again.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC
from typing import TYPE_CHECKING, Any, cast

import requests

from .exceptions import ConnectorError, StoredDifferently, StoreUnavailable
from .woocommerce_admin import NotFound, WooAdminClient, _check, _json, _json_object
from .woocommerce_readback import coupon_mismatches, meta_mismatches, review_mismatches
from .writeback import (
    CreatedDiscount,
    CreatedReview,
    DiscountSpec,
    LoyaltyBalance,
    LoyaltyWrite,
    ProductRating,
    ReviewModel,
    ReviewToPublish,
    write_in_calls,
)

if TYPE_CHECKING:
    from .writeback import StoreClient

BATCH_LIMIT = 100
COUPON_EXISTS = "woocommerce_rest_coupon_code_already_exists"
REVIEW_DUPLICATE = "woocommerce_rest_comment_duplicate"
LOYALTY_BALANCE_META = "loyalty_points_balance"
LOYALTY_TIER_META = "loyalty_tier"
NEW_CUSTOMERS_META = "_ppe_new_customers_only"


class WooRefused(ConnectorError):
    """A 4xx with a WooCommerce error code; `code` is safe to log."""

    def __init__(self, message: str, code: str, status: int) -> None:
        super().__init__(message)
        self.code = code
        self.status = status


class WooWriteback(WooAdminClient):
    @property
    def review_model(self) -> ReviewModel:
        return "reviews"

    # -- coupons --------------------------------------------------------------

    def find_coupon(self, code: str) -> dict[str, Any] | None:
        items = _json(self._call("get", "coupons", "coupons.find", params={"code": code}), "coupons.find")
        # A list answer holds coupon objects: the cast types the decoded JSON at this boundary (not checked at run
        # time, as before). The `code` filter is exact but case-insensitive, as coupon codes are
        # (wc_format_coupon_code lowercases).
        coupons = cast("list[dict[str, Any]]", items) if isinstance(items, list) else []
        for item in coupons:
            if str(item.get("code", "")).lower() == code.lower():
                return item
        return None

    def create_discount(self, spec: DiscountSpec) -> CreatedDiscount:
        body = coupon_body(spec)
        existing = self.find_coupon(spec.code)
        if existing:
            return CreatedDiscount(spec.code, self._as_sent(existing, body), created=False)
        response = self._raw("post", "coupons", "coupons.create", data=body)
        if _error_code(response) == COUPON_EXISTS:
            existing = self.find_coupon(spec.code)
            if existing:
                return CreatedDiscount(spec.code, self._as_sent(existing, body), created=False)
        created = _json_object(_refusal(response, "coupons.create"), "coupons.create")
        _raise_if_different("coupons.create", coupon_mismatches(body, created))
        return CreatedDiscount(spec.code, str(created["id"]), created=True)

    def delete_discount(self, platform_id: str) -> bool:
        """#delete-a-coupon: DELETE /coupons/<id>?force=true (without force WooCommerce refuses, coupons do not
        support trashing over REST). A coupon already gone (404) is not an error: False."""
        if not platform_id.isdigit():
            raise ValueError("a WooCommerce coupon id is numeric")
        try:
            self._call("delete", f"coupons/{platform_id}", "coupons.delete", params={"force": "true"})
        except NotFound:
            return False
        return True

    def _as_sent(self, coupon: dict[str, Any], body: dict[str, Any]) -> str:
        """The id of our coupon found at the store, updated first when it holds something else than `body`."""
        coupon_id = str(int(coupon["id"]))
        if coupon_mismatches(body, coupon):
            changes = {k: v for k, v in body.items() if k != "code"}
            answer = self._call("put", f"coupons/{coupon_id}", "coupons.update", data=changes)
            _raise_if_different("coupons.update", coupon_mismatches(body, _json_object(answer, "coupons.update")))
        return coupon_id

    # -- customers ------------------------------------------------------------

    def update_customer_meta(self, updates: list[tuple[str, dict[str, str]]]) -> list[dict[str, Any]]:
        """Set meta_data keys on customers, BATCH_LIMIT per POST /customers/batch; the per-item answers.

        An item WooCommerce refuses comes back with an `error` in its answer (the batch still succeeds);
        callers look at those rather than retrying the whole batch.
        """
        answers: list[dict[str, Any]] = []
        for start in range(0, len(updates), BATCH_LIMIT):
            chunk = updates[start : start + BATCH_LIMIT]
            body = {
                "update": [
                    {"id": int(customer_id), "meta_data": [{"key": k, "value": v} for k, v in meta.items()]}
                    for customer_id, meta in chunk
                ]
            }
            result = _json(self._call("post", "customers/batch", "customers.batch", data=body), "customers.batch")
            answers.extend(result.get("update") or [])
        return answers

    def write_loyalty(self, balances: Sequence[LoyaltyBalance], *, max_calls: int) -> LoyaltyWrite:
        """customers/batch, BATCH_LIMIT customers per call; customers refused in an answer are `refused`."""
        calls = (balances[start : start + BATCH_LIMIT] for start in range(0, len(balances), BATCH_LIMIT))
        return write_in_calls(calls, self._set_loyalty, max_calls)

    def _set_loyalty(self, batch: Sequence[LoyaltyBalance]) -> dict[str, str]:
        """One customers/batch call; the customers refused or answered with other values, each with its reason."""
        updates = [
            (b.customer_id, {LOYALTY_BALANCE_META: str(b.points), LOYALTY_TIER_META: b.tier or ""}) for b in batch
        ]
        answers = {str(a.get("id")): a for a in self.update_customer_meta(updates) if isinstance(a, dict)}
        refused: dict[str, str] = {}
        for customer_id, meta in updates:
            answer = answers.get(customer_id)
            if answer is None:
                refused[customer_id] = "customers.batch: not in the answer"
            elif answer.get("error"):
                error = answer["error"]
                code = error.get("code", "") if isinstance(error, dict) else ""
                refused[customer_id] = f"customers.batch: refused {str(code)[:80]}".rstrip()
            elif different := meta_mismatches(meta, answer):
                refused[customer_id] = str(StoredDifferently("customers.batch", different))[:500]
        return refused

    # -- reviews --------------------------------------------------------------

    def publish_review(self, review: ReviewToPublish) -> CreatedReview:
        if not 0 <= review.rating <= 5:
            raise ValueError("rating is 0 to 5")
        body = {
            "product_id": int(review.product_id),
            "review": review.text,
            "reviewer": review.reviewer,
            "reviewer_email": review.reviewer_email,
            "rating": int(review.rating),
            # Published with us means shown: not left to the site's comment moderation. `verified` is read-only
            # (WooCommerce derives it from the reviewer's orders), so it is not sent.
            "status": "approved",
        }
        response = self._raw("post", "products/reviews", "reviews.create", data=body)
        if response.status_code == 409 or _error_code(response) == REVIEW_DUPLICATE:
            found = self._find_review(review.product_id, review.reviewer_email, review.text)
            if found:
                _raise_if_different("reviews.find", review_mismatches(body, found))
            return CreatedReview(str(found["id"]) if found else None, created=False)
        created = _json_object(_refusal(response, "reviews.create"), "reviews.create")
        _raise_if_different("reviews.create", review_mismatches(body, created))
        return CreatedReview(str(created["id"]), created=True)

    def publish_ratings(self, ratings: Sequence[ProductRating]) -> None:
        """Nothing to send: WooCommerce computes a product's average_rating and rating_count from its approved
        reviews, which publish_review creates (read-only properties:
        https://woocommerce.github.io/woocommerce-rest-api-docs/#product-properties)."""

    def _find_review(self, product_id: str, reviewer_email: str, review: str) -> dict[str, Any] | None:
        params = {"product": str(int(product_id)), "reviewer_email": reviewer_email}
        for page in self._pages("products/reviews", params, "reviews.find", max_pages=5):
            for item in page:
                if _text(item.get("review")) == _text(review):
                    return item
        return None

    def _raw(self, method: str, endpoint: str, what: str, **kwargs: Any) -> requests.Response:
        """Like _call, but 400/409 come back to the caller, which recognises duplicates by their code."""
        try:
            # woocommerce.API is untyped (Any); each of its verbs answers the requests.Response of the call.
            response: requests.Response = getattr(self._api, method)(endpoint, **kwargs)
        except requests.RequestException as exc:
            raise StoreUnavailable(f"{what}: {type(exc).__name__}") from None
        if response.status_code in (400, 409):
            return response
        return _check(response, what)


def coupon_body(spec: DiscountSpec) -> dict[str, Any]:
    free_shipping = spec.kind == "free_shipping"
    body: dict[str, Any] = {
        "code": spec.code,
        "description": spec.title,
        "discount_type": "percent" if spec.kind == "percentage" else "fixed_cart",
        "amount": "0" if free_shipping else format(spec.value, "f"),
        "free_shipping": free_shipping,
        "individual_use": True,
        "usage_limit": spec.usage_limit,
        "usage_limit_per_user": 1 if spec.once_per_customer else None,
        "email_restrictions": [spec.customer_email] if spec.customer_email else [],
        "meta_data": [{"key": NEW_CUSTOMERS_META, "value": "yes"}] if spec.new_customers_only else [],
    }
    if spec.minimum_subtotal is not None:
        body["minimum_amount"] = format(spec.minimum_subtotal, "f")
    if spec.ends_at:
        # Whole seconds with the offset: the form set_date_prop reads as an exact moment (see the module docstring).
        body["date_expires"] = spec.ends_at.astimezone(UTC).replace(microsecond=0).isoformat()
    return body


def _raise_if_different(what: str, different: dict[str, tuple[object, object]]) -> None:
    if different:
        raise StoredDifferently(what, different)


def _error_code(response: requests.Response) -> str:
    if response.status_code < 400:
        return ""
    try:
        body = response.json()
    except ValueError:
        return ""
    return str(body.get("code", ""))[:80] if isinstance(body, dict) else ""


def _refusal(response: requests.Response, what: str) -> requests.Response:
    if response.status_code in (400, 409):
        code = _error_code(response)
        raise WooRefused(f"{what}: HTTP {response.status_code} {code}".rstrip(), code, response.status_code)
    return response


def _text(value: Any) -> str:
    # WordPress stores the review as post content and answers it wrapped in <p>...</p>.
    text = str(value or "").strip()
    if text.startswith("<p>") and text.endswith("</p>"):
        text = text[3:-4]
    return text.strip()


if TYPE_CHECKING:
    _conforms: type[StoreClient] = WooWriteback
