"""Storefront authentication: the Shopify app proxy signature, WooCommerce customer tokens, store isolation."""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import parse_qsl, urlencode

import pytest

from app.storefront.auth import StorefrontAuthError, mint_customer_token, proxy_signature, verify_proxy
from tests.helpers import WOO_SITE, add_store

# Shopify's documented example, verbatim:
# https://shopify.dev/docs/apps/build/online-store/app-proxies/authenticate-app-proxies
EXAMPLE_SECRET = "hush"
EXAMPLE_QUERY = (
    "extra=1&extra=2&shop=shop-name.myshopify.com&logged_in_customer_id=1&path_prefix=%2Fapps%2Fawesome_reviews&"
    "timestamp=1317327555&signature=4c68c8624d737112c91818c11017d24d334b524cb5c2b8ba08daa056f7395ddb"
)
EXAMPLE_TIME = 1317327555


def _params(query: str) -> dict[str, list[str]]:
    params: dict[str, list[str]] = {}
    for key, value in parse_qsl(query, keep_blank_values=True):
        params.setdefault(key, []).append(value)
    return params


@pytest.fixture
def clock(app, monkeypatch):
    now = {"t": float(EXAMPLE_TIME)}
    monkeypatch.setitem(app.config, "STOREFRONT_CLOCK", lambda: now["t"])
    return now


@pytest.fixture
def example_shop(app, ctx, monkeypatch, clock):
    monkeypatch.setitem(app.config, "SHOPIFY_API_SECRET", EXAMPLE_SECRET)
    return add_store("shopify", "shop-name.myshopify.com")


def test_documented_example_verifies():
    claims = verify_proxy(_params(EXAMPLE_QUERY), EXAMPLE_SECRET, now=EXAMPLE_TIME)
    assert (claims.shop, claims.customer_id, claims.timestamp) == ("shop-name.myshopify.com", "1", EXAMPLE_TIME)


def test_documented_example_accepted_over_http(client, example_shop):
    answer = client.get("/proxy/api/v1/me?" + EXAMPLE_QUERY)
    assert answer.status_code == 200, answer.json
    assert answer.json == {"logged_in": True, "customer": {"first_name": None, "orders_count": 0}}


def _tampered() -> list[str]:
    pairs = parse_qsl(EXAMPLE_QUERY, keep_blank_values=True)
    body = [(k, v) for k, v in pairs if k != "signature"]
    sig = ("signature", dict(pairs)["signature"])
    variants = []
    for index, (key, value) in enumerate(body):  # every parameter changed, then removed
        changed = [*body[:index], (key, value + "0"), *body[index + 1 :]]
        variants.append(urlencode([*changed, sig]))
        variants.append(urlencode([*body[:index], *body[index + 1 :], sig]))
    variants.append(urlencode([*body, ("extra", "3"), sig]))  # a value added to a repeated key
    variants.append(urlencode([*body, ("added", "x"), sig]))  # a parameter added
    variants.append(urlencode(body))  # no signature
    variants.append(urlencode([*body, ("signature", sig[1][:-1] + "e")]))  # the signature itself changed
    # A signature computed with "&" between the pairs (a common mistake) must not pass.
    amp = "&".join(sorted(f"{k}={','.join(v)}" for k, v in _params(urlencode(body)).items()))
    wrong = hmac.new(EXAMPLE_SECRET.encode(), amp.encode(), hashlib.sha256).hexdigest()
    variants.append(urlencode([*body, ("signature", wrong)]))
    return variants


@pytest.mark.parametrize("query", _tampered())
def test_tampered_example_refused(client, example_shop, query):
    answer = client.get("/proxy/api/v1/me?" + query)
    assert answer.status_code == 401
    assert answer.json["error"].startswith("proxy.")
    with pytest.raises(StorefrontAuthError):
        verify_proxy(_params(query), EXAMPLE_SECRET, now=EXAMPLE_TIME)


