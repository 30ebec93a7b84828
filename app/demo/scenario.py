"""A deterministic store history: the webhooks, and the customer records they must produce.

`build_scenario` plans, per platform, people (account holders, guests, guests
who sign up later with the same email), their orders, and each order's story
(paid at checkout or later, cancelled, shipped, delivered, partly or fully
refunded, sometimes trashed). The platform modules render the stories into
webhooks; they are sent in the order the platform would send them, with a
share repeated later in the stream as retries are. `expected` is computed from
the plan alone, never from the payloads, so it checks the service rather than
agreeing with it by construction. `customers` and `orders` are totals, split
evenly across the platforms.
"""

from __future__ import annotations

import itertools
import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_FLOOR, Decimal
from typing import Protocol

from app.demo import (
    CATALOGUE,
    DAY,
    EMAIL_DOMAINS,
    FIRST_NAMES,
    HOUR,
    LAST_NAMES,
    Emit,
    Item,
    OrderPlan,
    Person,
    Step,
    later,
    money,
    payloads_shopify,
    payloads_woocommerce,
    q,
)
from connectors import get_connector
from connectors.base import base64_hmac_sha256

START = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
SPAN_SECONDS = 180 * DAY
# Shares of people and outcomes, roughly a small D2C shop's.
ACCOUNT, SIGNS_UP_LATER, NEVER_BUYS = 0.55, 0.15, 0.08  # the rest are guests only
RENAMED, CAPITALISED_EMAIL, DISCOUNTED, CARD = 0.15, 0.25, 0.15, 0.85
UNPAID_CANCELLED, TRASHED, PAID_CANCELLED, UNSHIPPED, DELIVERED = 0.30, 0.40, 0.03, 0.04, 0.93
SIGNUP_POINTS = 50  # the default `actions.signup` reward (docs/loyalty.md)
REFUNDED_IN_FULL, PARTLY_REFUNDED, SECOND_REFUND, REST_REFUNDED = 0.03, 0.12, 0.20, 0.15


class Renderer(Protocol):
    """What payloads_shopify and payloads_woocommerce provide."""

    CURRENCY: str
    SUPPORTS_DELETE: bool

    ORDER_BASE: int  # order ids are ORDER_BASE + order number, account ids CUSTOMER_BASE + person index
    CUSTOMER_BASE: int

    def price(self, plan: OrderPlan) -> Decimal: ...
    def customer_emits(self, person: Person, store: str) -> list[Emit]: ...
    def order_emits(self, plan: OrderPlan, store: str) -> list[Emit]: ...
    def headers(self, rng: random.Random, topic: str, when: datetime, store: str) -> dict[str, str]: ...


RENDERERS: dict[str, Renderer] = {"shopify": payloads_shopify, "woocommerce": payloads_woocommerce}  # type: ignore[dict-item]


@dataclass(frozen=True)
class Delivery:
    platform: str  # "shopify" | "woocommerce"
    topic: str  # e.g. "orders/create", "order.updated"
    headers: dict[str, str]  # platform headers WITHOUT the signature
    body: bytes  # exact JSON bytes to sign and send


@dataclass(frozen=True)
class Scenario:
    deliveries: list[Delivery]  # chronological, duplicates included
    expected: dict[tuple[str, str], dict]  # (platform, email key) -> orders_count, total_spent, currency, guest


def build_scenario(
    seed: int = 1,
    customers: int = 300,
    orders: int = 3000,
    platforms: tuple[str, ...] = ("shopify", "woocommerce"),
    shopify_shop: str = "demo.myshopify.com",
    woo_site: str = "https://woo.example.com",
    duplicate_rate: float = 0.05,
) -> Scenario:
    stores = {"shopify": shopify_shop, "woocommerce": woo_site}
    emits: list[tuple[datetime, int, str, Emit]] = []
    sequence = itertools.count()  # breaks ties between simultaneous webhooks in the order they were planned
    expected: dict[tuple[str, str], dict] = {}
    for position, platform in enumerate(platforms):
        # One generator per platform, so a platform's history does not depend on which others are built.
        rng, renderer = random.Random(f"{seed}:{platform}"), RENDERERS[platform]
        people_count, order_count = _share(customers, platforms, position), _share(orders, platforms, position)
        people = _people(rng, platform, people_count, order_count, renderer)
        plans = _orders(rng, platform, people, order_count, renderer)
        for person in people:
            emits.extend(
                (e.when, next(sequence), platform, e) for e in renderer.customer_emits(person, stores[platform])
            )
        for plan in plans:
            emits.extend((e.when, next(sequence), platform, e) for e in renderer.order_emits(plan, stores[platform]))
        expected.update(_expected(platform, people, plans, renderer.CURRENCY))
    emits.sort(key=lambda row: (row[0], row[1]))
    rng = random.Random(f"{seed}:deliveries")
    deliveries = [
        Delivery(platform, e.topic, RENDERERS[platform].headers(rng, e.topic, when, stores[platform]), e.body)
        for when, _, platform, e in emits
    ]
    return Scenario(_with_duplicates(rng, deliveries, duplicate_rate), expected)


