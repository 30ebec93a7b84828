"""Shopify UI extensions' session tokens on the storefront API, and the endpoints the extensions call.

Tokens are shaped as Shopify's Session Token API documents them (checkout and customer account extensions):
HS256 with the app secret, {"dest": "<shop>.myshopify.com", "aud": <client id>, "exp", "nbf", "iat", "jti",
"sub": "gid://shopify/Customer/<id>" when logged in}.
https://shopify.dev/docs/api/checkout-ui-extensions/latest/target-apis/platform-apis/session-token-api
"""

from __future__ import annotations

import time

import jwt
import pytest

from app.storefront.auth import StorefrontAuthError
from app.storefront.extension_token import mint_extension_token, verify_extension_token
from tests.conftest import SHOPIFY_SECRET
from tests.extensions.seed import ALICE, BOB, CLIENT_ID, seed
from tests.helpers import SHOP, add_store


def _now() -> int:
    return int(time.time())


SANDBOX = "https://extensions.shopifycdn.com"  # an origin the worker may have; the answer must not depend on it


def documented(**changes) -> dict:
    claims = {
        "dest": SHOP,
        "aud": CLIENT_ID,
        "exp": _now() + 300,
        "nbf": _now(),
        "iat": _now(),
        "jti": "6c992878-dbaf-48d1-bb9d-6d9b59814fd1",
        "sub": f"gid://shopify/Customer/{ALICE}",
    }
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


def token(claims: dict | None = None, secret: str = SHOPIFY_SECRET, alg: str = "HS256") -> str:
    return jwt.encode(claims or documented(), secret, algorithm=alg)


def bearer(value: str, origin: str | None = SANDBOX) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {value}"}
    if origin:
        headers["Origin"] = origin
    return headers


@pytest.fixture
def seeded(app, ctx, monkeypatch):
    monkeypatch.setitem(app.config, "SHOPIFY_API_KEY", CLIENT_ID)
    return seed()


def test_documented_shape_verifies():
    claims = verify_extension_token(token(), client_id=CLIENT_ID, secret=SHOPIFY_SECRET, now=_now())
    assert (claims.shop, claims.customer_id) == (SHOP, ALICE)
    guest = verify_extension_token(token(documented(sub=None)), client_id=CLIENT_ID, secret=SHOPIFY_SECRET, now=_now())
    assert guest.customer_id is None
    minted = mint_extension_token(SHOP, CLIENT_ID, SHOPIFY_SECRET, now=_now(), customer_id=BOB)
    assert set(jwt.decode(minted, options={"verify_signature": False})) == {
        "dest",
        "aud",
        "exp",
        "nbf",
        "iat",
        "jti",
        "sub",
    }


FORGED = {
    "another secret": lambda: token(secret="not-our-secret"),
    "alg none": lambda: jwt.encode(documented(), None, algorithm="none"),
    "HS512": lambda: token(alg="HS512"),
    # Times from the clock when the test runs, not the module's import: the HTTP checks below use the real clock,
    # and a full suite reaches this test minutes after collection (a time fixed at import was already past).
    "expired": lambda: token(documented(exp=_now() - 60, nbf=_now() - 360, iat=_now() - 360)),
    "not yet valid": lambda: token(documented(nbf=_now() + 120, iat=_now() + 120, exp=_now() + 420)),
    "another app": lambda: token(documented(aud="someone-elses-client-id")),
    "audience list": lambda: token(documented(aud=[CLIENT_ID, "x"])),
    "no aud": lambda: token(documented(aud=None)),
    "no dest": lambda: token(documented(dest=None)),
    "dest not a shop": lambda: token(documented(dest="evil.example.com")),
    "sub not a customer gid": lambda: token(documented(sub="gid://shopify/Order/1")),
    "string exp": lambda: token(documented(exp=str(_now() + 300))),
    "a day long": lambda: token(documented(exp=_now() + 86400)),
    "payload edited": lambda: (
        lambda t: (
            t.split(".")[0]
            + "."
            + token(documented(sub=f"gid://shopify/Customer/{BOB}")).split(".")[1]
            + "."
            + t.split(".")[2]
        )
    )(token()),
}


@pytest.mark.parametrize("name", sorted(FORGED))
def test_forged_tokens_refused(seeded, client, name):
    forged = FORGED[name]()
    with pytest.raises(StorefrontAuthError):
        verify_extension_token(forged, client_id=CLIENT_ID, secret=SHOPIFY_SECRET, now=_now())
    answer = client.get("/api/v1/me/balance", headers=bearer(forged))
    assert answer.status_code == 401, (name, answer.json)
    assert answer.json["error"].startswith("session_token.")
    answer = client.get(f"/api/v1/orders/{seeded.delivered}/rewards", headers=bearer(forged))
    assert answer.status_code == 401


