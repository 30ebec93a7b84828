"""Nothing from outside reaches a 500: random paths, headers, queries and bodies on every public route family
(the webhook doors, the storefront API and its app proxy, the referral landing, the review form, unsubscribe),
mixed with valid credentials so the examples get past the first check. Bounded: a fixed seed and 100 examples a
family, through the WSGI doors and the Flask views alike."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote, urlencode

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.extensions import db
from app.inbox.door import WebhookDoor
from app.security import secret_box
from app.storefront.auth import mint_customer_token
from app.storefront.door import StorefrontDoor
from app.stores.storefront_keys import ensure_keys
from connectors.base import base64_hmac_sha256
from tests.helpers import SHOP, SHOPIFY_SECRET, WOO_SECRET, WOO_SITE, add_store, fixture_bytes, without_door

NOW = 1_800_000_040.0
SITE = "fuzz.example.com"
FUZZ = settings(
    max_examples=100,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

#: Header values as a server hands them on: printable latin-1, no line breaks.
header_text = st.text(st.characters(min_codepoint=32, max_codepoint=255, exclude_characters="\x7f"), max_size=60)
segment = st.text(min_size=1, max_size=24).map(lambda text: quote(text, safe=""))
query = st.lists(st.tuples(st.text(max_size=10), st.text(max_size=20)), max_size=4).map(urlencode)
urlish = st.one_of(
    header_text,
    st.sampled_from(["http://x:99999", ":abc", "http://[::1", "javascript:alert(1)", "null", "https://[zz]", ""]),
)
body = st.one_of(
    st.binary(max_size=200),
    st.sampled_from([b"{}", b"[]", b'{"id": 1}', b"webhook_id=7", b'{"id": 1e999}', b'{"a": "\\u0000"}']),
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=20),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
        max_leaves=8,
    ).map(lambda value: __import__("json").dumps({"id": value, "rating": value, "product_id": value}).encode()),
)


def _maybe(values: list[str]) -> st.SearchStrategy[str | None]:
    return st.one_of(st.none(), st.sampled_from(values), header_text)


def _send(app, client, door_type: type, through_door: bool, **request: Any) -> int:
    if through_door:
        return client.open(**request).status_code
    with without_door(app, door_type):
        return client.open(**request).status_code


def _headers(**values: str | None) -> dict[str, str]:
    return {name.replace("_", "-"): value for name, value in values.items() if value is not None}


def test_webhook_doors_never_answer_5xx(app, client, ctx):
    add_store("shopify")
    add_store("woocommerce")
    order = fixture_bytes("shopify", "orders_create")

    @FUZZ
    @given(
        path=st.sampled_from(["/webhooks/shopify", "/webhooks/woocommerce"]),
        data=st.one_of(body, st.just(order)),
        topic=_maybe(["orders/create", "orders/updated", "order.updated", "customer.created", "app/uninstalled"]),
        shop=_maybe([SHOP, SHOP.upper(), "stranger.myshopify.com"]),
        source=st.one_of(st.none(), st.sampled_from([WOO_SITE, "http://woo.example.com"]), urlish),
        signed=st.sampled_from(["shopify", "woo", "garbage", "none"]),
        garbage=header_text,
        through_door=st.booleans(),
        realistic=st.booleans(),
    )
    def check(path, data, topic, shop, source, signed, garbage, through_door, realistic):
        if realistic:  # a signed delivery of a known store: on to the parse, the insert and the kick
            topic, shop, source = "orders/create" if path.endswith("shopify") else "order.updated", SHOP, WOO_SITE
            signed = "shopify" if path.endswith("shopify") else "woo"
        signature = {
            "shopify": base64_hmac_sha256(SHOPIFY_SECRET, data),
            "woo": base64_hmac_sha256(WOO_SECRET.encode(), data),
            "garbage": garbage,
            "none": None,
        }[signed]
        headers = _headers(
            X_Shopify_Topic=topic,
            X_Shopify_Shop_Domain=shop,
            X_Shopify_Hmac_Sha256=signature,
            X_Shopify_Event_Id=garbage or None,
            X_WC_Webhook_Topic=topic,
            X_WC_Webhook_Source=source,
            X_WC_Webhook_Signature=signature,
        )
        request = {"path": path, "method": "POST", "data": data, "headers": headers}
        status = _send(app, client, WebhookDoor, through_door, **request)
        assert status < 500, (status, request)

    check()


def _storefront_paths() -> st.SearchStrategy[str]:
    templates = [
        "/me/balance", "/rewards", "/me/redemptions", "/me/redemptions/{}", "/me/activity", "/me/referral",
        "/reviews", "/products/{}/reviews", "/products/{}/reviews/summary", "/openapi.json", "/program", "/me",
        "/{}", "/products/{}/{}",
    ]  # fmt: skip
    return st.builds(
        lambda prefix, template, a, b, q: prefix + template.format(a, b) + ("?" + q if q else ""),
        st.sampled_from(["/api/v1", "/proxy/api/v1"]),
        st.sampled_from(templates),
        st.one_of(segment, st.sampled_from(["1", "p1", "-1", "99999999999999999999999"])),
        segment,
        st.one_of(query, st.just("")),
    )


def test_storefront_never_answers_5xx(app, client, ctx, monkeypatch):
    monkeypatch.setitem(app.config, "STOREFRONT_CLOCK", lambda: NOW)
    store = add_store("woocommerce", f"https://{SITE}/")
    keys = ensure_keys(db.session, secret_box(), store)
    db.session.commit()
    token = mint_customer_token(SITE, "501", keys.secret, expires_at=int(NOW + 600))
    stale = mint_customer_token(SITE, "501", keys.secret, expires_at=int(NOW - 1))
    unsigned = mint_customer_token("host:99999", "501", "guess", expires_at=int(NOW + 600))

    @FUZZ
    @given(
        method=st.sampled_from(["GET", "POST", "OPTIONS", "HEAD", "DELETE"]),
        path=_storefront_paths(),
        authorization=st.one_of(
            st.none(),
            st.sampled_from([f"Bearer {token}", f"Bearer {stale}", f"Bearer {unsigned}", "Bearer", "Bearer a.b"]),
            header_text,
        ),
        store_key=_maybe([keys.public_key]),
        origin=st.one_of(st.none(), st.just(f"https://{SITE}"), urlish),
        extra=st.dictionaries(
            st.sampled_from(["Cache-Control", "Idempotency-Key", "Access-Control-Request-Method", "Content-Type"]),
            header_text,
            max_size=2,
        ),
        data=body,
        through_door=st.booleans(),
        realistic=st.booleans(),
    )
    def check(method, path, authorization, store_key, origin, extra, data, through_door, realistic):
        if realistic:  # a logged-in widget of the store: past identity and origin, on to the view
            authorization, store_key, origin = f"Bearer {token}", None, f"https://{SITE}"
        headers = {**extra, **_headers(Authorization=authorization, X_PPE_Store=store_key, Origin=origin)}
        request = {"path": path, "method": method, "headers": headers, "data": data if method == "POST" else b""}
        status = _send(app, client, StorefrontDoor, through_door, **request)
        assert status < 500, (status, request)

    check()


def test_pages_never_answer_5xx(app, client, ctx):
    routes: list[Callable[[str, str], str]] = [
        lambda a, _b: f"/ref/{a}",
        lambda a, _b: f"/r/{a}",
        lambda a, _b: f"/r/help/{a}",
        lambda a, _b: f"/email/unsubscribe/{a}",
        lambda a, b: f"/r/photos/{abs(hash(a)) % 10**12}/{b}",
    ]

    @FUZZ
    @given(
        route=st.sampled_from(routes),
        a=st.one_of(segment, st.sampled_from(["AB%00CDEFG", "ABCDEFGH", "x.y.z", "eyJ.eyJ.sig"])),
        b=segment,
        method=st.sampled_from(["GET", "POST"]),
        form=st.dictionaries(
            st.sampled_from(["email", "rating", "title", "body", "name", "confirm", "csrf_token", "photos"]),
            st.text(max_size=40),
            max_size=4,
        ),
        cookie=st.one_of(st.none(), header_text),
    )
    def check(route, a, b, method, form, cookie):
        headers = {"Cookie": f"ppe_ref={cookie}"} if cookie is not None else {}
        request = {"path": route(a, b), "method": method, "headers": headers}
        response = client.open(**request, data=form if method == "POST" else None)
        assert response.status_code < 500, (response.status_code, request, form)

    check()
