"""The storefront OpenAPI document, and schemathesis against it through the WSGI app: no 5xx, conformant answers."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import CHECKS, load_all_checks
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance

from app.storefront.auth import mint_customer_token
from app.storefront.registry import ROUTES, openapi_path
from tests.helpers import add_store

NOW = 1_800_000_000.0
# Operations whose schema-valid input still carries a signature no generator can produce (a review star link's
# token: refused as link_invalid, 400; a referral landing token: no code for it, 404), and schemathesis' "valid
# data is accepted" check cannot hold for them. Every other check still runs.
SIGNED_INPUT = {"POST /api/v1/reviews": 400, "GET /api/v1/referrals/friend-code": 404}


@pytest.fixture
def storefront(app, ctx, monkeypatch):
    """A WooCommerce store with keys and a customer; limits high enough that a run is not mostly 429s."""
    from app.extensions import db
    from app.records.models import Customer
    from app.security import secret_box
    from app.stores.storefront_keys import ensure_keys

    monkeypatch.setitem(app.config, "STOREFRONT_CLOCK", lambda: NOW)
    monkeypatch.setitem(app.config, "STOREFRONT_RATE_CLIENT", "100000/60")
    monkeypatch.setitem(app.config, "STOREFRONT_RATE_STORE", "100000/60")
    store = add_store("woocommerce", currency="EUR")
    store = db.session.merge(store)
    # Valid loyalty settings (loyalty/settings.py): the loyalty panel's routes read them validated.
    reward = {"id": "five-off", "type": "fixed_amount", "points": 500, "value": "5", "currency": "EUR"}
    store.settings = {"loyalty": {"rewards": [reward]}}
    keys = ensure_keys(db.session, secret_box(), store)
    db.session.add(Customer(store_id=store.id, platform_id="42", email_key="a@x", first_name="Ann", orders_count=2))
    db.session.commit()
    token = mint_customer_token("woo.example.com", "42", keys.secret, expires_at=int(NOW) + 600)
    return {"public_key": keys.public_key, "token": token}


def test_document_lists_registered_routes(client):
    document = client.get("/api/v1/openapi.json").json
    assert document["openapi"] == "3.1.0"
    assert {"/api/v1/program", "/api/v1/me"} <= set(document["paths"])
    assert document["paths"]["/api/v1/me"]["get"]["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Me"
    }
    assert "Retry-After" in document["paths"]["/api/v1/me"]["get"]["responses"]["429"]["headers"]


def test_schemathesis(app, storefront):
    """Every operation, generated requests sent as an anonymous widget, a logged-in customer and a caller with no
    credentials: never a 5xx, every answer conforms to the document (status, content type, body, headers).

    (Driven through hypothesis directly: schemathesis' pytest plugin does not support this pytest version.)
    """
    load_all_checks()
    every_check = list(CHECKS.get_all())
    api = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    callers = {
        "anonymous": {"X-PPE-Store": storefront["public_key"]},
        "customer": {"Authorization": "Bearer " + storefront["token"]},
        "nobody": {},
    }
    seen: set[str] = set()
    # auth="customer" routes answer an anonymous widget 401 (customer_login_required), by design.
    for result in api.get_all_operations():
        operation = result.ok()
        spec = next(r for r in ROUTES if openapi_path("/api/v1" + r.path)[0] == operation.path)

        @given(case=operation.as_strategy())
        @settings(
            max_examples=30,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
            derandomize=True,  # the same examples every run: a failure here is a finding, not a flake
        )
        def run(case):
            signed = SIGNED_INPUT.get(case.operation.label)
            excluded = [positive_data_acceptance] if signed is not None else []
            checks = [c for c in every_check if c not in excluded]
            # As generated (schemathesis also invents credentials from the security schemes): conformance only.
            assert case.call_and_validate(checks=checks).status_code < 500
            # Then without invented credentials, as each of our callers: exact outcomes.
            case.headers = {
                k: v for k, v in (case.headers or {}).items() if k.lower() not in ("authorization", "x-ppe-store")
            }
            for who, headers in callers.items():
                # Our own credentials replace what was generated: a case schemathesis built as "invalid auth"
                # is valid now, so its negative-data check does not apply to these calls.
                response = case.call_and_validate(
                    headers=headers, checks=[c for c in checks if c is not negative_data_rejection]
                )
                assert response.status_code < 500, who
                # run() is called at once, inside the loop: the loop variables are the current ones.
                if who == "nobody" or (who == "anonymous" and spec.auth == "customer"):  # noqa: B023
                    assert response.status_code == 401, response.text
                elif signed is not None:  # needs a signed token no generator can make: refused, never a 5xx
                    assert response.status_code == signed, (who, response.text)
                elif operation.method.upper() == "GET" and "<" not in spec.path:  # noqa: B023
                    assert response.status_code == 200, (who, response.text)
                else:  # a redemption: made, or refused for a stated reason (no such reward, not enough points)
                    assert response.status_code in (200, 400, 403, 404, 409, 422), (who, response.text)

        run()
        seen.add(operation.label)
    assert {
        "GET /api/v1/me",
        "GET /api/v1/program",
        "POST /api/v1/reviews",
        "GET /api/v1/products/{product_id}/reviews",
        "GET /api/v1/products/{product_id}/reviews/summary",
    } <= seen
