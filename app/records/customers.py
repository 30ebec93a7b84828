"""Find, create, update and merge the per-store customer record.

Identity rules (one record per person per store):
- an account is found by its platform id; a guest by normalised email;
- a guest order whose email belongs to an account attaches to that account;
- when an account appears with a guest's email, the guest record becomes that
  account (or is merged into it when both already exist).
Each rule gives the same result whichever delivery comes first.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from app.platform.sql import get_in_store, set_together, values_of
from app.records import batch_rows, order_days
from app.records.bulk import writes_customers
from app.records.models import Customer, Order
from app.records.models.customer import normalise_email, tags_text
from app.records.phones import to_e164
from app.stores.models import Store
from connectors.events import CustomerSnapshot

log = logging.getLogger(__name__)

_DETAIL_FIELDS = (
    "first_name", "last_name", "phone", "locale", "accepts_marketing",
    # per-channel consent (connectors/consent.py): the same newer-wins rule as the other details
    "sms_marketing_consent", "sms_consent", "whatsapp_consent", "whatsapp_marketing_consent", "preferred_channel",
    # the segments' country and tags (docs/segments.md); tags are stored as records.models.customer.tags_text
    "country", "tags",
)  # fmt: skip


def store_customer(session: Session, store: Store, customer_id: int) -> Customer | None:
    """Our customer `customer_id` if it belongs to `store`, else None: callers never see another store's rows."""
    return get_in_store(session, Customer, customer_id, store.id)


def find_by_platform_id(session: Session, store_id: int, platform_id: str) -> Customer | None:
    """The store's customer with this platform id: from the batch's map, else queried and row-locked."""
    if (known := batch_rows.lookup(session, store_id, "customer_pid", platform_id)) is not batch_rows.MISS:
        return known
    stmt = select(Customer).where(Customer.store_id == store_id, Customer.platform_id == platform_id)
    return session.scalar(stmt.with_for_update())


def _by_email(session: Session, store_id: int, key: str) -> Customer | None:
    if (known := batch_rows.lookup(session, store_id, "customer_email", key)) is not batch_rows.MISS:
        return known
    stmt = select(Customer).where(Customer.store_id == store_id, Customer.email_key == key)
    return session.scalar(stmt.with_for_update())


def resolve_customer(session: Session, store: Store, snap: CustomerSnapshot) -> Customer | None:
    """The record for this snapshot, created or merged as needed; None if it names nobody."""
    key = normalise_email(snap.email)
    if snap.platform_id is None and key is None:
        return None
    by_id = find_by_platform_id(session, store.id, snap.platform_id) if snap.platform_id else None
    by_mail = _by_email(session, store.id, key) if key else None

    if by_id is not None and by_mail is not None and by_id.id != by_mail.id:
        if by_mail.is_guest:
            merge_into(session, store, guest=by_mail, account=by_id)
            by_mail = None
        else:
            # Two accounts claim one email (an email changed hands); keep both
            # and leave the key with its current holder.
            log.warning(
                "customer.email_conflict",
                extra={
                    "store_id": store.id,
                    "customer_ids": [by_mail.id, by_id.id],
                    "reason": "two accounts claim one e-mail; the key stays with its current holder",
                },
            )
            key = None

    customer = by_id or by_mail
    if customer is not None and customer.platform_id and snap.platform_id and customer.platform_id != snap.platform_id:
        # The email is another account's: this snapshot is a different person.
        customer, key = None, None
    if customer is None:
        customer = Customer(
            id=batch_rows.new_customer_id(session, store.id),
            store_id=store.id,
            platform_id=snap.platform_id,
            email_key=key,
            email=snap.email,
        )
        session.add(customer)
        if customer.id is None:
            session.flush()  # the id, now: orders and the batch's deferred work name the customer by it
    elif customer.platform_id is None and snap.platform_id:
        customer.platform_id = snap.platform_id  # the guest signed up
    _apply_details(customer, snap, key)
    # This batch's later lookups find the record under the keys it holds now (records/batch_rows.py).
    batch_rows.remember(session, store.id, "customer_pid", customer.platform_id, customer)
    batch_rows.remember(session, store.id, "customer_email", customer.email_key, customer)
    return customer


def _apply_details(customer: Customer, snap: CustomerSnapshot, key: str | None) -> None:
    """Overwrite with newer details, or only fill blanks; the same result in any delivery order.

    An account's own profile outranks details copied from guest orders; among
    snapshots of one kind, the newer platform timestamp wins, and an undated
    snapshot only fills blanks.
    """
    from_account = snap.platform_id is not None
    held = customer.platform_updated_at
    if from_account and not customer.details_from_account:
        newer = True
    elif from_account == customer.details_from_account:
        newer = snap.updated_at is not None and (held is None or snap.updated_at >= held)
    else:
        newer = False  # a guest order's billing details never override an account's profile
    for name in _DETAIL_FIELDS:
        value = tags_text(snap.tags) if name == "tags" else getattr(snap, name)
        if value is not None and (newer or getattr(customer, name) is None):
            setattr(customer, name, value)
    e164 = to_e164(snap.phone, snap.phone_country)  # None for a number we cannot be sure of (phones.py)
    if e164 is not None and (newer or customer.phone_e164 is None):
        customer.phone_e164 = e164
    if key and (newer or customer.email_key is None) and customer.email_key != key:
        customer.email_key, customer.email = key, snap.email
    elif key and newer and key == customer.email_key:
        customer.email = snap.email  # the same address, spelled as the winning snapshot spells it
    elif customer.email is None and snap.email:
        customer.email = snap.email
    if newer:
        switched = from_account != customer.details_from_account
        customer.details_from_account = from_account
        # A guest order's timestamp says nothing about the account's profile: forget it on the switch.
        customer.platform_updated_at = snap.updated_at if snap.updated_at is not None or switched else held


