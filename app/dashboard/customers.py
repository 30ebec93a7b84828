"""The Customers pages: search the store's customers (app/records) by e-mail or name, and one customer's timeline.

- /app/customers?q=...&page=N: the store's customers whose normalised e-mail (Customer.email_key, lower-cased:
  records/models/customer.normalise_email) or first name, last name or "first last" contains the words typed,
  case-insensitively, newest first, PAGE_SIZE a page. Without `q`, the newest customers.
- /app/customers/<id>: the customer's details, the features' panels (the points balance and its adjustment form)
  and the timeline every feature contributes to (timeline.register_timeline); orders are the records' own entries,
  registered here like the Overview's orders section. Another store's customer is a 404 like a missing one
  (records.customers.store_customer), so a merchant cannot probe for ids.
"""

from __future__ import annotations

from typing import Any

from flask import abort, request
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from app.dashboard.i18n import N_
from app.dashboard.i18n import gettext as _
from app.dashboard.registry import current_merchant, dashboard_page, render_page
from app.dashboard.timeline import MAX_ENTRIES, Entry, panels, register_timeline, timeline
from app.extensions import db
from app.money import format_money
from app.records.customers import store_customer
from app.records.models import Customer, Order
from app.stores.models import Store

PAGE_SIZE = 25
MAX_QUERY = 100
MAX_PAGE = 10_000


def _like(words: str) -> str:
    escaped = words.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def search(session: Session, store: Store, query: str, page: int) -> tuple[list[Customer], bool]:
    """The page's customers and whether another page follows (one row more is read to know)."""
    stmt = select(Customer).where(Customer.store_id == store.id)
    words = " ".join(query.split()).lower()
    if words:
        pattern = _like(words)
        full_name = func.lower(func.coalesce(Customer.first_name, "") + " " + func.coalesce(Customer.last_name, ""))
        stmt = stmt.where(
            or_(
                Customer.email_key.like(pattern, escape="\\"),
                func.lower(Customer.first_name).like(pattern, escape="\\"),
                func.lower(Customer.last_name).like(pattern, escape="\\"),
                full_name.like(pattern, escape="\\"),
            )
        )
    rows = session.scalars(stmt.order_by(Customer.id.desc()).offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE + 1)).all()
    return list(rows[:PAGE_SIZE]), len(rows) > PAGE_SIZE


def display_name(customer: Customer) -> str:
    name = " ".join(part for part in (customer.first_name, customer.last_name) if part)
    return name or customer.email or _("Customer %(id)s", id=customer.id)


def _page_number() -> int:
    raw = request.args.get("page", "1")
    return int(raw) if raw.isascii() and raw.isdigit() and 1 <= int(raw) <= MAX_PAGE else 1


@dashboard_page("/customers", title=N_("Customers"), nav=N_("Customers"), order=60)
def customers() -> str:
    query = request.args.get("q", "")[:MAX_QUERY]
    page = _page_number()
    rows, more = search(db.session, current_merchant().store, query, page)
    return render_page(
        "dashboard/customers.html", query=query, rows=rows, page_number=page, more=more, name_of=display_name
    )


@dashboard_page("/customers/<int:customer_id>", title=N_("Customer"))
def customer_timeline(customer_id: int) -> str:
    store = current_merchant().store
    customer = store_customer(db.session, store, customer_id)
    if customer is None:
        abort(404)
    return render_customer(store, customer, saved=request.args.get("saved", "")[:32])


def render_customer(store: Store, customer: Customer, **values: Any) -> str:
    """The customer's page; a panel's form that refused its input renders it again with `form_errors` (field ->
    message) and `form_values`, which the panel's template shows next to its fields."""
    values.setdefault("form_errors", {})
    values.setdefault("form_values", {})
    return render_page(
        "dashboard/customer.html",
        customer=customer,
        name=display_name(customer),
        panels=panels(db.session, store, customer),
        entries=timeline(db.session, store, customer),
        **values,
    )


def order_entries(session: Session, store: Store, customer: Customer) -> list[Entry]:
    orders = session.scalars(
        select(Order)
        .where(Order.store_id == store.id, Order.customer_id == customer.id, Order.deleted_at.is_(None))
        .order_by(Order.placed_at.desc())
        .limit(MAX_ENTRIES)
    )
    entries = []
    for order in orders:
        detail = f"{format_money(order.total_price, order.currency)} {order.currency}"
        if order.refunded_amount:
            detail += " · " + _(
                "refunded %(amount)s", amount=f"{format_money(order.refunded_amount, order.currency)} {order.currency}"
            )
        if order.cancelled_at is not None:
            detail += " · " + _("cancelled")
        entries.append(
            Entry(order.placed_at, "order", _("Order %(name)s", name=order.name or order.platform_id), detail)
        )
    return entries


register_timeline("orders", order_entries, order=10)
