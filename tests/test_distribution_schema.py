"""The schema is ready for a PostgreSQL distributed by store_id (Citus), or says by name what is not yet.

The rules (https://docs.citusdata.com/en/stable/develop/migration_mt_schema.html) and the exceptions are in
tests/distribution.py; each exception list may only shrink: a listed table or key that now obeys the rule fails
here too, so the list is kept exact. Checked on the models and on the migrated database (the schema comes from
the migrations: a migration that forgot store_id in a unique index is caught even if the model has it).
"""

from __future__ import annotations

import sqlalchemy as sa

from app.extensions import db
from tests import distribution


def _scoped_tables() -> list[sa.Table]:
    return [t for name, t in sorted(db.metadata.tables.items()) if name not in distribution.GLOBAL_TABLES]


def test_every_table_but_the_named_global_ones_carries_a_non_null_store_id(app):
    missing = [t.name for t in _scoped_tables() if "store_id" not in t.c or t.c.store_id.nullable]
    assert missing == []
    # Every named global table exists and really has no (required) store: a stale name is an error.
    for name in distribution.GLOBAL_TABLES.keys() - {"alembic_version"}:
        table = db.metadata.tables[name]
        assert "store_id" not in table.c or table.c.store_id.nullable, name


def test_every_unique_constraint_and_unique_index_includes_store_id(app):
    offending = []
    for table in _scoped_tables():
        for constraint in table.constraints:
            if isinstance(constraint, sa.UniqueConstraint) and "store_id" not in constraint.columns:
                offending.append(f"{table.name}: {constraint.name}")
        for index in table.indexes:
            if index.unique and "store_id" not in index.columns:
                offending.append(f"{table.name}: {index.name}")
    assert offending == []


def test_the_migrated_database_has_no_unique_key_without_store_id(app, ctx):
    inspector = sa.inspect(db.engine.connect())
    offending = []
    for table in _scoped_tables():
        for unique in inspector.get_unique_constraints(table.name):
            if "store_id" not in unique["column_names"]:
                offending.append(f"{table.name}: {unique['name']} {unique['column_names']}")
        for index in inspector.get_indexes(table.name):
            if index["unique"] and "store_id" not in index["column_names"]:
                offending.append(f"{table.name}: {index['name']} {index['column_names']}")
        columns = {c["name"]: c for c in inspector.get_columns(table.name)}
        if columns["store_id"]["nullable"]:
            offending.append(f"{table.name}: store_id nullable")
    assert offending == []


def test_primary_keys_without_store_id_are_the_known_list_only(app):
    without = {t.name for t in _scoped_tables() if "store_id" not in t.primary_key.columns}
    assert without - distribution.PK_WITHOUT_STORE == set(), "a new table: make store_id part of its primary key"
    assert distribution.PK_WITHOUT_STORE - without == set(), "fixed: take it off PK_WITHOUT_STORE"


def test_foreign_keys_stay_within_a_store(app):
    """A key to a store-scoped table carries store_id (a composite key), or is a known exception; a key to a
    global table (the store itself) is what a Citus reference table allows."""
    without = set()
    for table in _scoped_tables():
        for fk in table.foreign_key_constraints:
            if fk.referred_table.name in distribution.GLOBAL_TABLES:
                continue
            if "store_id" not in fk.columns:
                without |= {f"{table.name}.{c.name}" for c in fk.columns}
    assert without - distribution.FK_WITHOUT_STORE == set(), "a new key: include store_id in it"
    assert distribution.FK_WITHOUT_STORE - without == set(), "fixed: take it off FK_WITHOUT_STORE"


def test_global_tables_hold_no_key_to_a_store_scoped_table(app):
    """A reference table cannot point into a distributed one (Citus refuses such a foreign key)."""
    pointing = [
        f"{name}.{fk.parent.name}"
        for name in distribution.GLOBAL_TABLES.keys() - {"alembic_version"}
        for fk in db.metadata.tables[name].foreign_keys
        if fk.column.table.name not in distribution.GLOBAL_TABLES
    ]
    assert pointing == []


def test_the_migrated_database_has_the_models_store_keys(app, ctx):
    """PostgreSQL has the models' primary keys and keys within a store (migration 0033; their ON DELETE is
    compared by tests/test_schema_and_cli.py). SQLite keeps a rowid key and single-column keys where the models
    have store keys (app/platform/store_keys.py): said here, so a change to either is seen."""
    inspector = sa.inspect(db.engine.connect())
    postgres = db.engine.dialect.name == "postgresql"
    offending = []
    for table in _scoped_tables():
        model_pk = [c.name for c in table.primary_key.columns]
        store_row = model_pk == ["id", "store_id"]
        expected_pk = model_pk if postgres or not store_row else ["id"]
        migrated_pk = inspector.get_pk_constraint(table.name)["constrained_columns"]
        if migrated_pk != expected_pk:
            offending.append(f"{table.name}: primary key {migrated_pk}, expected {expected_pk}")
        for fk in inspector.get_foreign_keys(table.name):
            if fk["referred_table"] in distribution.GLOBAL_TABLES:
                continue
            columns, referred = fk["constrained_columns"], fk["referred_columns"]
            shape = (["store_id", columns[-1]], ["store_id", "id"]) if postgres else ([columns[0]], ["id"])
            if (columns, referred) != shape:
                offending.append(f"{table.name}: {columns} -> {fk['referred_table']} {referred}")
    assert offending == []


def test_a_deleted_customer_keeps_its_rows_store_and_other_ids(app, ctx):
    """A store key's ON DELETE acts on its own column only: SET NULL nulls customer_id and leaves store_id (the
    row's store, in its primary key; a plain SET NULL on (store_id, customer_id) would fail on it), CASCADE removes
    the row; the ORM's identity (id) still finds the rows left. The same on SQLite's single-column keys."""
    from datetime import UTC, datetime
    from decimal import Decimal

    from app.loyalty.models import LoyaltyAccount
    from app.records.models import Customer, Order
    from tests.helpers import add_store

    store = add_store()
    customer = Customer(store_id=store.id, platform_id="1", email="a@example.com", email_key="a@example.com")
    db.session.add(customer)
    db.session.flush()
    day = datetime(2026, 1, 2, tzinfo=UTC)
    order = Order(
        store_id=store.id, platform_id="10", customer_id=customer.id, currency="EUR", total_price=Decimal("9.50"),
        subtotal_price=Decimal("9.50"), placed_at=day, platform_updated_at=day,
    )  # fmt: skip
    db.session.add_all([order, LoyaltyAccount(store_id=store.id, customer_id=customer.id)])
    db.session.commit()
    order_id, customer_id = order.id, customer.id
    db.session.execute(sa.delete(Customer).where(Customer.store_id == store.id, Customer.id == customer_id))
    db.session.commit()
    db.session.expire_all()
    kept = db.session.get(Order, order_id)
    assert kept is not None and (kept.store_id, kept.customer_id) == (store.id, None)
    accounts = sa.select(sa.func.count()).select_from(LoyaltyAccount).where(LoyaltyAccount.store_id == store.id)
    assert db.session.scalar(accounts) == 0
