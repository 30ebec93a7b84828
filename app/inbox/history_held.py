"""The bulk history path's customers, set-based for the common case: the order's customer is already held and the
order's snapshot changes nothing of them.

Why: resolving every order's customer through the ORM (records/customers.resolve_customer, one Customer object,
its identity-map and batch-map work, per order) was a large part of a bulk chunk's Python. An imported order
almost always names a customer the import's customers phase has just written, with the same details, so here
the chunk's customers are read in one query (plain rows, no ORM objects) and an order takes its customer's id
directly when, by the webhooks' own identity rules, resolve_customer would find exactly that record and leave it
as it is:
- an account's order: the record held under its platform id, no other record holding its e-mail;
- a guest order (no platform id): the record holding its e-mail (a guest, or an account: "attaches to it");
- and records/customers._apply_details, run on a detached copy of the record, changes no field.
Everything else goes to resolve_customer, in the chunk's order: a new customer, a guest signing up or merged,
two accounts claiming one e-mail, newer details. Once an order goes there, every later order of the chunk that
names one of its keys (platform id, e-mail) or one of the records they matched goes there too, so no decision
here rests on a record that resolve_customer may have changed earlier in the chunk.
docs/history-import.md, "How it is written".
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy.orm import Session

from app.records import customers as records
from app.records.models import Customer
from app.records.models.customer import normalise_email
from connectors.events import CustomerSnapshot, OrderChanged

#: What resolve_customer may write on a held record: the details, the e-mail and its key, the identity.
_FIELDS = (
    *records._DETAIL_FIELDS,  # the one list of details, so the comparison cannot drift from the rule
    "email", "email_key", "phone_e164", "platform_id", "platform_updated_at", "details_from_account",
)  # fmt: skip
#: The chunk's customers by either key, as plain tuples (id, *_FIELDS) from the driver: through the ORM's
#: result machinery (a mapping per row, each timestamp re-tagged) this read was ~9 us of ~70 us of the chunk's
#: Python an order (bench/README.md, "The orders' phase's Python"). PostgreSQL only (the bulk path's): each list
#: is one bound array. timestamptz comes back aware, as UTCDateTime gives it (only compared here, never kept).
_PID, _KEY = 1 + _FIELDS.index("platform_id"), 1 + _FIELDS.index("email_key")
_SELECT = (
    f"SELECT id, {', '.join(_FIELDS)} FROM {Customer.__tablename__}"  # noqa: S608  (the model's names, no input)
    " WHERE store_id = %s AND (platform_id = ANY(%s) OR email_key = ANY(%s))"
)


def held(session: Session, store_id: int, events: Sequence[OrderChanged]) -> dict[str, int | None]:
    """{order platform id: customer id, or None for an order naming nobody} for the orders settled here; the
    orders absent from it go through resolve_customer."""
    snaps = [(e.order.platform_id, e.order.customer) for e in events]
    by_pid, by_key = _rows(
        session,
        store_id,
        {s.platform_id for _, s in snaps if s is not None and s.platform_id},
        {k for _, s in snaps if s is not None and (k := normalise_email(s.email))},
    )
    settled: dict[str, int | None] = {}
    touched: set[tuple[str, Any]] = set()  # keys and records resolve_customer may have changed in this chunk
    for order_pid, snap in snaps:
        key = normalise_email(snap.email) if snap is not None else None
        if snap is None or (snap.platform_id is None and key is None):
            settled[order_pid] = None  # resolve_customer would return None: the order names nobody
            continue
        by_id = by_pid.get(snap.platform_id) if snap.platform_id else None
        by_mail = by_key.get(key) if key else None
        marks = {("pid", snap.platform_id), ("key", key), *(("id", row[0]) for row in (by_id, by_mail) if row)}
        marks.discard(("pid", None))
        marks.discard(("key", None))
        customer = by_id if snap.platform_id else by_mail
        if (
            customer is not None
            and (by_mail is None or by_mail[0] == customer[0])
            and not marks & touched
            and _unchanged(customer, snap, key)
        ):
            settled[order_pid] = customer[0]
        else:
            touched |= marks
    return settled


def _rows(session: Session, store_id: int, pids: set[str], emails: set[str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The store's customers holding these platform ids or e-mail keys, as plain rows by each key."""
    by_pid: dict[str, Any] = {}
    by_key: dict[str, Any] = {}
    session.flush()  # as the ORM's query would autoflush: this read goes behind its back
    driver: Any = session.connection().connection.driver_connection  # psycopg 3, in the session's transaction
    cursor = driver.cursor()
    cursor.execute(_SELECT, (store_id, sorted(pids), sorted(emails)))
    for row in cursor.fetchall():
        if row[_PID] in pids:
            by_pid[row[_PID]] = row
        if row[_KEY] in emails:
            by_key[row[_KEY]] = row
    return by_pid, by_key


class _Details:
    """The record's fields as plain attributes: what _apply_details reads and writes, without a Customer object
    (a transient ORM instance per order, its instrumentation, was most of this check's time)."""

    __slots__ = _FIELDS

    def __init__(self, row: tuple[Any, ...]) -> None:
        for name, value in zip(_FIELDS, row[1:], strict=True):
            setattr(self, name, value)


def _unchanged(row: Any, snap: CustomerSnapshot, key: str | None) -> bool:
    """Whether resolve_customer's details rule (records/customers._apply_details) leaves this record as it is."""
    copy = _Details(row)
    records._apply_details(cast(Customer, copy), snap, key)  # it only gets and sets these attributes
    return all(getattr(copy, name) == value for name, value in zip(_FIELDS, row[1:], strict=True))
