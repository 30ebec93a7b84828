"""The install and callback query HMAC, checked against Shopify's own library (ShopifyAPI, `shopify.Session`).

The vectors are the library's own tests (Shopify/shopify_python_api, test/session_test.py:
test_hmac_calculation, test_hmac_calculation_with_ampersand_and_equal_sign_characters,
test_param_validation_of_param_values_with_lists, test_parameter_validation_handles_missing_params,
test_raise_error_if_hmac_does_not_match_expected); the library itself, installed as a dependency, is the oracle
for generated queries.
"""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import urlencode

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.stores.shopify_auth import InstallRefused, query_hmac, verify_query
from tests.stores.shopify import conftest as shared
from tests.stores.shopify.conftest import SHOP, library_hmac

clock, http, shop_app, standin = shared.clock, shared.http, shared.shop_app, shared.standin


def _lists(params: dict[str, str | list[str]]) -> dict[str, list[str]]:
    """As the install views hand a query over: every key with its list of values (request.args.lists())."""
    return {k: list(v) if isinstance(v, list) else [v] for k, v in params.items()}


def test_library_vector_documented_example():
    params = {
        "shop": "some-shop.myshopify.com",
        "code": "a94a110d86d2452eb3e2af4cfb8a3828",
        "timestamp": "1337178173",
        "hmac": "2cb1a277650a659f1b11e92a4a64275b128e037f2c3390e3c8fd2d8721dac9e2",
    }
    assert query_hmac(_lists(params), "hush") == params["hmac"]
    assert verify_query(_lists(params), "hush", now=1337178173) == "some-shop.myshopify.com"


def test_library_vector_ampersand_and_equal_sign_are_escaped():
    params = {"a": "1&b=2", "c=3&d": "4"}
    to_sign = "a=1%26b=2&c%3D3%26d=4"
    assert query_hmac(_lists(params), "secret") == hmac.new(b"secret", to_sign.encode(), hashlib.sha256).hexdigest()


def test_library_vector_list_values_sign_as_the_key_without_brackets():
    params = {"shop": "some-shop.myshopify.com", "ids[]": ["2", "1"]}
    assert query_hmac(_lists(params), "hush") == "b93b9f82996f6f8bf9f1b7bbddec284c8fabacdc4e12dc80550b4705f3003b1e"


def test_library_vector_missing_timestamp_is_refused():
    params = {
        "shop": "some-shop.myshopify.com",
        "code": "a94a110d86d2452eb3e2af4cfb8a3828",
        "hmac": "2cb1a277650a659f1b11e92a4a64275b128e037f2c3390e3c8fd2d8721dac9e2",
    }
    with pytest.raises(InstallRefused):
        verify_query(_lists(params), "hush", now=1337178173)


def test_library_vector_parameters_added_after_signing_are_refused():
    params = {"shop": SHOP, "foo": "hello", "timestamp": "1337178173"}
    params["hmac"] = library_hmac(params, "secret")
    params |= {"bar": "world", "code": "code"}
    with pytest.raises(InstallRefused) as refused:
        verify_query(_lists(params), "secret", now=1337178173)
    assert refused.value.reason == "hmac"


def test_repeated_plain_key_is_refused():
    # Neither Shopify nor its libraries sign a plain key twice; which value would we act on?
    params = {"shop": [SHOP, SHOP], "timestamp": "1337178173"}
    with pytest.raises(InstallRefused):
        verify_query(_lists(params), "secret", now=1337178173)


_text = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=12)


@settings(max_examples=300, deadline=None, database=None)
@given(
    plain=st.dictionaries(_text.filter(lambda k: not k.endswith("[]") and k != "hmac"), _text, max_size=4),
    lists=st.dictionaries(_text.map(lambda k: k + "[]"), st.lists(_text, min_size=1, max_size=3), max_size=2),
)
def test_agrees_with_shopifys_library_on_generated_queries(plain, lists):
    params: dict[str, str | list[str]] = {**plain, **lists}
    assert query_hmac(_lists(params), "hush") == library_hmac(params, "hush")


def test_genuine_link_with_ids_array_installs(http, standin, clock):
    """A link Shopify signs for a bulk action (ids[]=...): signed by the library, it is accepted, not 401."""
    params = {"shop": SHOP, "timestamp": str(int(clock())), "ids[]": ["2", "1"], "note": "50% off & more=yes"}
    query = [(k, v) for k, values in params.items() for v in (values if isinstance(values, list) else [values])]
    query.append(("hmac", library_hmac(params, shared.SHOPIFY_SECRET)))
    answer = http.get("/shopify/install?" + urlencode(query))
    assert answer.status_code == 302, answer.get_json()
    assert answer.headers["Location"].startswith(f"https://{SHOP}/admin/oauth/authorize?")
