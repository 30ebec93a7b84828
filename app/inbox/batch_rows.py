"""The rows a batch's deliveries name, loaded once per store before the batch is applied.

A delivery used to look its rows up one by one: its order (FOR UPDATE), its customer by platform id and by
email (FOR UPDATE), each fulfilment and refund of the snapshot, the redemptions its codes name. That was 5-6
round trips per delivery (bench/README.md, "bench/process.py"). Here the batch parses its deliveries first,
then loads, per store, every order, customer, fulfilment, refund and redemption they name in one query per
table, and the lookups in records/customers.py, order_derived.py, order_children.py and redemptions.py
answer from these maps. No FOR UPDATE: the batch holds the store's advisory lock (inbox/processing.lock_store),
which serialises every writer of the store's order and customer rows.

Why an answer from here is the answer the database would give:
- a key loaded absent (None) stays absent unless this batch creates the row, and every creation site
  registers the new row (`remember`); a key whose holder changes (a guest signs up, an email moves) is
  registered by the code that changes it;
- a row found here is checked on every read: still in the session (not deleted, expunged or rolled back)
  and still holding the key; anything else is a miss, and the caller queries as before;
- a delivery rolled back to its SAVEPOINT drops the store's maps (`forget`): what it added is gone.
Outside a batch (one delivery per transaction, tests, the CLI) there are no maps and every lookup queries.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import String, func, inspect, or_, select, text
from sqlalchemy.orm import Session

from app.loyalty.models import PointsLedger, Redemption
from app.platform.sql import chunks, in_keys
from app.records.models import Customer, Fulfillment, Order, OrderRefund
from app.referrals.models import Referral, ReferralInvite
from connectors.events import (
    CustomerChanged,
    Event,
    FulfillmentChanged,
    OrderChanged,
    OrderDeleted,
    RefundCreated,
    ShipmentEvent,
)

ROWS = "batch.rows"  # session.info: {store id: {kind: {key: row or None}}}
MISS = object()  # not known here: query

# kind -> the attribute that holds the key (a row read back must still hold it)
_KEYS = {
    "order": "platform_id",
    "customer_pid": "platform_id",
    "customer_email": "email_key",
    "fulfillment": "platform_id",
    "refund": "platform_id",
    "referral": "order_platform_id",
    "ledger": "source_key",  # points ledger rows by source key: the signup rewards of the batch's accounts
}


def lookup(session: Session, store_id: int, kind: str, key: str) -> Any:
    """The row (or None: known absent) for this key, or MISS when the caller must query."""
    maps = session.info.get(ROWS, {}).get(store_id)
    if maps is None:
        return MISS
    row = maps[kind].get(key, MISS)
    if row is None or row is MISS:
        return row
    state = inspect(row)
    if not (state.persistent or state.pending) or getattr(row, _KEYS[kind]) != key:
        return MISS  # deleted, merged away, rolled back, or the key moved: the database knows
    return row


def active(session: Session, store_id: int) -> bool:
    """Whether this store's rows are mapped (its part of a batch is being applied)."""
    return store_id in session.info.get(ROWS, {})


def remember(session: Session, store_id: int, kind: str, key: str | None, row: Any) -> None:
    """A row this batch created, or that now holds `key`."""
    maps = session.info.get(ROWS, {}).get(store_id)
    if maps is not None and key is not None:
        maps[kind][key] = row


_NEXT_CUSTOMER_IDS = text("SELECT nextval(pg_get_serial_sequence('customers', 'id')) FROM generate_series(1, :n)")


def new_customer_id(session: Session, store_id: int) -> int | None:
    """An id for a customer the batch creates, drawn ahead from the table's sequence (PostgreSQL), so the new
    row needs no flush of its own to have one: that flush wrote out everything the batch had pending so far, and
    the INSERT went alone, followed by an UPDATE of the details set after it. None outside a batch or on other
    databases (the caller flushes). Ids drawn and not used are gaps, as a rolled-back insert leaves."""
    maps = session.info.get(ROWS, {}).get(store_id)
    if maps is None or session.get_bind().dialect.name != "postgresql":
        return None
    pool: list[int] = maps.setdefault("customer_ids", [])
    if not pool:  # enough for every key the batch found absent: one round trip per store and batch, as a rule
        absent = sum(row is None for kind in ("customer_pid", "customer_email") for row in maps[kind].values())
        with session.no_autoflush:
            pool.extend(session.scalars(_NEXT_CUSTOMER_IDS, {"n": max(absent, 1)}))
        pool.reverse()  # popped in ascending order
    return pool.pop()


