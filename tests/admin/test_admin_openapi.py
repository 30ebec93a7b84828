"""The admin OpenAPI document, and schemathesis with every check against it through the WSGI app: no 5xx, every
answer as documented."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import CHECKS, load_all_checks
from schemathesis.core.parameters import ParameterLocation
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance

from tests.helpers import add_store

# Schema-valid input the view refuses by rule, with a 4xx that says why: settings are validated by their own
# code (loyalty/settings.py's rules cross fields; the review settings refuse unknown keys; the support list holds
# e-mail addresses), so a generated object is mostly answered 422 naming the field; a points adjustment or a
# redemption depends on the customer's balance (422 insufficient_points); a segment's conditions are checked per field
# (segments/conditions.py: the op allowed depends on the field); the survey results' period needs `from` before `to`
# (a rule across two parameters the document cannot state); a campaign names one of the store's segments, and its
# message's fields depend on its kind (campaigns/settings.py); the surprises' thresholds are checked per kind
# (surprises/settings.py: a percentage needs its value, points their number). Every other check runs.
RULED_INPUT = {
    "POST /admin/api/v1/customers/{customer_id}/loyalty/adjust",
    "POST /admin/api/v1/customers/{customer_id}/redemptions",
    "PATCH /admin/api/v1/loyalty/settings",
    "PATCH /admin/api/v1/reviews/settings",
    "PATCH /admin/api/v1/support/settings",
    "PATCH /admin/api/v1/referrals/settings",
    "PATCH /admin/api/v1/store/settings",
    "POST /admin/api/v1/segments",
    "PATCH /admin/api/v1/segments/{key}",
    "GET /admin/api/v1/surveys/results",
    "POST /admin/api/v1/campaigns",
    "POST /admin/api/v1/campaigns/preview",
    "PATCH /admin/api/v1/surprises/settings",
}


@pytest.fixture
def merchant(app, ctx):
    """A WooCommerce store with valid loyalty settings, a customer, two reviews and an admin token."""
    from app.admin.auth import issue_admin_token
    from app.extensions import db
    from app.records.models import Customer
    from app.reviews.models.review import Review

    store = db.session.merge(add_store("woocommerce", currency="EUR"))
    reward = {"id": "five-off", "type": "fixed_amount", "points": 500, "value": "5", "currency": "EUR"}
    store.settings = {"loyalty": {"rewards": [reward]}}
    customer = Customer(store_id=store.id, platform_id="42", email_key="a@x", first_name="Ann", orders_count=2)
    db.session.add(customer)
    db.session.flush()
    # Rows for the list and moderation routes to answer with (small ids: the generators try them first).
    for rating, status in ((5, "published"), (2, "held")):
        db.session.add(
            Review(
                store_id=store.id,
                product_id=str(rating),
                order_platform_id="1001",
                customer_id=customer.id,
                rating=rating,
                status=status,
                body="Fine",
            )
        )
    db.session.commit()
    return {"Authorization": "Bearer " + issue_admin_token(store)}


def test_document_lists_every_admin_route_documented(app, client):
    document = client.get("/admin/api/v1/openapi.json").json
    assert document["openapi"] == "3.1.0"
    rules = {
        rule.rule
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("admin.") and rule.endpoint != "admin.openapi_document"
    }
    assert len(rules) == sum(1 for _ in document["paths"]) and rules
    undocumented = [
        f"{method.upper()} {path}"
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if operation["summary"] == "(undocumented)"
    ]
    assert undocumented == []  # add @documented(...) from app/admin/openapi.py to the view
    moderate = document["paths"]["/admin/api/v1/reviews/{review_id}/{action}"]["post"]
    assert [p["schema"] for p in moderate["parameters"]] == [
        {"type": "integer", "minimum": 0, "maximum": 2**63 - 1},
        {"type": "string", "enum": ["publish", "reject"]},
    ]


def test_schemathesis_every_check(app, merchant):
    """Every operation, generated requests as the store's merchant (and as generated, credentials included):
    never a 5xx, every answer conforms to the document (status, content type, headers, body).

    (Driven through hypothesis directly: schemathesis' pytest plugin does not support this pytest version.)
    """
    load_all_checks()
    every_check = list(CHECKS.get_all())
    api = schemathesis.openapi.from_wsgi("/admin/api/v1/openapi.json", app)
    answered: dict[str, set[int]] = {}
    for result in api.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(
            max_examples=25,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
            derandomize=True,  # the same examples every run: a failure here is a finding, not a flake
        )
        def run(case):
            checks = [
                c for c in every_check if not (c is positive_data_acceptance and case.operation.label in RULED_INPUT)
            ]
            assert case.call_and_validate(checks=checks).status_code < 500
            # Then with our merchant's credentials in place of the generated ones. A case that was invalid only
            # in its headers (invented credentials) is valid now: its negative-data check does not apply.
            # On the case itself, not as extra headers of the call, so ignored_auth can take them away again.
            case.headers = {k: v for k, v in (case.headers or {}).items() if k.lower() != "authorization"} | merchant
            meta = case.meta
            invalid_elsewhere = meta is not None and any(
                location != ParameterLocation.HEADER and info.mode.is_negative
                for location, info in meta.components.items()
            )
            if meta is not None and meta.generation.mode.is_negative and not invalid_elsewhere:
                checks = [c for c in checks if c is not negative_data_rejection]
            response = case.call_and_validate(checks=checks)
            assert response.status_code < 500, response.text
            assert response.status_code != 401, response.text
            answered.setdefault(case.operation.label, set()).add(response.status_code)

        run()
    # Every operation ran; the merchant's reads without a path parameter were answered.
    assert len(answered) == len(list(api.get_all_operations())) > 10
    for label in ("GET /admin/api/v1/store", "GET /admin/api/v1/reviews", "GET /admin/api/v1/loyalty/report"):
        assert 200 in answered[label], (label, answered[label])
