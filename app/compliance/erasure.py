"""Erasing a customer's personal data (customers/redact), and keeping erased accounts erased.

Split from compliance/service.py (which re-exports these names). Erasure keeps the numbers: the customer
row stays as a tombstone (personal columns cleared, email_key replaced by a marker normalise_email can never
produce), orders keep their totals. Features register their own personal columns in PERSONAL_DATA
(register_personal_data), and what they keep outside columns with register_erasure_hook. erase_if_tombstone
and erase_parcels_if_redacted are PIPELINE steps (inbox/pipeline.py): a late delivery about an erased account or
order must not refill it.
https://shopify.dev/docs/apps/build/compliance/privacy-law-compliance
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import CursorResult, Table, select, update
from sqlalchemy.orm import Session

from app.compliance import data
from app.compliance.models import COMPLETED, CUSTOMER_REDACT
from app.compliance.models import ComplianceRequest as Request
from app.extensions import Model
from app.platform.sql import in_keys
from app.records import batch_rows
from app.records.bulk import writes_customers
from app.records.models import Customer, Fulfillment, Order
from app.stores.models import Store

if TYPE_CHECKING:
    from app.compliance.run import Subject

log = logging.getLogger(__name__)

TOMBSTONE_PREFIX = "~redacted:"  # no "@": normalise_email() never returns it


@dataclass(frozen=True)
class PersonalData:
    """Columns of `model` that hold a customer's personal data, found by `customer_key` (= customers.id)."""

    model: type[Model]
    columns: tuple[str, ...]
    customer_key: str = "customer_id"


#: What customers/redact sets to NULL. Later features append theirs with register_personal_data()
#: (review author names, addresses, referral emails...). Orders carry no contact details (line
#: items keep product titles only), so only the locale copied from the customer goes.
PERSONAL_DATA: list[PersonalData] = [
    PersonalData(
        Customer, ("email", "first_name", "last_name", "phone", "locale", "accepts_marketing", "country", "tags"), "id"
    ),
    PersonalData(Order, ("locale",)),
]


def register_personal_data(model: type[Model], columns: tuple[str, ...], customer_key: str = "customer_id") -> None:
    PERSONAL_DATA.append(PersonalData(model, columns, customer_key))


@dataclass(frozen=True)
class OrderPersonalData:
    """Columns of `model` that hold personal data of an order's buyer, found by (store_id, order_platform_id):
    rows of a parcel carry no customer id, only their order's."""

    model: type[Model]
    columns: tuple[str, ...]


#: What customers/redact sets to NULL on the rows of the subject's orders (its customers' orders and the
#: payload's `orders_to_redact`). A tracking number or link leads to the parcel's address and its recipient at the
#: carrier's site (docs/compliance.md), so the fulfilments lose both; the carrier's name and the dates stay.
ORDER_PERSONAL_DATA: list[OrderPersonalData] = [OrderPersonalData(Fulfillment, ("tracking_number", "tracking_url"))]


def register_order_personal_data(model: type[Model], columns: tuple[str, ...]) -> None:
    if OrderPersonalData(model, columns) not in ORDER_PERSONAL_DATA:  # create_app runs more than once
        ORDER_PERSONAL_DATA.append(OrderPersonalData(model, columns))


#: Personal data kept outside the columns (files): customers/redact calls hook(session, store, customer ids) before
#: the columns are cleared; what it returns joins the request's summary. Messaging deletes its .eml copies.
ErasureHook = Callable[[Session, Store, list[int]], dict[str, Any] | None]
ERASURE_HOOKS: list[ErasureHook] = []


def register_erasure_hook(hook: ErasureHook) -> None:
    if hook not in ERASURE_HOOKS:  # create_app runs more than once
        ERASURE_HOOKS.append(hook)


def is_tombstone(customer: Customer) -> bool:
    return bool(customer.email_key and customer.email_key.startswith(TOMBSTONE_PREFIX))


def redact_customer(session: Session, store: Store, request: Request, subject: Subject) -> dict[str, Any]:
    """Erase the subject's personal data everywhere; totals, counts and ledger rows stay as they are."""
    ids = [c.id for c in subject.customers]
    matcher = data.InboxMatcher.for_subject(subject)  # built before the columns it reads are cleared
    hooked: dict[str, Any] = {}
    for hook in ERASURE_HOOKS:  # before the columns they may read are cleared, too
        hooked.update(hook(session, store, ids) or {})
    erased = erase_customers(session, store, ids)
    erased.update(erase_orders(session, store, _order_ids(session, store, ids, subject.order_ids)))
    purged = data.purge_exports(session, store.id, ids, subject.platform_id, exclude=request.id)
    scrubbed = data.scrub_inbox(session, store.id, matcher, marker={"redacted": CUSTOMER_REDACT})
    summary = {"customers": len(ids), "erased": erased, "inbox_scrubbed": scrubbed, "exports_purged": purged}
    return {**summary, **hooked}


def erase_customers(session: Session, store: Store, ids: list[int]) -> dict[str, int]:
    """NULL every registered personal column of these customers and turn them into tombstones."""
    erased: dict[str, int] = {}
    if not ids:
        return erased
    session.flush()  # a Core UPDATE does not autoflush, and expire_all below would drop what is pending
    for item in PERSONAL_DATA:
        # A declarative model's __table__ is a Table; DeclarativeBase types it as any FromClause.
        table = cast(Table, item.model.__table__)
        result = session.execute(
            update(table)
            .where(table.c.store_id == store.id, table.c[item.customer_key].in_(ids))
            .values({name: None for name in item.columns})
            .execution_options(**writes_customers(store.id, ids))
        )
        # DML returns a CursorResult (rowcount); execute() is typed Result
        erased[table.name] = erased.get(table.name, 0) + (cast("CursorResult[Any]", result).rowcount or 0)
    # The marker is per record (email_key is unique per store) and says nothing about the address.
    for customer_id in ids:
        session.execute(
            update(Customer)
            .where(Customer.store_id == store.id, Customer.id == customer_id)
            .values(email_key=f"{TOMBSTONE_PREFIX}{customer_id}")
            .execution_options(**writes_customers(store.id, [customer_id]))
        )
    session.expire_all()  # Core updates: reload ORM state before anyone reads it
    return erased