def redemptions(session: Session, store_id: int) -> list[Redemption] | None:
    """Every redemption whose code or used order the store's deliveries (or their held orders) name; None
    outside a batch."""
    maps = session.info.get(ROWS, {}).get(store_id)
    return None if maps is None else maps["redemptions"]


def start(session: Session) -> None:
    session.info[ROWS] = {}


def stop(session: Session) -> None:
    session.info.pop(ROWS, None)


def forget(session: Session, store_id: int) -> None:
    """After a SAVEPOINT rollback: the store's lookups query again for the rest of the batch."""
    session.info.get(ROWS, {}).pop(store_id, None)


def preload_referrals(session: Session, store_id: int, orders: Sequence[Order]) -> None:
    """The referrals of the orders the batch derives (inbox/batch_derived.py), and the referral invites
    their discount codes name (referral_orders._attributed_invite), one query per table and 500 keys."""
    maps = session.info.get(ROWS, {}).get(store_id)
    if maps is None:
        return
    found = maps["referral"]
    wanted = {order.platform_id for order in orders} - found.keys()
    found.update(dict.fromkeys(wanted))
    for chunk in _chunks(wanted):
        stmt = select(Referral).where(
            Referral.store_id == store_id, in_keys(session, Referral.order_platform_id, chunk)
        )
        found.update((r.order_platform_id, r) for r in session.scalars(stmt))
    invites = maps.setdefault("invite_code", {})
    codes = {code for order in orders for code in order_codes(order)} - invites.keys()
    invites.update(dict.fromkeys(codes))
    upper = func.upper(ReferralInvite.discount_code, type_=String())  # typed: in_keys casts the array to it
    for chunk in _chunks(codes):
        stmt = select(ReferralInvite).where(ReferralInvite.store_id == store_id, in_keys(session, upper, chunk))
        for invite in session.scalars(stmt.order_by(ReferralInvite.id)):
            if invites.get(key := invite.discount_code.upper()) is None:
                invites[key] = invite  # the first by id, as the per-order query picks


def order_codes(order: Order) -> list[str]:
    """The order's discount codes as referral invites are matched: trimmed, upper case."""
    return [c.strip().upper() for c in order.discount_codes or [] if c]


def invites_for_codes(session: Session, store_id: int, codes: Sequence[str]) -> Any:
    """The batch's invites for these codes (those that exist), or MISS when the caller must query. Invites are
    created by the storefront, never by a delivery: an invite that a batch's order names exists before it."""
    known = session.info.get(ROWS, {}).get(store_id, {}).get("invite_code")
    if known is None or any(code not in known for code in codes):
        return MISS
    found = [known[code] for code in codes if known[code] is not None]
    for invite in found:
        if not inspect(invite).persistent or invite.discount_code.upper() not in codes:
            return MISS
    return found


def _keys(events: Iterable[Event]) -> dict[str, set[str]]:
    from app.records.customers import normalise_email  # customers.py imports this module

    keys: dict[str, set[str]] = {"order": set(), "pid": set(), "email": set(), "fulfillment": set(), "refund": set()}
    keys["ledger"] = set()
    codes: set[str] = set()
    for event in events:
        customer = None
        if isinstance(event, OrderChanged):
            snap = event.order
            keys["order"].add(snap.platform_id)
            customer = snap.customer
            keys["refund"].update(r.platform_id for r in snap.refunds)
            keys["fulfillment"].update(f.platform_id for f in snap.fulfillments)
            codes.update(str(c).upper() for c in snap.discount_codes)
        elif isinstance(event, OrderDeleted):
            keys["order"].add(event.order_id)
        elif isinstance(event, RefundCreated):
            keys["order"].add(event.refund.order_id)
            keys["refund"].add(event.refund.platform_id)
        elif isinstance(event, FulfillmentChanged):
            keys["order"].add(event.fulfillment.order_id)
            keys["fulfillment"].add(event.fulfillment.platform_id)
        elif isinstance(event, ShipmentEvent):
            keys["order"].add(event.order_id)
            keys["fulfillment"].add(event.fulfillment_id)
        elif isinstance(event, CustomerChanged):
            customer = event.customer
            if customer.platform_id:  # loyalty_orders.on_customer_changed: the signup reward, once per account
                keys["ledger"].add(signup_key(customer.platform_id))
        if customer is not None:
            if customer.platform_id:
                keys["pid"].add(customer.platform_id)
            if email := normalise_email(customer.email):
                keys["email"].add(email)
    keys["codes"] = codes
    return keys