def test_proxy_timestamp_window(client, example_shop, clock):
    clock["t"] = EXAMPLE_TIME + 300
    assert client.get("/proxy/api/v1/me?" + EXAMPLE_QUERY).status_code == 200
    clock["t"] = EXAMPLE_TIME + 301
    assert client.get("/proxy/api/v1/me?" + EXAMPLE_QUERY).json["error"] == "proxy.stale"
    clock["t"] = EXAMPLE_TIME - 60
    assert client.get("/proxy/api/v1/me?" + EXAMPLE_QUERY).status_code == 200
    clock["t"] = EXAMPLE_TIME - 61
    assert client.get("/proxy/api/v1/me?" + EXAMPLE_QUERY).status_code == 401


def test_proxy_needs_an_active_store(client, example_shop, ctx):
    from app.extensions import db
    from app.stores.service import mark_uninstalled

    mark_uninstalled(db.session, db.session.merge(example_shop))
    db.session.commit()
    answer = client.get("/proxy/api/v1/me?" + EXAMPLE_QUERY)
    assert (answer.status_code, answer.json["error"]) == (401, "unknown_store")


def _signed_proxy_query(shop: str, customer: str, now: int, secret: str) -> str:
    params = {
        "shop": [shop],
        "logged_in_customer_id": [customer],
        "path_prefix": ["/apps/ppe"],
        "timestamp": [str(now)],
    }
    params["signature"] = [proxy_signature(params.items(), secret)]
    return urlencode({k: v[0] for k, v in params.items()})


def test_anonymous_proxy_shopper(app, client, ctx, clock):
    add_store("shopify")
    query = _signed_proxy_query("test-shop.myshopify.com", "", EXAMPLE_TIME, app.config["SHOPIFY_API_SECRET"])
    assert client.get("/proxy/api/v1/me?" + query).json == {"logged_in": False, "customer": None}


# --- WooCommerce tokens -----------------------------------------------------------------------------------


def _woo_keys(store):
    from app.extensions import db
    from app.security import secret_box
    from app.stores.storefront_keys import ensure_keys

    keys = ensure_keys(db.session, secret_box(), db.session.merge(store))
    db.session.commit()
    return keys


def _customer(store, platform_id: str, first_name: str, orders: int = 2):
    from app.extensions import db
    from app.records.models import Customer

    customer = Customer(
        store_id=store.id,
        platform_id=platform_id,
        email_key=f"{platform_id}@x",
        first_name=first_name,
        orders_count=orders,
    )
    db.session.add(customer)
    db.session.commit()
    return customer


def _me(client, token: str, **headers: str):
    return client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}", **headers})


def test_woo_token_accepted_expired_wrong_secret(client, ctx, clock):
    store = add_store("woocommerce")
    keys = _woo_keys(store)
    _customer(store, "42", "Ann", orders=3)
    now = int(clock["t"])
    token = mint_customer_token("woo.example.com", "42", keys.secret, expires_at=now + 600)
    assert _me(client, token).json == {"logged_in": True, "customer": {"first_name": "Ann", "orders_count": 3}}
    # The other header works too, and the site URL form of the store claim is normalised.
    other = mint_customer_token(WOO_SITE, "42", keys.secret, expires_at=now + 600)
    assert client.get("/api/v1/me", headers={"X-PPE-Customer-Token": other}).json["logged_in"] is True

    clock["t"] = now + 600
    assert _me(client, token).json["error"] == "token.expired"
    clock["t"] = now
    too_long = mint_customer_token("woo.example.com", "42", keys.secret, expires_at=now + 3600 + 61)
    assert _me(client, too_long).json["error"] == "token.lifetime_too_long"
    forged = mint_customer_token("woo.example.com", "42", "pss_not-the-secret", expires_at=now + 600)
    assert _me(client, forged).json["error"] == "token.bad_signature"
    assert _me(client, token[:-2] + ("AA" if not token.endswith("AA") else "BB")).status_code == 401
    assert _me(client, "not-a-token").json["error"] == "token.malformed"


