"""Platform JSON decoded by orjson where it gives exactly what the standard library's json gives, else by json.

Why: decoding was a third of the history import's Python time per order (a Shopify bulk file's lines, a WooCommerce
REST page: bench/history_parse.py, docs/history-import.md), and orjson (already a dependency) decodes 3x faster.
What the parsers then see must not change, so orjson is used only where its object is json's:
- integers past 64 bits: orjson makes them floats (json keeps them ints, and a float is never money or an id),
  so a document with a run of 19 digits or more anywhere (in a number or not) is left to json;
- NaN, Infinity, numbers past a double's range, lone surrogates (\\ud800), a byte-order mark, UTF-16/32 or
  invalid UTF-8: orjson refuses them, so json decodes (or refuses) them as before;
- everything else (floats are correctly rounded by both; a repeated key keeps its last value in both; key
  order is the document's) is the same object: tests/connectors/test_decoding.py compares the two.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import orjson

#: Every byte as "x" but ASCII digits as "0": a run of 19 zeros in the translation is 19 digits in a row.
_DIGITS = bytes(0x30 if 0x30 <= byte <= 0x39 else 0x78 for byte in range(256))
_LONG_RUN = b"0" * 19  # -9223372036854775809 (past int64) has 19 digits; 2**64 (past uint64) has 20


def loads(data: bytes, decode: Callable[[bytes], Any] = json.loads) -> Any:
    """`decode(data)` (json.loads unless the caller decodes otherwise, e.g. with a response's charset), by orjson
    when that is the same object; `decode`'s own error for what neither takes."""
    if _LONG_RUN not in data.translate(_DIGITS):
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError:
            pass
    return decode(data)