def sign(delivery: Delivery, secret: bytes) -> dict[str, str]:
    """The delivery's headers plus the platform's signature over its exact body."""
    header = get_connector(delivery.platform).signature_header
    return {**delivery.headers, header: base64_hmac_sha256(secret, delivery.body)}


def _share(total: int, platforms: tuple[str, ...], position: int) -> int:
    return total // len(platforms) + (1 if position < total % len(platforms) else 0)


def _moment(rng: random.Random) -> datetime:
    return START + timedelta(seconds=rng.randrange(SPAN_SECONDS))


def _people(rng: random.Random, platform: str, count: int, orders: int, renderer: Renderer) -> list[Person]:
    """People with unique emails; account holders get an id now, their sign-up time with their orders."""
    people: list[Person] = []
    guests = 0
    for index in range(count):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        typed = f"{first}.{last}{index}@{rng.choice(EMAIL_DOMAINS)}"  # the index keeps emails unique
        typed = typed if rng.random() < CAPITALISED_EMAIL else typed.lower()
        roll = rng.random()
        # A guest exists only through an order, so there can be no more guests than orders.
        guest_first = roll >= ACCOUNT and guests < orders
        guests += guest_first
        if guest_first and roll >= ACCOUNT + SIGNS_UP_LATER:
            people.append(Person(platform, index, first, last, typed))
        else:
            # Accounts are created with the address lower-cased; a guest who signs up keeps what they typed.
            email = typed if guest_first else typed.lower()
            account = renderer.CUSTOMER_BASE + index
            people.append(Person(platform, index, first, last, email, account_id=account, signs_up_later=guest_first))
    return people


def _weight(rng: random.Random, person: Person) -> float:
    """How often someone buys: heavy-tailed, so a few regulars place most orders; some accounts never buy."""
    if person.account_id is not None and not person.signs_up_later and rng.random() < NEVER_BUYS:
        return 0.0
    # Capped, or one regular would place a fifth of a large store's orders.
    return min(rng.paretovariate(1.3), 12.0) * (0.3 if person.account_id is None else 1.0)  # guests rarely return


def _sign_up(rng: random.Random, person: Person, times: list[datetime]) -> int:
    """Set the person's sign-up (and rename) time; returns how many of their orders come before it, as a guest."""
    if person.account_id is None:
        return len(times)
    guest_orders = 0
    if person.signs_up_later:
        guest_orders = rng.randint(1, len(times))
        # Sign-up falls strictly between two orders, which need a few seconds between them.
        while guest_orders < len(times) and times[guest_orders] - times[guest_orders - 1] < timedelta(seconds=4):
            guest_orders += 1
        last_guest = times[guest_orders - 1]
        next_order = times[guest_orders] if guest_orders < len(times) else last_guest + timedelta(days=20)
        person.signup_at = later(rng, last_guest, 1, (next_order - last_guest).total_seconds() - 2)
    else:
        first = times[0] if times else _moment(rng) + timedelta(days=30)
        person.signup_at = first - timedelta(seconds=rng.randrange(HOUR, 30 * DAY))
    if rng.random() < RENAMED:
        person.renamed_at = later(rng, person.signup_at, DAY, 120 * DAY)
        person.new_last_name = rng.choice([name for name in LAST_NAMES if name != person.last_name])
    return guest_orders


def _orders(rng: random.Random, platform: str, people: list[Person], count: int, renderer: Renderer) -> list[OrderPlan]:
    """Orders per person, sign-up times around them, then each order's lines, price and story."""
    guest_first = [p for p in people if p.account_id is None or p.signs_up_later]
    counts = {p.index: 0 for p in people} | {p.index: 1 for p in guest_first}
    weights = [_weight(rng, p) for p in people]
    for person in rng.choices(people, weights, k=count - len(guest_first)) if any(weights) else ():
        counts[person.index] += 1
    placed: list[tuple[datetime, int, Person, bool]] = []
    for person in people:
        times = sorted(_moment(rng) for _ in range(counts[person.index]))
        guest_orders = _sign_up(rng, person, times)
        placed.extend((when, person.index, person, n < guest_orders) for n, when in enumerate(times))
    plans = []
    for number, (when, _, person, guest) in enumerate(sorted(placed, key=lambda row: row[:2]), start=1):
        chosen = sorted(rng.sample(range(len(CATALOGUE)), rng.choices((1, 2, 3, 4), (50, 30, 15, 5))[0]))
        items = [
            Item(i, CATALOGUE[i][0], Decimal(CATALOGUE[i][1]), rng.choices((1, 2, 3), (80, 15, 5))[0]) for i in chosen
        ]
        code = rng.choice(("WELCOME10", "SPRING10")) if rng.random() < DISCOUNTED else None
        payment = "card" if rng.random() < CARD else "manual"
        plan = OrderPlan(platform, number, renderer.ORDER_BASE + number, person, when, guest, items, code, payment)
        plan.total = renderer.price(plan)
        plan.story = _story(rng, plan, renderer.SUPPORTS_DELETE)
        plans.append(plan)
    return plans