def signup_key(platform_id: str) -> str:
    """The source key of an account's signup reward (loyalty_ledger.award_action's `action:<action>:<ref>`)."""
    return f"action:signup:{platform_id}"


def _chunks(values: set[str]) -> Iterable[Sequence[str]]:
    return chunks(sorted(values))  # sorted: the same keys give the same statements


def preload(session: Session, store_id: int, events: Iterable[Event]) -> None:
    """Load the store's rows that these events name (one query per table and 500 keys)."""
    if ROWS not in session.info:
        return
    keys = _keys(events)
    maps: dict[str, Any] = {kind: {} for kind in _KEYS}
    for kind, column, wanted in (
        ("order", Order.platform_id, keys["order"]),
        ("fulfillment", Fulfillment.platform_id, keys["fulfillment"]),
        ("refund", OrderRefund.platform_id, keys["refund"]),
        ("ledger", PointsLedger.source_key, keys["ledger"]),
    ):
        found = maps[kind]
        found.update(dict.fromkeys(wanted))
        model = column.class_
        for chunk in _chunks(wanted):
            stmt = select(model).where(model.store_id == store_id, in_keys(session, column, chunk))
            found.update((getattr(row, column.key), row) for row in session.scalars(stmt))
    _load_customers(session, store_id, keys["pid"], keys["email"], maps)
    codes = keys["codes"] | {str(c).upper() for o in maps["order"].values() if o for c in o.discount_codes or []}
    maps["redemptions"] = _load_redemptions(session, store_id, codes, keys["order"])
    session.info[ROWS][store_id] = maps


def _load_customers(session: Session, store_id: int, pids: set[str], emails: set[str], maps: dict) -> None:
    by_pid, by_email = maps["customer_pid"], maps["customer_email"]
    by_pid.update(dict.fromkeys(pids))
    by_email.update(dict.fromkeys(emails))
    for pid_chunk, email_chunk in _paired_chunks(pids, emails):
        stmt = select(Customer).where(
            Customer.store_id == store_id,
            or_(in_keys(session, Customer.platform_id, pid_chunk), in_keys(session, Customer.email_key, email_chunk)),
        )
        for customer in session.scalars(stmt):
            if customer.platform_id in by_pid:
                by_pid[customer.platform_id] = customer
            if customer.email_key in by_email:
                by_email[customer.email_key] = customer


def _paired_chunks(a: set[str], b: set[str]) -> Iterable[tuple[Sequence[str], Sequence[str]]]:
    first, second = list(_chunks(a)), list(_chunks(b))
    for i in range(max(len(first), len(second))):
        yield (first[i] if i < len(first) else ()), (second[i] if i < len(second) else ())


def _load_redemptions(session: Session, store_id: int, codes: set[str], order_ids: set[str]) -> list[Redemption]:
    found: dict[int, Redemption] = {}
    stmt = select(Redemption).where(Redemption.store_id == store_id)
    for chunk in _chunks(codes):
        found.update((r.id, r) for r in session.scalars(stmt.where(in_keys(session, Redemption.code, chunk))))
    for chunk in _chunks(order_ids):
        found.update(
            (r.id, r) for r in session.scalars(stmt.where(in_keys(session, Redemption.used_order_platform_id, chunk)))
        )
    return list(found.values())