def test_rotated_secret_invalidates_tokens(app, client, ctx, clock):
    store = add_store("woocommerce")
    old = _woo_keys(store)
    token = mint_customer_token("woo.example.com", "42", old.secret, expires_at=int(clock["t"]) + 600)
    assert _me(client, token).status_code == 200
    result = app.test_cli_runner().invoke(args=["stores", "storefront-secret", "woo.example.com", "--rotate"])
    assert result.exit_code == 0, result.output
    assert old.secret not in result.output and old.public_key in result.output
    assert _me(client, token).json["error"] == "token.bad_signature"
    import json

    new_secret = json.loads(result.output)["secret"]
    fresh = mint_customer_token("woo.example.com", "42", new_secret, expires_at=int(clock["t"]) + 600)
    assert _me(client, fresh).status_code == 200
    # Without --rotate the command prints the same secret again.
    again = app.test_cli_runner().invoke(args=["stores", "storefront-secret", "woo.example.com"])
    assert json.loads(again.output)["secret"] == new_secret


def test_wrong_store_and_cross_store_isolation(client, ctx, clock):
    a = add_store("woocommerce", "https://a.example.com")
    b = add_store("woocommerce", "https://b.example.com")
    keys_a, keys_b = _woo_keys(a), _woo_keys(b)
    _customer(a, "42", "Ann")
    _customer(b, "42", "Bob")
    _customer(b, "77", "Cleo")
    exp = int(clock["t"]) + 600
    # A's token, A's customer 42 -- never B's customer with the same platform id.
    token_a = mint_customer_token("a.example.com", "42", keys_a.secret, expires_at=exp)
    assert _me(client, token_a).json["customer"]["first_name"] == "Ann"
    # B's customer 77 cannot be reached from A, even with a validly signed A token: A has no 77.
    token_a77 = mint_customer_token("a.example.com", "77", keys_a.secret, expires_at=exp)
    assert _me(client, token_a77).json == {"logged_in": True, "customer": {"first_name": None, "orders_count": 0}}
    # A token naming B but signed with A's secret; A's token sent with B's store key: both refused.
    assert _me(client, mint_customer_token("b.example.com", "77", keys_a.secret, expires_at=exp)).status_code == 401
    assert _me(client, token_a, **{"X-PPE-Store": keys_b.public_key}).json["error"] == "token.wrong_store"
    assert _me(client, token_a, **{"X-PPE-Store": keys_a.public_key}).status_code == 200
    # A token for a store that is not WooCommerce (or not installed) names no store.
    ghost = mint_customer_token("ghost.example.com", "42", keys_a.secret, expires_at=exp)
    assert _me(client, ghost).json["error"] == "unknown_store"


def test_anonymous_by_public_key(client, ctx):
    store = add_store("woocommerce", currency="EUR")
    keys = _woo_keys(store)
    assert client.get("/api/v1/me", headers={"X-PPE-Store": keys.public_key}).json == {
        "logged_in": False,
        "customer": None,
    }
    program = client.get(f"/api/v1/program?store={keys.public_key}").json
    assert program["currency"] == "EUR" and program["earn_text"] == "Earn 1 point for every 1 EUR spent"
    assert client.get("/api/v1/me").json["error"] == "store_key_required"
    forged = keys.public_key[:-1] + ("A" if keys.public_key[-1] != "A" else "B")
    assert client.get("/api/v1/me", headers={"X-PPE-Store": forged}).json["error"] == "unknown_store"


def test_a_redemption_id_of_unicode_digits_is_not_found(client, ctx, clock):
    """'¹'.isdigit() is True, int('¹') raises: found by schemathesis as a 500."""
    store = add_store("woocommerce")
    keys = _woo_keys(store)
    _customer(store, "42", "Ann")
    token = mint_customer_token("woo.example.com", "42", keys.secret, expires_at=int(clock["t"]) + 600)
    for rid in ("%C2%B9", "%D9%A3"):  # superscript one, Arabic-Indic three
        response = client.get(f"/api/v1/me/redemptions/{rid}", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 404, response.data