def test_another_shop_is_refused_and_never_reaches_ours(seeded, client, app):
    # Signed by us for a shop that is not installed: refused.
    stranger = token(documented(dest="other-shop.myshopify.com"))
    assert client.get("/api/v1/me/balance", headers=bearer(stranger)).status_code == 401
    # Installed: the token reads that shop's data only, and may not name our store's key.
    add_store("shopify", "other-shop.myshopify.com")
    answer = client.get("/api/v1/me/balance", headers=bearer(stranger))
    assert answer.status_code == 200 and answer.json["spendable"] == 0
    assert client.get(f"/api/v1/orders/{seeded.delivered}/rewards", headers=bearer(stranger)).status_code == 404
    crossed = client.get(f"/api/v1/me/balance?store={seeded.public_key}", headers=bearer(stranger))
    assert crossed.status_code == 401 and crossed.json["error"] == "token.wrong_store"


def test_balance_with_the_session_token_and_cors_star(seeded, client):
    answer = client.get("/api/v1/me/balance", headers=bearer(token()))
    assert answer.status_code == 200, answer.json
    assert answer.json["spendable"] == 120 and answer.json["pending"] == 45
    assert answer.headers["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in answer.headers
    # The preflight carries no Authorization: the shop in the query names the store.
    pre = client.options(
        f"/api/v1/me/balance?shop={SHOP}",
        headers={
            "Origin": SANDBOX,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "authorization",
        },
    )
    assert pre.status_code == 204 and pre.headers["Access-Control-Allow-Origin"] == "*"
    assert "Authorization" in pre.headers["Access-Control-Allow-Headers"]
    # The full page knows no shop: its preflight names none and is still let through (the token decides).
    page = client.options(
        "/api/v1/me/balance",
        headers={
            "Origin": SANDBOX,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "authorization",
        },
    )
    assert page.status_code == 204 and page.headers["Access-Control-Allow-Origin"] == "*"
    # A preflight that asks for no Authorization and names no store key is not an extension's: refused.
    assert client.options("/api/v1/me/balance", headers={"Origin": SANDBOX}).status_code == 403


def test_order_rewards_states(seeded, client):
    def rewards(order_id: str, who: str = ALICE):
        return client.get(
            f"/api/v1/orders/{order_id}/rewards", headers=bearer(token(documented(sub=f"gid://shopify/Customer/{who}")))
        )

    pending = rewards(seeded.pending)
    assert pending.status_code == 200, pending.json
    assert pending.json == {
        "order_id": seeded.pending,
        "points": 45,
        "state": "pending",
        "spendable_at": None,
        "pending_text": None,
        "first_order": False,
        "reviews": [],
    }
    delivered = rewards(seeded.delivered).json
    assert (delivered["points"], delivered["state"], delivered["first_order"]) == (120, "spendable", True)
    assert delivered["spendable_at"] is not None
    assert [r["product_id"] for r in delivered["reviews"]] == ["93", "94"]
    # The neutral order review page (/r/order/<token>), never a star link with a rating chosen for the shopper.
    assert all("/r/order/" in r["review_url"] for r in delivered["reviews"])
    assert rewards(seeded.cancelled).json["state"] == "reversed"
    assert rewards(seeded.bobs, BOB).json["first_order"] is True


def test_a_customer_never_sees_another_customers_order(seeded, client):
    alice = bearer(token())
    theirs = client.get(f"/api/v1/orders/{seeded.bobs}/rewards", headers=alice)
    missing = client.get("/api/v1/orders/999999/rewards", headers=alice)
    assert theirs.status_code == missing.status_code == 404
    assert theirs.json == missing.json  # the same answer: existence is not told
    guest = client.get(f"/api/v1/orders/{seeded.pending}/rewards", headers=bearer(token(documented(sub=None))))
    assert guest.status_code == 401 and guest.json["error"] == "customer_login_required"
    bob = client.get("/api/v1/me/balance", headers=bearer(token(documented(sub=f"gid://shopify/Customer/{BOB}"))))
    assert bob.json["pending"] == 80 and bob.json["spendable"] == 0


def test_earn_preview(seeded, client):
    answer = client.get(f"/api/v1/loyalty/earn-preview?amount=45.50&currency=EUR&store={seeded.public_key}")
    assert answer.status_code == 200, answer.json
    assert answer.json == {"points": 45, "currency": "EUR", "pending_days": 14, "pending_text": None}
    # The same rule as the ledger: Alice's pending order of 45.50 EUR earned what the preview says.
    order = client.get(f"/api/v1/orders/{seeded.pending}/rewards", headers=bearer(token())).json
    assert order["points"] == answer.json["points"]
    guest = client.get(
        "/api/v1/loyalty/earn-preview?amount=10&currency=EUR", headers=bearer(token(documented(sub=None)))
    )
    assert guest.status_code == 200 and guest.json["points"] == 10
    for query in (
        "amount=abc&currency=EUR",
        "amount=10&currency=eur",
        "amount=-1&currency=EUR",
        "currency=EUR",
        "amount=1e5&currency=EUR",
    ):
        bad = client.get(f"/api/v1/loyalty/earn-preview?{query}&store={seeded.public_key}")
        assert bad.status_code == 400, query


def test_redeem_once_with_the_session_token(seeded, client):
    headers = bearer(token()) | {"Idempotency-Key": "ext-1"}
    first = client.post(
        "/api/v1/me/redemptions", json={"reward_id": "five-off", "idempotency_key": "ext-1"}, headers=headers
    )
    again = client.post(
        "/api/v1/me/redemptions", json={"reward_id": "five-off", "idempotency_key": "ext-1"}, headers=headers
    )
    assert first.status_code == again.status_code == 200, (first.json, again.json)
    assert first.json["id"] == again.json["id"]
    balance = client.get("/api/v1/me/balance", headers=bearer(token()) | {"Cache-Control": "no-cache"}).json
    assert balance["spendable"] == 20


def test_write_a_review_opens_the_order_page_with_no_stars_chosen(seeded, client):
    headers = bearer(token())
    [first, _] = client.get(f"/api/v1/orders/{seeded.delivered}/rewards", headers=headers).json["reviews"]
    page = client.get("/" + first["review_url"].split("://", 1)[1].split("/", 1)[1])
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Woo Single #1" in html and "Linen apron" in html
    assert html.count("&#9733;") == 10  # five stars for each product: the shopper picks, nothing is chosen


@pytest.mark.parametrize(
    ("texts", "field"),
    [
        ({"pl": "Punkty po {name}"}, "pending_text.pl"),  # only {days} is filled in
        ({"pl": "x" * 201}, "pending_text.pl"),
        ({"pl": "two\nlines"}, "pending_text.pl"),
        ({"pl": 5}, "pending_text.pl"),
        ({"Polish": "Punkty"}, "pending_text"),
        (["Punkty"], "pending_text"),
    ],
)
def test_pending_wording_is_validated_like_other_settings(seeded, texts, field):
    from app.extensions import db
    from app.loyalty.api import SettingsError, update_settings
    from app.stores.models import Store

    store = db.session.get(Store, seeded.store_id)
    with pytest.raises(SettingsError) as refused:
        update_settings(db.session, store, {"pending_text": texts})
    assert refused.value.field == field


def test_pending_wording_comes_from_the_stores_settings(seeded, client):
    from app.extensions import db
    from app.loyalty.api import update_settings
    from app.stores.models import Store

    store = db.session.get(Store, seeded.store_id)
    update_settings(db.session, store, {"pending_text": {"pl": "Punkty czekają {days} dni na ewentualny zwrot."}})
    db.session.commit()
    headers = bearer(token())
    preview = client.get("/api/v1/loyalty/earn-preview?amount=10&currency=EUR&locale=pl", headers=headers).json
    assert preview["pending_text"] == "Punkty czekają 14 dni na ewentualny zwrot."
    english = client.get("/api/v1/loyalty/earn-preview?amount=10&currency=EUR&locale=en", headers=headers).json
    assert english["pending_text"] is None  # no words of the store's for English: the block's translation
    order = client.get(f"/api/v1/orders/{seeded.pending}/rewards?locale=pl", headers=headers).json
    assert order["state"] == "pending" and order["pending_text"] == "Punkty czekają 14 dni na ewentualny zwrot."
    spendable = client.get(f"/api/v1/orders/{seeded.delivered}/rewards?locale=pl", headers=headers).json
    assert spendable["pending_text"] is None
    update_settings(db.session, store, {"pending_text": {"pl": None}})  # removed: back to the translation
    db.session.commit()
    assert (
        client.get(f"/api/v1/orders/{seeded.pending}/rewards?locale=pl", headers=headers).json["pending_text"] is None
    )
