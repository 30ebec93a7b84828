"""The data side of privacy requests: a customer's export, and finding them in raw inbox bodies.

Split from compliance/service.py (which decides *what* to do) to keep both short.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import cached_property
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import CursorResult, Table, or_, select, update
from sqlalchemy.orm import Session

from app.compliance.models import DATA_REQUEST
from app.compliance.models import ComplianceRequest as Request
from app.extensions import Model, db
from app.inbox.models import DONE, FAILED, WebhookDelivery
from app.platform.types import utcnow
from app.records.models import Customer, Fulfillment, Order, OrderRefund
from app.stores.models import Store

if TYPE_CHECKING:
    from app.compliance.run import Subject

#: Inbox rows a redaction may rewrite: already processed ones. Pending and processing rows are
#: still to be applied (the per-store lock keeps them waiting while the redaction runs).
SCRUBBABLE = (DONE, FAILED, "deferred")
SCAN_BATCH = 500
EXPORT_VERSION = 1


def _json_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes | memoryview):
        return {"base64": base64.b64encode(bytes(value)).decode()}
    return value


def _rows(session: Session, table: Table, *where: Any) -> list[dict[str, Any]]:
    # By primary key: not every table's is an `id` (campaign_members: (campaign_id, customer_id)).
    result = session.execute(select(table).where(*where).order_by(*table.primary_key.columns)).mappings()
    return [{k: _json_value(v) for k, v in row.items()} for row in result]


#: Other rows kept per order (store_id, order_platform_id) without a customer id, exported under each order by
#: name: what the delivery journey decided and sent for each parcel, for instance (register_order_rows).
ORDER_ROWS: list[tuple[type[Model], str]] = []


def register_order_rows(model: type[Model], name: str) -> None:
    if (model, name) not in ORDER_ROWS:  # create_app runs more than once
        ORDER_ROWS.append((model, name))


def export_customer(
    session: Session, store: Store, request: Request, customers: list[Customer], order_ids: set[str]
) -> dict[str, Any]:
    """Everything held on these customers, as JSON for the merchant to hand over.

    Orders come with their refunds, fulfilments (their tracking numbers and links) and the registered order rows
    (ORDER_ROWS); rows of any other table keyed by (store_id, customer_id) are included as they are, so later
    features are covered without registering anything.
    """
    ids = [c.id for c in customers]
    orders_t: Table = Order.__table__  # type: ignore[assignment]
    orders = _rows(
        session,
        orders_t,
        orders_t.c.store_id == store.id,
        or_(orders_t.c.customer_id.in_(ids), orders_t.c.platform_id.in_(sorted(order_ids))),
    )
    platform_order_ids = sorted({o["platform_id"] for o in orders})
    children_of: list[tuple[type[Model], str]] = [(OrderRefund, "refunds"), (Fulfillment, "fulfillments"), *ORDER_ROWS]
    for model, name in children_of:
        table = cast(Table, model.__table__)
        children = _rows(
            session, table, table.c.store_id == store.id, table.c.order_platform_id.in_(platform_order_ids)
        )
        for order in orders:
            order[name] = [c for c in children if c["order_platform_id"] == order["platform_id"]]
    customers_t: Table = Customer.__table__  # type: ignore[assignment]
    other: dict[str, list[dict[str, Any]]] = {}
    for table in db.metadata.sorted_tables:
        if table.name in ("orders", "customers") or not {"store_id", "customer_id"} <= set(table.c.keys()):
            continue
        rows = _rows(session, table, table.c.store_id == store.id, table.c.customer_id.in_(ids))
        if rows:
            other[table.name] = rows
    return {
        "version": EXPORT_VERSION,
        "generated_at": utcnow().isoformat(),
        "shop_domain": store.domain,
        "data_request_id": request.data_request_id,
        "customer_platform_id": request.customer_platform_id,
        "customers": _rows(session, customers_t, customers_t.c.store_id == store.id, customers_t.c.id.in_(ids)),
        "orders": orders,
        "other": other,
    }


def purge_exports(
    session: Session, store_id: int, customer_ids: list[int], platform_id: str | None, *, exclude: int | None = None
) -> int:
    """Drop stored exports that hold this customer's data (the merchant has had them since)."""
    purged = 0
    rows = session.scalars(
        select(Request).where(Request.store_id == store_id, Request.topic == DATA_REQUEST, Request.export.is_not(None))
    )
    for row in rows:
        exported = {c.get("id") for c in (row.export or {}).get("customers", [])}
        if row.id != exclude and (
            (platform_id and row.customer_platform_id == platform_id) or exported & set(customer_ids)
        ):
            row.export, row.export_purged_at = None, utcnow()
            purged += 1
    session.flush()
    return purged


_DIGITS = re.compile(r"\D")
_DIGITS_B = re.compile(rb"\D")


def _digits(phone: str | None) -> str | None:
    digits = _DIGITS.sub("", phone or "")
    return digits if len(digits) >= 7 else None  # shorter strings would match too much


