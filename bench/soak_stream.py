"""The soak's stores, their webhook stream and the end state it must produce.

Each store (Shopify for even numbers, WooCommerce for odd) gets a history from app/demo/scenario.py: people who
sign up, orders paid at checkout or later, fulfilled, delivered, refunded in part or in full, cancelled, trashed,
with 5% of deliveries repeated later in the stream as retries are. Its `expected` (orders, spend and points per
customer) is computed from the plan, never from the payloads. The stores' streams are interleaved, and a share of
each store's deliveries is moved later by a few places: out of order, as parallel deliveries arrive.

The issue asks for M customers per store; at the default scale (1,000 x 1,000) creating them through webhooks
would take the whole 10-minute budget of the stream, so a store's scenario has as many people as its orders need
and the rest of its M customers are written straight into the customers table before the stream starts (existing
customers who buy nothing during the soak: their records must stay as they were).
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from typing import Any

from app.demo.scenario import Scenario, build_scenario, sign
from connectors import get_connector

CURRENCY = {"shopify": "USD", "woocommerce": "EUR"}
SHOPIFY_SECRET = "bench-shopify-secret"  # bench/backends.py SECRET: the app's SHOPIFY_API_SECRET
WOO_SECRET = "soak-woo-secret"  # each WooCommerce store's webhook secret
OUT_OF_ORDER = 0.03  # share of a store's deliveries moved later by 1-20 places


@dataclass(frozen=True)
class StoreSpec:
    index: int
    platform: str
    domain: str
    scenario: Scenario


@dataclass(frozen=True)
class Sent:
    """One webhook to POST: the store it belongs to, the inbox key it will have, and the signed request."""

    store: int
    platform: str
    dedupe_key: str
    headers: dict[str, str]
    body: bytes


def domain(index: int, platform: str) -> str:
    return f"soak{index}.myshopify.com" if platform == "shopify" else f"https://soak{index}.woo.example"


def store_spec(index: int, orders: int, seed: int) -> StoreSpec:
    platform = "shopify" if index % 2 == 0 else "woocommerce"
    name = domain(index, platform)
    scenario = build_scenario(
        seed=seed * 100_003 + index,
        customers=max(4, orders // 3),
        orders=max(1, orders),
        platforms=(platform,),
        shopify_shop=name,
        woo_site=name,
    )
    return StoreSpec(index, platform, name, scenario)


def plan_stores(stores: int, target_deliveries: int, seed: int) -> list[StoreSpec]:
    """Stores whose histories add up to about `target_deliveries` webhooks (calibrated on the first Shopify and
    the first WooCommerce store: a WooCommerce order sends fewer webhooks than a Shopify one)."""
    per_store = max(1, target_deliveries // max(1, stores))
    guess = max(4, per_store // 5)
    probes = [store_spec(n, guess, seed) for n in range(min(2, stores))]
    per_order = max(1.0, sum(len(p.scenario.deliveries) for p in probes) / (guess * len(probes)))
    orders = max(1, round(per_store / per_order))
    return [store_spec(n, orders, seed) for n in range(stores)]


def signed(spec: StoreSpec) -> list[Sent]:
    connector = get_connector(spec.platform)
    secret = (SHOPIFY_SECRET if spec.platform == "shopify" else WOO_SECRET).encode()
    out = []
    for delivery in spec.scenario.deliveries:
        meta = connector.webhook_meta(delivery.headers)
        key = connector.dedupe_key(meta, json.loads(delivery.body), delivery.body)
        out.append(Sent(spec.index, spec.platform, key, sign(delivery, secret), delivery.body))
    return out


def shuffle_locally(rng: random.Random, items: list[Any]) -> list[Any]:
    """Move a share of items later by 1-20 places."""
    items = list(items)
    for position in range(len(items) - 1, -1, -1):
        if rng.random() < OUT_OF_ORDER:
            target = min(len(items) - 1, position + rng.randint(1, 20))
            items.insert(target, items.pop(position))
    return items


def interleave(rng: random.Random, streams: list[list[Sent]]) -> list[Sent]:
    """All stores' streams merged at random, each store's own order kept (after its local shuffle)."""
    streams = [shuffle_locally(rng, stream) for stream in streams]
    owners = [n for n, stream in enumerate(streams) for _ in stream]
    rng.shuffle(owners)
    cursors = [0] * len(streams)
    merged = []
    for owner in owners:
        merged.append(streams[owner][cursors[owner]])
        cursors[owner] += 1
    return merged


def burst_spec(index: int, deliveries: int, seed: int) -> StoreSpec:
    """The flash-sale store: one Shopify store whose history is `deliveries` webhooks, sent within the burst."""
    per_order = 6.0
    spec = store_spec(index if index % 2 == 0 else index + 1, max(1, round(deliveries / per_order)), seed + 7)
    return spec