def _story(rng: random.Random, plan: OrderPlan, can_delete: bool) -> list[Step]:
    """What happens to one order, step by step, each at least a second after the last."""
    when = plan.placed_at
    steps = [Step("placed", when)]
    when = later(rng, when, 5, 90) if plan.payment == "card" else later(rng, when, 2 * HOUR, 4 * DAY)
    if plan.payment != "card" and rng.random() < UNPAID_CANCELLED:
        steps.append(Step("cancelled", when))  # the transfer never came
        if can_delete and rng.random() < TRASHED:
            steps.append(Step("deleted", later(rng, when, DAY, 30 * DAY)))
        return steps
    steps.append(Step("paid", when))
    if rng.random() < PAID_CANCELLED:
        return [*steps, Step("cancelled", later(rng, when, HOUR, DAY), plan.total)]  # refunded as it is cancelled
    if rng.random() < UNSHIPPED:
        return steps  # back-ordered when the history ends
    when = later(rng, when, 6 * HOUR, 3 * DAY)
    steps.append(Step("fulfilled", when))
    when = later(rng, when, 2 * HOUR, 18 * HOUR)
    steps.append(Step("in_transit", when))
    if rng.random() < DELIVERED:
        when = later(rng, when, DAY, 5 * DAY)
        steps.append(Step("delivered", when))
    if rng.random() < REFUNDED_IN_FULL:
        return [*steps, Step("refund", later(rng, when, DAY, 20 * DAY), plan.total)]
    if rng.random() < PARTLY_REFUNDED:
        when = later(rng, when, DAY, 20 * DAY)
        steps.append(Step("refund", when, min(max(i.price for i in plan.items), q(plan.total / 2))))
        if rng.random() < SECOND_REFUND:
            when = later(rng, when, HOUR, 5 * DAY)
            steps.append(Step("refund", when, q((plan.total - _refunded(steps)) / 4)))
        if rng.random() < REST_REFUNDED:
            steps.append(Step("refund", later(rng, when, HOUR, 10 * DAY), plan.total - _refunded(steps)))
    return steps


def _refunded(steps: list[Step]) -> Decimal:
    return sum((step.amount for step in steps), Decimal("0"))


def _expected(
    platform: str, people: list[Person], plans: list[OrderPlan], currency: str
) -> dict[tuple[str, str], dict]:
    """The service's semantics applied to the plan: count orders not deleted (cancelled included);
    spend the totals of orders neither cancelled nor deleted, net of their refunds; points under the default
    loyalty settings (docs/loyalty.md)."""
    mine: dict[int, list[OrderPlan]] = defaultdict(list)
    for plan in plans:
        mine[plan.person.index].append(plan)
    expected = {}
    for person in people:
        live = [plan for plan in mine[person.index] if not plan.deleted]
        spent = sum((plan.total - plan.refunded for plan in live if not plan.cancelled), Decimal("0"))
        expected[(platform, person.key)] = {
            "orders_count": len(live),
            "total_spent": money(spent),
            "currency": currency,
            "guest": person.account_id is None,
            "points": (SIGNUP_POINTS if person.account_id is not None else 0) + sum(map(_points, live)),
        }
    return expected


def _points(plan: OrderPlan) -> int:
    """What an order leaves in the ledger under the default settings (docs/loyalty.md): a paid order that stands
    earns floor(subtotal after discounts x 1); refunds take back floor(earned x refunded / total); a cancellation
    takes back all of it."""
    if plan.cancelled or plan.deleted or not any(step.kind == "paid" for step in plan.story):
        return 0
    earned = int((plan.items_total - plan.discount).to_integral_value(rounding=ROUND_FLOOR))
    if plan.refunded <= 0 or earned <= 0 or plan.total <= 0:
        return max(0, earned) if plan.refunded <= 0 or earned <= 0 else 0
    return earned - min(earned, int((earned * plan.refunded / plan.total).to_integral_value(rounding=ROUND_FLOOR)))


def _with_duplicates(rng: random.Random, deliveries: list[Delivery], rate: float) -> list[Delivery]:
    """Repeat a share of deliveries, byte for byte, somewhere later (mostly soon after, as retries come)."""
    size = len(deliveries)
    later_copies: dict[int, list[Delivery]] = defaultdict(list)
    for original in sorted(rng.sample(range(size), min(size, round(size * rate)))):
        later_copies[min(size, original + 1 + int(rng.expovariate(1 / 150)))].append(deliveries[original])
    stream: list[Delivery] = []
    for position in range(size + 1):
        stream.extend(later_copies.get(position, ()))
        stream.extend(deliveries[position : position + 1])
    return stream
