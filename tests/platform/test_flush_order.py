"""The unit of work orders one flush's INSERTs by foreign keys, not by the names of the model modules.

SQLAlchemy orders two tables' rows in a flush by the relationship() between their mappers, and without one by
the mappers' module paths (sqlalchemy/orm/unitofwork.py, SaveUpdateAll.sort_key). The inbox batch creates a
customer (its id drawn ahead from the sequence) and the ledger rows, messages and orders naming it in one flush,
so a key without a relationship would work or fail depending on where its model file lives.
"""

from __future__ import annotations

from decimal import Decimal

from app.extensions import db
from app.platform.types import utcnow

# Stores are created by the install flows and committed before any row names them; a relationship on every
# store_id would cost every flushed row of a batch a dependency check for an order that is never at stake.
TENANT = "stores"


def test_every_foreign_key_between_records_has_a_relationship(app):
    missing = []
    for mapper in db.Model.registry.mappers:
        ordered = {col for rel in mapper.relationships if not rel.viewonly for col in rel.local_columns}
        for table in mapper.tables:
            for fk in table.foreign_keys:
                # A store key's store_id half (platform/store_keys.store_fk) names the row's own store: the order
                # comes from its other column's relationship.
                if fk.parent.name == "store_id" and fk.constraint is not None and "store_key" in fk.constraint.info:
                    continue
                if fk.column.table.name != TENANT and fk.parent not in ordered:
                    missing.append(f"{table.name}.{fk.parent.name} -> {fk.column.table.name}")
    assert missing == []


def test_a_new_customer_and_rows_naming_it_flush_together(ctx):
    """The case the batch makes: no flush between creating the customer and its rows."""
    from sqlalchemy import select

    from app.loyalty.models import PointsLedger
    from app.messaging.models import Message
    from app.records.models import Customer, Order
    from tests.helpers import add_store

    store = add_store()
    customer = Customer(store_id=store.id, email_key="a@example.com", platform_id="42")
    db.session.add(customer)
    db.session.flush()  # an id to reuse, then a second customer added with an explicit one
    second_id = customer.id + 1000
    db.session.add_all(
        [
            PointsLedger(store_id=store.id, customer_id=second_id, source_key="t:1", kind="action", points=5),
            Message(store_id=store.id, customer_id=second_id, template="t", locale="en", dedupe_key="t:1"),
            Order(
                store_id=store.id,
                customer_id=second_id,
                platform_id="9",
                currency="EUR",
                total_price=Decimal("1.00"),
                subtotal_price=Decimal("1.00"),
                placed_at=utcnow(),
                platform_updated_at=utcnow(),
            ),
            Customer(id=second_id, store_id=store.id, email_key="b@example.com", platform_id="43"),
        ]
    )
    db.session.flush()
    assert db.session.scalar(select(PointsLedger.customer_id).where(PointsLedger.source_key == "t:1")) == second_id
