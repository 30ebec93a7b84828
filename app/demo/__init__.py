"""A realistic store's webhook history, replayed against the running service.

scenario.py plans people, orders and each order's story (paid, shipped,
refunded, cancelled...) and computes from that plan the final state the
service must reach. payloads_shopify.py and payloads_woocommerce.py render a
story into the exact JSON each platform sends at each step, and replay.py signs
and POSTs it and then checks the database. This module holds what they share.

Everything is synthetic: names come from short lists, emails use the reserved
example.com/.net/.org domains, phone numbers the fictional 555-01xx range.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

CENT = Decimal("0.01")
MINUTE, HOUR, DAY = 60, 3600, 86400

FIRST_NAMES = (
    "Ava Liam Noah Emma Olivia Mia Lucas Leo Sofia Amelia Ethan Mateo Chloe Nora Elias Hugo Lena Ines Omar Yuki "
    "Priya Kofi Sara Jonas Marta Ivan Aisha Tomas Elena Ravi"
).split()
LAST_NAMES = (
    "Smith Garcia Muller Rossi Novak Kim Silva Dubois Jensen Okafor Tanaka Cohen Kowalski Larsen Moreau Fischer "
    "Bianchi Costa Nguyen Patel Schmidt Weber Horvat Santos Berg Lindqvist Murphy Ortiz Young Adler"
).split()
EMAIL_DOMAINS = ("example.com", "example.net", "example.org")
# (title, unit price): a small coffee and homeware shop, the same catalogue on both platforms.
CATALOGUE = (
    ("House Blend Coffee 1kg", "24.90"),
    ("Single Origin Ethiopia 250g", "12.50"),
    ("Decaf Colombia 500g", "15.00"),
    ("Ceramic Pour-Over Dripper", "29.00"),
    ("Paper Filters (100)", "6.49"),
    ("Glass Carafe 600ml", "34.95"),
    ("Burr Grinder", "129.00"),
    ("Gooseneck Kettle", "79.99"),
    ("Stoneware Mug", "18.00"),
    ("Espresso Cups (set of 2)", "22.00"),
    ("Cold Brew Bottle", "27.50"),
    ("Barista Apron", "39.00"),
    ("Digital Scale", "45.00"),
    ("Tasting Course Voucher", "60.00"),
    ("Travel Tumbler", "31.00"),
    ("Chai Spice Tea 200g", "9.95"),
)


def q(amount: Decimal | int | str) -> Decimal:
    """Money to the cent, rounding half up as both platforms' checkouts do."""
    return Decimal(amount).quantize(CENT, rounding=ROUND_HALF_UP)


def money(amount: Decimal | int) -> str:
    """Platform money: a decimal string with two places ("29.35"), never a JSON number."""
    return str(q(amount))


def later(rng: random.Random, when: datetime, low: float, high: float) -> datetime:
    """`when` plus a random whole number of seconds in [low, high].

    Whole seconds because both platforms stamp resources to the second, and at
    least one second because WooCommerce deliveries are told apart by their
    modification time (see WooCommerceConnector.dedupe_key).
    """
    return when + timedelta(seconds=max(1, round(rng.uniform(low, high))))


def dumps(payload: dict[str, Any]) -> bytes:
    """The exact bytes sent (and signed): compact JSON, as both platforms send it."""
    return json.dumps(payload, separators=(",", ":")).encode()


@dataclass(frozen=True)
class Emit:
    """One webhook a platform sends: when the event happened, its topic and its body.

    The body is serialised when emitted, so later steps can keep mutating the
    platform's state (a fulfilment's shipment status, the refunds list) freely.
    """

    when: datetime
    topic: str
    body: bytes


@dataclass
class Person:
    """Someone who shops at one store: an account holder, a guest, or a guest who signs up later."""

    platform: str
    index: int
    first_name: str
    last_name: str
    email: str  # as typed at checkout; guests sometimes use capitals
    account_id: int | None = None  # set for account holders and for guests who sign up
    signs_up_later: bool = False  # checks out as a guest first, then creates an account with the same email
    signup_at: datetime | None = None
    renamed_at: datetime | None = None  # when a customer update changed the last name
    new_last_name: str | None = None

    @property
    def key(self) -> str:
        return self.email.strip().lower()

    def name_at(self, when: datetime) -> tuple[str, str]:
        if self.renamed_at is not None and self.new_last_name and when >= self.renamed_at:
            return self.first_name, self.new_last_name
        return self.first_name, self.last_name

    def changed_at(self, when: datetime) -> datetime | None:
        """The account's own updated_at as seen at `when`: its sign-up or its latest rename."""
        if self.renamed_at is not None and self.renamed_at <= when:
            return self.renamed_at
        return self.signup_at


@dataclass(frozen=True)
class Item:
    """One order line; each platform derives its own product ids from the catalogue index."""

    index: int
    title: str
    price: Decimal
    quantity: int

    @property
    def line_total(self) -> Decimal:
        return q(self.price * self.quantity)


@dataclass(frozen=True)
class Step:
    """One thing that happens to an order. Platforms render the same story differently."""

    kind: str  # placed | paid | cancelled | fulfilled | in_transit | delivered | refund | deleted
    when: datetime
    amount: Decimal = Decimal("0")  # money refunded by this step (a refund, or a cancel after payment)


@dataclass
class OrderPlan:
    """One order: what was bought, how it was paid, and its story (the model `expected` is computed from)."""

    platform: str
    number: int
    order_id: int
    person: Person
    placed_at: datetime
    guest: bool  # placed without an account: no customer object / customer_id 0
    items: list[Item]
    discount_code: str | None
    payment: str  # "card" (paid at checkout) or "manual" (bank transfer, paid later or never)
    # Set by the platform's pricing rules (payloads_*.price), which its payloads render too.
    discount: Decimal = Decimal("0")
    shipping: Decimal = Decimal("0")
    tax: Decimal = Decimal("0")
    total: Decimal = Decimal("0")
    story: list[Step] = field(default_factory=list)

    @property
    def items_total(self) -> Decimal:
        return sum((i.line_total for i in self.items), Decimal("0"))

    def refunded_by(self, when: datetime) -> Decimal:
        return sum((s.amount for s in self.story if s.when <= when), Decimal("0"))

    @property
    def refunded(self) -> Decimal:
        return sum((s.amount for s in self.story), Decimal("0"))

    @property
    def cancelled(self) -> bool:
        return any(s.kind == "cancelled" for s in self.story)

    @property
    def deleted(self) -> bool:
        return any(s.kind == "deleted" for s in self.story)
