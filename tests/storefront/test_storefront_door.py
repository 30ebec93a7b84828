"""The storefront's WSGI door (app/storefront/door.py) answers exactly as the Flask views would, case by case.

Every request is sent twice: through the door, and with the door bypassed (the views). Status, body and every
header must be the same; `door_answers` says whether the door served the request itself or passed it on.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from app.extensions import db
from app.loyalty import balance as loyalty_balance
from app.loyalty.models import LoyaltyAccount, PointsLedger
from app.loyalty.settings import update_settings
from app.platform.types import utcnow
from app.records.models import Customer
from app.security import secret_box
from app.storefront.auth import mint_customer_token
from app.storefront.door import StorefrontDoor
from app.stores.models import Store
from app.stores.storefront_keys import ensure_keys
from tests.helpers import add_store, without_door

NOW = 1_800_000_040.0  # the storefront clock (tokens, rate-limit windows): 40 s into a 60 s window
ORIGIN = "https://door.example.com"
BALANCE = "/api/v1/me/balance"
SUMMARY = "/api/v1/products/p1/reviews/summary"


@pytest.fixture
def clock(app, monkeypatch):
    monkeypatch.setitem(app.config, "STOREFRONT_CLOCK", lambda: NOW)


@pytest.fixture
def passed_on(app):
    """The paths the door handed on to Flask (a spy between the door and the rest of the chain)."""
    door = app.wsgi_app
    while not isinstance(door, StorefrontDoor):
        door = door.wsgi_app
    inner, calls = door.wsgi_app, []

    def spy(environ: dict[str, Any], start_response: Any) -> Any:
        calls.append(environ["PATH_INFO"])
        return inner(environ, start_response)

    door.wsgi_app = spy
    yield calls
    door.wsgi_app = inner


def _store(site: str) -> tuple[Store, Any]:
    store = add_store("woocommerce", f"https://{site}/")
    keys = ensure_keys(db.session, secret_box(), store)
    db.session.commit()
    return store, keys


def _customer(store: Store, platform_id: str, tier: str | None = None) -> None:
    now = utcnow()
    customer = Customer(store_id=store.id, platform_id=platform_id, email_key=f"{platform_id}@{store.id}")
    db.session.add(customer)
    db.session.flush()
    for key, kind, points, order, available in (
        ("order:1:earn", "earn", 40, "1", now - timedelta(hours=1)),
        ("order:2:earn", "earn", 30, "2", None),
        ("action:signup", "action", 25, None, now - timedelta(hours=1)),
    ):
        row = PointsLedger(store_id=store.id, customer_id=customer.id, source_key=key, kind=kind, points=points)
        row.order_platform_id, row.available_at, row.created_at = order, available, now - timedelta(days=1)
        db.session.add(row)
    db.session.add(LoyaltyAccount(store_id=store.id, customer_id=customer.id, tier=tier))
    db.session.commit()


def _token(secret: str, customer: str = "501", site: str = "door.example.com", expires: float = NOW + 600) -> str:
    return mint_customer_token(site, customer, secret, expires_at=int(expires))


def _seen(response: Any) -> tuple:
    return response.status_code, response.data, sorted(response.headers.items())


def _both(app, client, passed_on: list[str], method: str, path: str, headers: dict[str, str], body: bytes) -> tuple:
    """(door's answer, views' answer, whether the door answered itself)."""
    before = len(passed_on)
    door = _seen(client.open(path, method=method, headers=headers, data=body))
    answered = len(passed_on) == before
    with without_door(app, StorefrontDoor):
        views = _seen(client.open(path, method=method, headers=headers, data=body))
    return door, views, answered


def _check(app, client, passed_on, cases: dict[str, tuple]) -> None:
    """cases: name -> (method, path, headers, expected status, whether the door answers itself[, body])."""
    for name, (method, path, headers, status, door_answers, *body) in cases.items():
        door, views, answered = _both(app, client, passed_on, method, path, headers, body[0] if body else b"")
        assert door == views, name
        assert door[0] == status, (name, door[1])
        assert answered == door_answers, name


def test_balance_through_the_door_and_the_views(app, client, ctx, clock, passed_on):
    store, keys = _store("door.example.com")
    _customer(store, "501", tier="silver")
    other, other_keys = _store("other.example.com")
    good = {"Authorization": f"Bearer {_token(keys.secret)}", "Origin": ORIGIN}
    cases = {
        "good token": ("GET", BALANCE, good, 200, True),
        "no origin": ("GET", BALANCE, {"Authorization": good["Authorization"]}, 200, True),
        "token header": ("GET", BALANCE, {"X-PPE-Customer-Token": _token(keys.secret), "Origin": ORIGIN}, 200, True),
        "store key in the query": ("GET", f"{BALANCE}?store={keys.public_key}", good, 200, True),
        "unknown customer": (
            "GET",
            BALANCE,
            {**good, "Authorization": f"Bearer {_token(keys.secret, '77')}"},
            200,
            True,
        ),
        "expired": ("GET", BALANCE, {**good, "Authorization": f"Bearer {_token(keys.secret, expires=NOW)}"}, 401, True),
        "bad signature": ("GET", BALANCE, {**good, "Authorization": f"Bearer {_token('pss_wrong')}"}, 401, True),
        "malformed": ("GET", BALANCE, {**good, "Authorization": "Bearer abc.def.ghi"}, 401, True),
        "unknown store": (
            "GET",
            BALANCE,
            {**good, "Authorization": f"Bearer {_token('x', site='no.example')}"},
            401,
            True,
        ),
        "wrong store key": ("GET", BALANCE, {**good, "X-PPE-Store": other_keys.public_key}, 401, True),
        "empty store key": ("GET", BALANCE, {**good, "X-PPE-Store": ""}, 401, True),
        "disallowed origin": ("GET", BALANCE, {**good, "Origin": "https://evil.example"}, 403, True),
        "anonymous": ("GET", BALANCE, {"X-PPE-Store": keys.public_key, "Origin": ORIGIN}, 401, True),
        "nothing": ("GET", BALANCE, {"Origin": ORIGIN}, 401, True),
        "preflight": ("OPTIONS", f"{BALANCE}?store={keys.public_key}", {"Origin": ORIGIN}, 204, False),
        "head": ("HEAD", BALANCE, good, 200, False),
        "post": ("POST", BALANCE, good, 405, False),
        "trailing slash": ("GET", BALANCE + "/", good, 404, False),
        "proxy": ("GET", "/proxy" + BALANCE, {}, 401, False),
    }
    _check(app, client, passed_on, cases)
    answer = client.get(BALANCE, headers=good).json
    assert (answer["spendable"], answer["pending"], answer["tier"]) == (65, 30, "silver")
    db.session.get(Store, other.id).status = "uninstalled"
    db.session.commit()
    other_token = {"Authorization": f"Bearer {_token(other_keys.secret, site='other.example.com')}"}
    _check(app, client, passed_on, {"uninstalled": ("GET", BALANCE, other_token, 401, True)})


def test_balance_with_tier_progress(app, client, ctx, clock, passed_on):
    store, keys = _store("door.example.com")
    tier = {"name": "Gold", "threshold": "500", "basis": "points_earned", "window": "lifetime", "multiplier": "2"}
    update_settings(db.session, store, {"tiers": [{**tier, "reward_points": 0}]})
    db.session.commit()
    _customer(store, "501")
    good = {"Authorization": f"Bearer {_token(keys.secret)}", "Origin": ORIGIN}
    _check(app, client, passed_on, {"progress": ("GET", BALANCE, good, 200, True)})
    assert client.get(BALANCE, headers=good).json["progress"]["tier"] == "Gold"


def test_summary_through_the_door_and_the_views(app, client, ctx, clock, passed_on):
    _store_row, keys = _store("door.example.com")
    anonymous = {"X-PPE-Store": keys.public_key, "Origin": ORIGIN}
    cases = {
        "anonymous": ("GET", SUMMARY, anonymous, 200, True),
        "cached": ("GET", SUMMARY, anonymous, 200, True),
        "unknown product": ("GET", SUMMARY.replace("p1", "nope"), anonymous, 200, True),
        "key in the query": ("GET", f"{SUMMARY}?store={keys.public_key}&x=%FF", {"Origin": ORIGIN}, 200, True),
        "percent-encoded junk key": ("GET", f"{SUMMARY}?store=%FF", {"Origin": ORIGIN}, 401, True),
        "customer token": ("GET", SUMMARY, {"Authorization": f"Bearer {_token(keys.secret)}"}, 200, True),
        "bad product id": ("GET", SUMMARY.replace("p1", "p.1"), anonymous, 400, True),
        "non-ascii product id": ("GET", SUMMARY.replace("p1", "%C3%A9"), anonymous, 400, True),
        "encoded product id": ("GET", SUMMARY.replace("p1", "p%31"), anonymous, 200, True),
        "unknown key": ("GET", SUMMARY, {**anonymous, "X-PPE-Store": "ppk_999_nope"}, 401, True),
        "disallowed origin": ("GET", SUMMARY, {**anonymous, "Origin": "null"}, 403, True),
        "with a body": ("GET", SUMMARY, anonymous, 200, False, b"{}"),
        "reviews page": ("GET", SUMMARY.removesuffix("/summary"), anonymous, 200, False),
    }
    _check(app, client, passed_on, cases)
    assert client.get(SUMMARY, headers=anonymous).json["count"] == 0


def test_rate_limited_alike(app, client, ctx, clock, passed_on, monkeypatch):
    store, keys = _store("door.example.com")
    _customer(store, "501")
    monkeypatch.setitem(app.config, "STOREFRONT_RATE_CLIENT", "1/60")
    good = {"Authorization": f"Bearer {_token(keys.secret)}", "Origin": ORIGIN}
    anonymous = {"X-PPE-Store": keys.public_key, "Origin": ORIGIN}
    assert client.get(BALANCE, headers=good).status_code == 200  # the customer's one request of the window
    assert client.get(SUMMARY, headers=anonymous).status_code == 200  # the address's one request
    cases = {"balance": ("GET", BALANCE, good, 429, True), "summary": ("GET", SUMMARY, anonymous, 429, True)}
    _check(app, client, passed_on, cases)
    refused = client.get(BALANCE, headers=good)
    assert refused.headers["Retry-After"] == "20" and refused.json["error"] == "too_many_requests"
    assert refused.headers["Access-Control-Allow-Origin"] == ORIGIN


def test_internal_error_alike(app, client, ctx, clock, passed_on, monkeypatch):
    store, keys = _store("door.example.com")

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("database gone")

    monkeypatch.setattr(loyalty_balance, "balance_rows", broken)
    good = {"Authorization": f"Bearer {_token(keys.secret)}", "Origin": ORIGIN}
    with pytest.raises(RuntimeError):  # tests propagate exceptions, through the door as through Flask
        client.get(BALANCE, headers=good)
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)
    _check(app, client, passed_on, {"500": ("GET", BALANCE, good, 500, True)})
    assert client.get(BALANCE, headers=good).json["error"] == "internal_server_error"
