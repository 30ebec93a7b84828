"""Per-store settings kept as JSON in Store.settings: how a patch merges, validation done once per value, and
the e-mail address rule every setting that names an address uses.

Each feature keeps its part under its own key (Store.settings["loyalty"], ["referrals"], ["reviews"]) and
validates it into a frozen dataclass; these are the helpers they share.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from typing import Any, TypeVar

import orjson

T = TypeVar("T")


def memoized(validate: Callable[[dict[str, Any]], T]) -> Callable[[dict[str, Any]], T]:
    """validate(raw), computed once per distinct stored JSON. The worker asks for a store's settings once per
    order and delivery (2% of its CPU went to validating the same dict again). Keyed by the canonical JSON, so an
    edited setting is a new key; the value is validated from a private copy, so its `raw` is nobody's dict. The
    settings are frozen dataclasses; an invalid dict raises every time (lru_cache keeps no exceptions)."""

    @lru_cache(maxsize=1024)
    def by_json(key: bytes) -> T:
        return validate(orjson.loads(key))

    def cached(raw: dict[str, Any]) -> T:
        try:
            key = orjson.dumps(raw, option=orjson.OPT_SORT_KEYS)
        except TypeError:  # not JSON (a float key, a Decimal): validate says what is wrong with it
            return validate(raw)
        return by_json(key)

    return cached


def merge(base: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """Objects merge key by key (so {"actions": {"review": 10}} keeps signup); lists and scalars replace."""
    merged = dict(base)
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge(merged[key], value)
        else:
            merged[key] = value
    return merged


#: records.normalise_email keys addresses up to 191 characters; the outbox refuses longer ones.
MAX_ADDRESS = 191
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
ADDRESS = re.compile(rf"^(?P<local>{_ATOM}(?:\.{_ATOM})*)@(?P<domain>(?:{_LABEL}\.)+[A-Za-z]{{2,63}})$")


def clean_address(value: object) -> str | None:
    """An address we can send to or from, lower-cased, or None: a plain ASCII addr-spec with a dotted domain (no
    display name, no quoted local part, no address literal) within RFC 5321's limits
    https://www.rfc-editor.org/rfc/rfc5321#section-4.1.2. Support's notification list, the store's sender and
    reply-to use it, their writers and readers alike."""
    if not isinstance(value, str):
        return None
    address = value.strip().lower()
    match = ADDRESS.match(address)
    if match is None or len(address) > MAX_ADDRESS or len(match["local"]) > 64:
        return None
    return address
