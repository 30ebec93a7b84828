"""The history import's cheaper decoding and dates give what the standard ones gave: connectors/decoding.py's
orjson only where its object is json's (and requests'), over the fixtures and the documents where the two
decoders part ways; parsing.timestamp's UTC for WooCommerce's offset-less dates."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests

from connectors.decoding import loads
from connectors.exceptions import StoreUnavailable
from connectors.parsing import timestamp
from connectors.woocommerce_admin import _json
from tests.inbox.history import gql_order, woo_order
from tests.standins.shopify_bulk import _connection, _held, jsonl

FIXTURES = sorted((Path(__file__).parent.parent / "fixtures").glob("*/*.json"))

#: Where orjson alone would differ from json: big integers (floats in orjson), NaN and infinities, a lone
#: surrogate, a byte-order mark, UTF-16, invalid UTF-8; and what both take alike (repeated keys, floats, NUL).
EDGES = [
    b'{"id": 18446744073709551616}',
    b'{"id": -9223372036854775809, "n": 1}',
    b"[99999999999999999999.5]",
    b'{"a": NaN, "b": Infinity, "c": -Infinity}',
    b"[1e400]",
    b'["\\ud800"]',
    b"\xef\xbb\xbf{}",
    '{"a": "\u00e9"}'.encode("utf-16-le"),
    b'{"a": "\xff"}',
    b'{"a": 1, "a": 2}',
    b"[0.1, 5e-324, 1.7976931348623157e308, 2.2250738585072011e-308, -0.0, 1E5]",
    b'{"a": "\\u0000", "b": "\xc3\xa9"}',
    b"",
    b"[1,]",
    b'{"x": 1} trailing',
]


def _outcome(decode, data):
    try:
        return "ok", decode(data)
    except (ValueError, StoreUnavailable) as exc:  # _json's answer to what is not JSON: StoreUnavailable
        return "error", type(exc)


def _same(left, right) -> bool:
    """Equal, and of the same types throughout (1 == 1.0 in Python; a float id must not pass as equal)."""
    if type(left) is not type(right):
        return False
    if isinstance(left, dict):
        return list(left) == list(right) and all(_same(left[k], right[k]) for k in left)
    if isinstance(left, list):
        return len(left) == len(right) and all(_same(a, b) for a, b in zip(left, right, strict=True))
    if isinstance(left, float):
        if math.isnan(left):
            return math.isnan(right)
        return left == right and math.copysign(1, left) == math.copysign(1, right)
    return left == right


@pytest.mark.parametrize("data", [path.read_bytes() for path in FIXTURES] + EDGES)
def test_loads_is_json_loads(data):
    (kind, ours), (expected_kind, expected) = _outcome(loads, data), _outcome(json.loads, data)
    assert kind == expected_kind
    assert _same(ours, expected) if kind == "ok" else ours is expected


def test_the_history_documents_decode_as_json_decodes_them():
    lines = jsonl({"orders": _connection([_held(gql_order(n, 3)) for n in range(8)])}).splitlines()
    page = json.dumps([woo_order(n, 3) for n in range(8)]).encode()
    for data in [*lines, page]:
        assert _same(loads(data), json.loads(data))


def test_big_integers_stay_integers():
    assert loads(b'{"id": 18446744073709551616}') == {"id": 18446744073709551616}
    assert type(loads(b"[-9223372036854775809]")[0]) is int


def _response(body: bytes, content_type: str) -> requests.Response:
    response = requests.Response()
    response.status_code, response._content = 200, body
    response.headers["Content-Type"] = content_type
    response.encoding = requests.utils.get_encoding_from_headers(response.headers)
    return response


@pytest.mark.parametrize(
    "content_type", ["application/json", "application/json; charset=UTF-8", "application/json; charset=ISO-8859-1"]
)
@pytest.mark.parametrize("data", [*EDGES, b'[{"name": "Caf\xc3\xa9 \xe2\x82\xac"}]', b'[{"name": "Caf\xe9"}]'])
def test_a_rest_answer_decodes_as_requests_decodes_it(data, content_type):
    expected = _outcome(lambda body: _response(body, content_type).json(), data)
    ours = _outcome(lambda body: _json(_response(body, content_type), "x"), data)
    if expected[0] == "error":
        assert ours[0] == "error"
    else:
        assert ours[0] == "ok" and _same(ours[1], expected[1])


@pytest.mark.parametrize(
    "value",
    [
        "2025-03-01T12:00:00",  # WooCommerce's *_gmt
        "2025-03-01 12:00:00.123456",
        "2025-03-01T12:00:00,5",
        "2025-03-01T12",
        "2025-03-01",
        "20250301T120000",
        "2025-03-01T12:00:00+02:00",  # an offset is kept (and made UTC), assume_utc or not
        "2025-03-01T12:00:00Z",
    ],
)
def test_a_timestamp_without_offset_is_taken_as_utc(value):
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    expected = (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)
    found = timestamp(value, "t", assume_utc=True)
    assert found == expected and found.tzinfo is UTC and found.fold == expected.fold
    assert str(found) == str(expected)
