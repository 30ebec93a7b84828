"""Calls to a shop are paced by the cost bucket Shopify reports (extensions.cost.throttleStatus), per shop and
across workers, so Shopify does not have to refuse them. A fake clock is shared by the stand-in (its bucket
refills by it) and the pacers (they sleep by advancing it): the waits are exact, not wall-time."""

from __future__ import annotations

import pytest

from app.platform.queue import get_redis
from app.stores.clients import client_for
from app.stores.shopify_pacing import MARGIN_SECONDS, RedisPacer, bucket_key
from connectors.exceptions import RateLimited
from connectors.shopify_writeback import ShopifyWriteback
from tests.helpers import SHOP, add_store, shopify_standin
from tests.standins.shopify_cost import Bucket

OTHER = "other-shop.myshopify.com"
# Ten product ids: the stand-in charges one point per id, as Shopify charges nodes(ids:) per node.
DOCUMENT = "query Products($ids: [ID!]!) { nodes(ids: $ids) { id } }"
IDS = {"ids": [f"gid://shopify/Product/{n}" for n in range(1, 11)]}
COST = 10
RATE = 100.0  # points per second: a call of COST waits 0.1 s for an empty bucket
WAIT = COST / RATE + MARGIN_SECONDS


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def standin(app, ctx, monkeypatch, clock):
    with shopify_standin(app, monkeypatch, now=clock, restore_rate=RATE) as server:
        server._access["shpat_other"] = (OTHER, float("inf"))
        # Earlier traffic left one call's worth in this shop's bucket.
        server.buckets[SHOP] = Bucket(maximum=2000.0, restore_rate=RATE, available=COST, at=clock())
        yield server


def client(standin, clock, *, shop: str = SHOP, token: str = "shpat_test", max_wait: float = 5.0):
    """One worker's client: its own pacer object, on the shared Redis."""
    pacer = RedisPacer(get_redis(), max_wait=max_wait, clock=clock, sleep=clock.sleep)
    return ShopifyWriteback(shop, token, origin=standin.origin(), pacer=pacer)


def test_consecutive_calls_wait_for_the_restore_instead_of_being_throttled(standin, clock):
    paced = client(standin, clock)
    for _ in range(3):
        paced.execute(DOCUMENT, IDS)
    assert [c["throttled"] for c in standin.costs] == [False, False, False]
    assert [c["requested"] for c in standin.costs] == [COST] * 3
    # The bucket was empty after each call: the next waited COST / restoreRate, and Shopify saw them that far apart.
    assert clock.sleeps == pytest.approx([WAIT] * 2)
    times = [c["at"] for c in standin.costs]
    assert [b - a for a, b in zip(times, times[1:], strict=False)] == pytest.approx([WAIT] * 2)


def test_without_pacing_the_stand_in_refuses_like_shopify(standin, clock):
    unpaced = ShopifyWriteback(SHOP, "shpat_test", origin=standin.origin())
    unpaced.execute(DOCUMENT, IDS)
    with pytest.raises(RateLimited) as refused:
        unpaced.execute(DOCUMENT, IDS)  # the bucket is empty: THROTTLED, nothing ran
    assert [c["throttled"] for c in standin.costs] == [False, True]
    assert refused.value.retry_after == 1.0  # ceil((10 requested - 0 available) / 100 per second), at least 1 s


def test_workers_share_a_shops_bucket_and_shops_do_not_share(standin, clock):
    first, second = client(standin, clock), client(standin, clock)
    first.execute(DOCUMENT, IDS)
    client(standin, clock, shop=OTHER, token="shpat_other").execute(DOCUMENT, IDS)  # another shop: no wait
    assert clock.sleeps == []
    second.execute(DOCUMENT, IDS)  # another worker, same shop: waits for what the first one spent
    assert clock.sleeps == pytest.approx([WAIT])
    assert not any(c["throttled"] for c in standin.costs)


def test_a_wait_longer_than_a_job_should_sit_through_is_a_retry_later(standin, clock):
    paced = client(standin, clock, max_wait=0.05)
    paced.execute(DOCUMENT, IDS)
    with pytest.raises(RateLimited) as later:
        paced.execute(DOCUMENT, IDS)
    assert later.value.retry_after == pytest.approx(COST / RATE)
    assert len(standin.costs) == 1 and clock.sleeps == []  # not sent, not waited


def test_store_clients_are_paced(standin, clock):
    store = add_store("shopify")
    # Redis says the shop's bucket (under its store's hash tag) is 1,000 points in debt at 100 points/s: a 10 s wait,
    # over the 5 s a job waits.
    get_redis().hset(
        bucket_key(SHOP, store.id), mapping={"available": -1000, "maximum": 2000, "rate": 100, "at": clock()}
    )
    with pytest.raises(RateLimited):
        client_for(store).execute(DOCUMENT, IDS)
    assert standin.costs == []
