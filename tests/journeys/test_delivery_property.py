"""Property: a generated store history (Shopify: orders, parcels and their carrier events; WooCommerce: orders and
their completion), delivered shuffled, with duplicates (the same delivery again, and the same event under a new
delivery id), processed in random batches, queues exactly the delivery updates the journey's rule gives, in order:

- a model of the rule, fed only with what each batch made known (the order, the parcel, the carrier statuses);
- and, independently of the model: one message per state per parcel at most, ranks strictly rising per parcel
  (never backwards), and every parcel's highest state always told once its order and parcel are known.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from app.extensions import db
from app.journeys.states import CARRIER, RANK, SHIPPED
from app.messaging.api import Message
from tests.helpers import add_store, process_all, reset_state, shopify_order
from tests.journeys.conftest import (
    carrier_event,
    delivery_messages,
    enable_updates,
    fulfillment,
    post_shopify,
    post_woo,
    woo_order,
)

PATHS = (
    ("in_transit", "out_for_delivery", "delivered"),
    ("label_printed", "in_transit", "delayed", "out_for_delivery", "attempted_delivery", "delivered"),
    ("in_transit", "out_for_delivery", "attempted_delivery", "failure"),
    ("confirmed", "in_transit", "ready_for_pickup", "delivered"),
)


@dataclass(frozen=True)
class Delivery:
    kind: str  # order | parcel | event
    order: int
    parcel: int = 0
    status: str = ""
    event: int = 0


@st.composite
def shopify_history(draw):
    deliveries: list[Delivery] = []
    event_ids = iter(range(9_000_000, 9_999_999))
    for o in range(draw(st.integers(1, 3))):
        order_id = 6000 + o
        deliveries.append(Delivery("order", order_id))
        for p in range(draw(st.integers(1, 2))):
            parcel_id = order_id * 10 + p
            deliveries.append(Delivery("parcel", order_id, parcel_id))
            path = draw(st.sampled_from(PATHS))
            for status in path[: draw(st.integers(0, len(path)))]:
                deliveries.append(Delivery("event", order_id, parcel_id, status, next(event_ids)))
    doubled = draw(st.lists(st.sampled_from(deliveries), max_size=4))  # the same fact again, a new delivery id
    shuffled = draw(st.permutations(deliveries + doubled))
    cuts = draw(st.lists(st.booleans(), min_size=len(shuffled), max_size=len(shuffled)))
    return shuffled, cuts


def _expected(shuffled: list[Delivery], cuts: list[bool]) -> list[tuple[str, str]]:
    """The rule, fed batch by batch with what the records then knew."""
    known: set[Delivery] = set()
    had: dict[int, set[str]] = {}
    told: list[tuple[str, str]] = []
    for index, delivery in enumerate(shuffled):
        known.add(delivery)
        if not (cuts[index] or index == len(shuffled) - 1):
            continue
        orders = {d.order for d in known if d.kind == "order"}
        for parcel in sorted({d for d in known if d.kind == "parcel" and d.order in orders}, key=lambda d: d.parcel):
            seen = {SHIPPED} | {CARRIER[d.status] for d in known if d.parcel == parcel.parcel and d.status in CARRIER}
            before = had.setdefault(parcel.parcel, set())
            new = seen - before
            if new:
                best = max(new, key=RANK.__getitem__)
                if RANK[best] > max((RANK[s] for s in before), default=0):
                    told.append((str(parcel.parcel), best))
                before |= new
    return told


def _per_parcel(told: list[tuple[str, str]]) -> dict[str, list[str]]:
    """Each parcel's updates in the order queued (parcels of one batch are not ordered among themselves)."""
    out: dict[str, list[str]] = {}
    for parcel, state in told:
        out.setdefault(parcel, []).append(state)
    return out


def _post(client, delivery: Delivery) -> None:
    if delivery.kind == "order":
        order = shopify_order(delivery.order, customer_id=delivery.order + 1, email=f"c{delivery.order}@example.com")
        post_shopify(client, "orders/create", order)
    elif delivery.kind == "parcel":
        post_shopify(client, "fulfillments/create", fulfillment(delivery.order, delivery.parcel))
    else:
        event = carrier_event(delivery.order, delivery.parcel, delivery.event, delivery.status)
        post_shopify(client, "fulfillment_events/create", event)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(history=shopify_history())
def test_shopify_parcels_tell_each_state_once_in_order(app, client, history):
    shuffled, cuts = history
    reset_state(app)
    with app.app_context():
        store = add_store("shopify")
        store.timezone = "Europe/Warsaw"  # quiet hours (channels' default 21:00-08:00) are the store's local time
        enable_updates(store)
        db.session.remove()
    for index, delivery in enumerate(shuffled):
        _post(client, delivery)
        if cuts[index]:
            process_all(app)
    process_all(app)
    told = delivery_messages(app)
    assert _per_parcel(told) == _per_parcel(_expected(shuffled, cuts))
    assert len(set(told)) == len(told)  # never twice
    for parcel in {p for p, _ in told}:
        ranks = [RANK[s] for p, s in told if p == parcel]
        assert ranks == sorted(set(ranks))  # never backwards
    for parcel in {d.parcel for d in shuffled if d.kind == "parcel"}:
        seen = {SHIPPED} | {CARRIER[d.status] for d in shuffled if d.parcel == parcel and d.status in CARRIER}
        assert (str(parcel), max(seen, key=RANK.__getitem__)) in told  # the latest news always reaches them
    assert_outside_quiet_hours(app, "Europe/Warsaw")


def assert_outside_quiet_hours(app, zone: str) -> None:
    """Every update is due outside 21:00-08:00 in the store's zone: one queued inside the window is held to its
    end, never dropped."""
    with app.app_context():
        due = db.session.scalars(select(Message.next_attempt_at).where(Message.dedupe_key.like("delivery:%"))).all()
        db.session.remove()
    for moment in due:
        local = moment.astimezone(ZoneInfo(zone)).time()
        assert time(8, 0) <= local < time(21, 0), moment


@st.composite
def woo_history(draw):
    posts = []
    for o in range(draw(st.integers(1, 4))):
        order_id = 800 + o
        posts.append((order_id, False, "2026-11-01T10:00:00"))
        if draw(st.booleans()):
            posts.append((order_id, True, "2026-11-02T10:00:00"))
            posts.extend([(order_id, True, "2026-11-02T10:00:00")] * draw(st.integers(0, 2)))  # redelivered
    return draw(st.permutations(posts)), draw(st.lists(st.booleans(), min_size=len(posts), max_size=len(posts)))


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(history=woo_history())
def test_woocommerce_completion_tells_shipped_once(app, client, history):
    posts, cuts = history
    reset_state(app)
    with app.app_context():
        enable_updates(add_store("woocommerce"))
        db.session.remove()
    for index, (order_id, completed, modified) in enumerate(posts):
        post_woo(client, "order.updated", woo_order(order_id, completed=completed, modified=modified))
        if cuts[index]:
            process_all(app)
    process_all(app)
    completed = sorted({f"{order_id}-completed" for order_id, done, _ in posts if done})
    told = delivery_messages(app)
    assert sorted(told) == [(parcel, SHIPPED) for parcel in completed]