def _order_ids(session: Session, store: Store, customer_ids: list[int], named: set[str]) -> list[str]:
    held = set(named)
    if customer_ids:
        stmt = select(Order.platform_id).where(Order.store_id == store.id, Order.customer_id.in_(customer_ids))
        held.update(session.scalars(stmt))
    return sorted(held)


def erase_orders(session: Session, store: Store, order_ids: list[str]) -> dict[str, int]:
    """NULL every registered order-keyed personal column of these orders' rows (500 orders per statement)."""
    erased: dict[str, int] = {}
    session.flush()  # as in erase_customers: pending changes (a late update's new facts) are written first
    for start in range(0, len(order_ids), 500):
        chunk = order_ids[start : start + 500]
        for item in ORDER_PERSONAL_DATA:
            table = cast(Table, item.model.__table__)
            result = session.execute(
                update(table)
                .where(table.c.store_id == store.id, table.c.order_platform_id.in_(chunk))
                .values({name: None for name in item.columns})
            )
            count = cast("CursorResult[Any]", result).rowcount or 0
            erased[table.name] = erased.get(table.name, 0) + count
    session.expire_all()
    return erased


def erase_if_tombstone(session: Session, store: Store, event: Any) -> None:
    """Pipeline guard after record-keeping (OrderChanged, CustomerChanged): a late or still-queued
    delivery about an erased account must not refill its tombstone.

    The tombstone keeps its platform id, so such an order still attaches to it and the totals
    stay right; the name and email that the snapshot copied back are erased again.
    """
    snap = getattr(getattr(event, "order", None), "customer", None) or getattr(event, "customer", None)
    platform_id = getattr(snap, "platform_id", None)
    if not platform_id or not _was_redacted(session, store.id, platform_id):
        return
    customer_id = session.scalar(
        select(Customer.id).where(Customer.store_id == store.id, Customer.platform_id == platform_id)
    )
    if customer_id is not None:
        erase_customers(session, store, [customer_id])
        log.info("compliance.tombstone_kept", extra={"store_id": store.id, "customer_id": customer_id})


def erase_parcels_if_redacted(session: Session, store: Store, event: Any) -> None:
    """Pipeline guard after record-keeping (FulfillmentChanged, OrderChanged): Shopify goes on sending
    fulfilments/update for an order after customers/redact (a carrier's correction, a retry), and a WooCommerce
    order's update carries its tracking meta again. A parcel of an erased order keeps its new facts (status,
    dates) but its tracking number and link are erased again, as customers/redact left them."""
    parcel = getattr(event, "fulfillment", None)
    order_id = parcel.order_id if parcel is not None else getattr(getattr(event, "order", None), "platform_id", None)
    if order_id and _order_was_redacted(session, store.id, str(order_id)):
        erase_orders(session, store, [str(order_id)])
        log.info("compliance.parcel_kept_erased", extra={"store_id": store.id})


def _order_was_redacted(session: Session, store_id: int, order_id: str) -> bool:
    """Named by a completed customers/redact, or an order of an erased account (a tombstone)."""
    customers, orders = _redactions(session, store_id)
    if order_id in orders:
        return True
    if not customers:  # the common case: no account of this store was ever erased, no query per parcel
        return False
    key = session.scalar(
        select(Customer.email_key)
        .join(Order, (Order.store_id == Customer.store_id) & (Order.customer_id == Customer.id))
        .where(Order.store_id == store_id, Order.platform_id == order_id)
    )
    return bool(key and key.startswith(TOMBSTONE_PREFIX))


def _was_redacted(session: Session, store_id: int, platform_id: str) -> bool:
    return platform_id in _redactions(session, store_id)[0]


def _redactions(session: Session, store_id: int) -> tuple[set[str], set[str]]:
    """The store's completed customers/redact requests: the customers' platform ids and the orders they named.
    In an inbox batch, read once for the store's part of the batch."""
    maps = batch_rows.store_maps(session, store_id)
    known = maps.get("redactions") if maps is not None else None
    if known is not None:
        return known
    # In a batch, for every store it maps that has not read them yet (a group of stores: one query for all)
    mapped = batch_rows.mapped_stores(session, store_id)
    stores = [s for s in mapped if "redactions" not in (batch_rows.store_maps(session, s) or {})]
    stmt = select(Request.store_id, Request.customer_platform_id, Request.order_platform_ids).where(
        in_keys(session, Request.store_id, stores), Request.topic == CUSTOMER_REDACT, Request.status == COMPLETED
    )
    found: dict[int, tuple[set[str], set[str]]] = {s: (set(), set()) for s in stores}
    with session.no_autoflush:  # requests complete in their own job, never inside a delivery's work
        for sid, customer, named in session.execute(stmt):
            if customer:
                found[sid][0].add(customer)
            found[sid][1].update(str(o) for o in named or ())
    for sid in stores:
        if (held := batch_rows.store_maps(session, sid)) is not None:
            held["redactions"] = found[sid]
    return found[store_id]