@dataclass(frozen=True)
class MergeHook:
    """What a feature does when a guest is merged into an account (a guest who later signs up)."""

    #: (session, store, guest id, account id): move the feature's rows of the guest to the account, before the
    #: guest row is deleted (foreign keys to it cascade).
    move: Callable[[Session, Store, int, int], None]
    #: (session, store, account): once the account's totals are current, what derives from them.
    merged: Callable[[Session, Store, Customer], None] | None = None


_MERGE_HOOKS: dict[str, MergeHook] = {}


def register_merge_hook(name: str, hook: MergeHook) -> None:
    """Run `hook` on every guest merge (again under the same name: replaced, create_app runs more than once)."""
    _MERGE_HOOKS[name] = hook


def merge_into(session: Session, store: Store, *, guest: Customer, account: Customer) -> None:
    """Move a guest's orders (and, through the merge hooks, the features' rows: loyalty's points) to the account,
    keep details the account lacks, drop the guest."""
    session.execute(
        update(Order)
        .where(Order.store_id == store.id, Order.customer_id == guest.id)
        .values(customer_id=account.id)
        .execution_options(synchronize_session="fetch", **writes_customers(store.id, [guest.id, account.id]))
    )
    for name in (*_DETAIL_FIELDS, "email", "phone_e164"):
        if getattr(account, name) is None and getattr(guest, name) is not None:
            setattr(account, name, getattr(guest, name))
    guest_key = guest.email_key
    for hook in _MERGE_HOOKS.values():  # before the guest row goes: its foreign keys cascade
        hook.move(session, store, guest.id, account.id)
    session.execute(
        delete(Customer)
        .where(Customer.store_id == store.id, Customer.id == guest.id)
        .execution_options(**writes_customers(store.id, [guest.id]))
    )
    session.expunge(guest)
    session.flush()
    if account.email_key is None:
        account.email_key = guest_key
        batch_rows.remember(session, store.id, "customer_email", guest_key, account)
    log.info("customer.merged", extra={"store_id": store.id, "customer_id": account.id})
    refresh_totals(session, store, account)
    for hook in _MERGE_HOOKS.values():
        if hook.merged is not None:
            hook.merged(session, store, account)


def refresh_totals(session: Session, store: Store, customer: Customer) -> None:
    """Recompute the aggregates from the customer's orders.

    orders_count counts every order placed and not deleted, cancelled ones
    included (as Shopify's own customer order count does). Money counts only
    orders that stand: not cancelled, net of refunds, summed per currency. The
    headline total is in the store's currency when the customer has orders in
    it, otherwise in the currency most of their orders use.
    """
    orders = session.execute(
        select(*TOTALS_COLUMNS).where(
            Order.store_id == store.id, Order.customer_id == customer.id, Order.deleted_at.is_(None)
        )
    ).all()
    apply_totals(store, customer, orders)
    order_days.mark_customers(session, store.id, [customer.id])  # their orders' chain, before the commit


#: What apply_totals reads of an order. Callers select these columns, not whole orders: a repeat customer's
#: old orders would each be built as an ORM object with its line items parsed.
TOTALS_COLUMNS = (
    Order.customer_id,
    Order.currency,
    Order.total_price,
    Order.refunded_amount,
    Order.cancelled_at,
    Order.placed_at,
)


_TOTALS = (
    "orders_count",
    "currency",
    "total_spent",
    "total_refunded",
    "spent_by_currency",
    "first_order_at",
    "last_order_at",
)


def apply_totals(store: Store, customer: Customer, orders: Sequence[Any]) -> None:
    """refresh_totals' rules on the customer's orders (not deleted), already loaded: rows of TOTALS_COLUMNS
    (or Order objects)."""
    standing = [o for o in orders if o.cancelled_at is None]
    spent: dict[str, Decimal] = defaultdict(Decimal)
    refunded: dict[str, Decimal] = defaultdict(Decimal)
    for order in standing:
        spent[order.currency] += order.total_price - order.refunded_amount
        refunded[order.currency] += order.refunded_amount
    counts = Counter(o.currency for o in orders)
    if store.currency and store.currency in counts:
        currency: str | None = store.currency
    elif counts:
        currency = min(counts, key=lambda c: (-counts[c], c))
    else:
        currency = customer.currency or store.currency
    before = values_of(customer, _TOTALS)
    customer.orders_count = len(orders)
    customer.currency = currency
    customer.total_spent = spent.get(currency, Decimal("0")) if currency else Decimal("0")
    customer.total_refunded = refunded.get(currency, Decimal("0")) if currency else Decimal("0")
    customer.spent_by_currency = {cur: str(amount) for cur, amount in sorted(spent.items())}
    customer.first_order_at = min((o.placed_at for o in orders), default=None)
    customer.last_order_at = max((o.placed_at for o in orders), default=None)
    set_together(customer, _TOTALS, before)
