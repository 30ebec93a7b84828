"""Keys within a store: the primary and foreign keys a PostgreSQL distributed by store_id (Citus) needs.

Citus wants store_id in every primary key and in every foreign key between distributed tables
(https://docs.citusdata.com/en/stable/develop/migration_mt_schema.html). The models say so, and migration 0033 made
it so on PostgreSQL: a store-scoped row's primary key is (id, store_id), a key to one is (store_id, x_id) ->
t(store_id, id). id comes first in the primary key's index: the ORM's updates and deletes, and the reads by id,
still find a row by id alone (PostgreSQL 15 cannot skip a leading store_id in a B-tree).

SQLite keeps its single-column keys: it autoincrements only an INTEGER PRIMARY KEY alone (the rowid,
https://www.sqlite.org/autoinc.html), and a composite foreign key needs a unique index on exactly the parent's
(store_id, id) (https://www.sqlite.org/foreignkeys.html#fk_indexes). The migrations leave SQLite's keys as they
were, and `sqlite_keeps_single_keys` tells Alembic's comparison (migrations/env.py, tests) to expect that.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ForeignKeyConstraint, Table
from sqlalchemy.sql.schema import Constraint, SchemaItem


class StoreRow:
    """A store-scoped row: the table's primary key is (id, store_id) (both columns say primary_key=True, in that
    order), the ORM's identity is id alone. So session.get(Model, id), relationships and the unit of work are
    unchanged, and an id taken from a URL is still checked against its store by the code that reads it."""

    __mapper_args__: Any = {"primary_key": ["id"]}


def store_fk(column: str, target: str, *, ondelete: str) -> ForeignKeyConstraint:
    """(store_id, column) -> target(store_id, id). A SET NULL key nulls `column` only: store_id is the row's own
    store (NOT NULL, part of its primary key), https://www.postgresql.org/docs/15/sql-createtable.html."""
    action = f"SET NULL ({column})" if ondelete == "SET NULL" else ondelete
    return ForeignKeyConstraint(
        ["store_id", column], [f"{target}.store_id", f"{target}.id"], ondelete=action, info={"store_key": column}
    )


def key_column(constraint: Constraint, _table: Table) -> str:
    """The naming convention's column of a foreign key (app/extensions.py): a store key is named after its own
    column, not store_id, so its name is the one the single-column key had (fk_orders_customer_id_customers)."""
    if isinstance(constraint, ForeignKeyConstraint):
        keys = constraint.column_keys
        return next((k for k in keys if k != "store_id"), keys[0])
    return ""


def sqlite_keeps_single_keys(
    obj: SchemaItem, _name: str | None, type_: str, reflected: bool, _compare_to: SchemaItem | None
) -> bool:
    """Alembic's include_object on SQLite: leave out of the comparison the models' store keys (store_fk) and the
    single-column keys SQLite has in their place (see the module's docstring). Every other object is compared."""
    if type_ != "foreign_key_constraint" or not isinstance(obj, ForeignKeyConstraint):
        return True
    if not reflected:
        return "store_key" not in obj.info
    from app.extensions import db

    model = db.metadata.tables.get(obj.table.name)
    columns = [c.name for c in obj.columns]
    if model is None or len(columns) != 1:
        return True
    return not any(fk.info.get("store_key") == columns[0] for fk in model.foreign_key_constraints)