@dataclass(frozen=True)
class InboxMatcher:
    """Decides whether a raw delivery body is about one customer.

    A body matches when it names one of their emails (any string value, case-folded), their
    phone (values under a *phone* key, digits only), their customer id (a `customer` object's
    id, a `customer_id`, or the resource id of a customer topic), or one of their orders (the
    order id of an order topic, or an `order_id`: refund and fulfilment bodies carry the
    shipping address and email of the buyer).
    """

    emails: frozenset[str]
    phones: frozenset[str]
    customer_ids: frozenset[str]
    order_ids: frozenset[str]

    @classmethod
    def for_subject(cls, subject: Subject) -> InboxMatcher:
        emails = (
            {subject.email_key}
            | {c.email_key for c in subject.customers}
            | {(c.email or "").strip().lower() for c in subject.customers}
        )
        phones = {_digits(subject.phone)} | {_digits(c.phone) for c in subject.customers}
        ids = {subject.platform_id} | {c.platform_id for c in subject.customers}
        return cls(
            emails=frozenset(e for e in emails if e and "@" in e),
            phones=frozenset(p for p in phones if p),
            customer_ids=frozenset(i for i in ids if i),
            order_ids=frozenset(subject.order_ids),
        )

    @cached_property
    def needles(self) -> tuple[bytes, ...]:
        """Byte strings one of which a matching body contains, raw UTF-8 or JSON-escaped, lower-cased."""
        values = (*self.emails, *self.customer_ids, *self.order_ids)
        return tuple({f(v).lower() for v in values for f in (str.encode, lambda v: json.dumps(v)[1:-1].encode())})

    @cached_property
    def phone_needles(self) -> tuple[bytes, ...]:
        return tuple(p.encode() for p in self.phones)

    @property
    def empty(self) -> bool:
        return not (self.emails or self.phones or self.customer_ids or self.order_ids)

    def matches(self, topic: str, payload: Any) -> bool:
        if isinstance(payload, dict):
            top = str(payload.get("id"))
            if topic.startswith("customer") and top in self.customer_ids:
                return True
            if topic.startswith(("orders/", "order.")) and top in self.order_ids:
                return True
        return self._walk(payload)

    def _walk(self, value: Any, key: str = "") -> bool:
        if isinstance(value, dict):
            for k, v in value.items():
                if k == "customer" and isinstance(v, dict) and _id(v.get("id")) in self.customer_ids:
                    return True
                if k == "customer_id" and _id(v) in self.customer_ids:
                    return True
                if k == "order_id" and _id(v) in self.order_ids:
                    return True
                if self._walk(v, k.lower()):
                    return True
            return False
        if isinstance(value, list):
            return any(self._walk(v, key) for v in value)
        if isinstance(value, str):
            if value.strip().lower() in self.emails:
                return True
            return "phone" in key and _digits(value) in self.phones
        return False


def _id(value: Any) -> str | None:
    return None if isinstance(value, bool) or value is None else str(value)


def scrub_inbox(session: Session, store_id: int, matcher: InboxMatcher, *, marker: dict[str, Any]) -> int:
    """Replace the raw body of every processed delivery about this customer with a marker.

    The row stays (topic, dates, status: the audit of what was received). Scanned in id order in
    batches of SCAN_BATCH so memory stays flat on a store with many deliveries.
    """
    if matcher.empty:
        return 0
    body = json.dumps(marker, sort_keys=True).encode()
    # Ids first (no bodies read), then bodies by primary key a batch at a time: a keyset query
    # filtered on store_id made SQLite re-read and sort the store's rows on every batch.
    ids = session.scalars(
        select(WebhookDelivery.id)
        .where(WebhookDelivery.store_id == store_id, WebhookDelivery.status.in_(SCRUBBABLE))
        .order_by(WebhookDelivery.id)
    ).all()
    scrubbed = 0
    for start in range(0, len(ids), SCAN_BATCH):
        chunk = ids[start : start + SCAN_BATCH]
        batch = session.execute(
            select(WebhookDelivery.id, WebhookDelivery.topic, WebhookDelivery.body).where(
                WebhookDelivery.store_id == store_id, WebhookDelivery.id.in_(chunk)
            )
        ).all()
        hits = [row.id for row in batch if _body_matches(matcher, row.topic, row.body)]
        if hits:
            session.execute(
                update(WebhookDelivery)
                .where(WebhookDelivery.store_id == store_id, WebhookDelivery.id.in_(hits))
                .values(body=body)
            )
            scrubbed += len(hits)
    return scrubbed


def _body_matches(matcher: InboxMatcher, topic: str, body: bytes) -> bool:
    # A byte-level prefilter first: json.loads and the walk cost ~0.8 ms for an 8 KB order body,
    # and almost every delivery of a store is about someone else.
    raw = bytes(body).lower()
    if not any(needle in raw for needle in matcher.needles):
        digits = _DIGITS_B.sub(b"", raw) if matcher.phones else b""
        if not any(p in digits for p in matcher.phone_needles):
            return False
    try:
        payload = json.loads(bytes(body))
    except ValueError:
        return False
    return matcher.matches(topic, payload)


def delete_store_rows(session: Session, store_id: int, keep: Iterable[str] = ()) -> dict[str, int]:
    """DELETE every row carrying this store_id, children first, in every table the app knows.

    Explicit rather than trusting ON DELETE CASCADE, so a later feature's table that forgot
    the cascade (or a SQLite connection without the foreign_keys pragma) cannot keep data.
    """
    deleted: dict[str, int] = {}
    for table in reversed(db.metadata.sorted_tables):
        if table.name in keep or table.name == "stores" or "store_id" not in table.c:
            continue
        result = session.execute(table.delete().where(table.c.store_id == store_id))
        # DML returns a CursorResult (rowcount); execute() is typed Result
        count = cast("CursorResult[Any]", result).rowcount or 0
        if count:
            deleted[table.name] = count
    return deleted
