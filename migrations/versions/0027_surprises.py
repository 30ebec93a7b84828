"""repeat-customer surprises: one row per (store, customer, threshold), the decision and the outbox of its code
or points (app/surprises/models.py)

Revision ID: 0027_surprises
Revises: 0026_order_days
Create Date: 2026-12-07 05:00:00

"""

from alembic import op
import sqlalchemy as sa

import app.platform.types  # noqa: F401  (UTCDateTime, Money)


# revision identifiers, used by Alembic.
revision = "0027_surprises"
down_revision = "0026_order_days"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "surprises",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("store_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("threshold", sa.Integer(), nullable=False),
        sa.Column("order_platform_id", sa.String(length=64), nullable=False),
        sa.Column("order_name", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("skip_reason", sa.String(length=32), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("value", app.platform.types.Money(precision=18, scale=4), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=True),
        sa.Column("expires_at", app.platform.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("code_platform_id", sa.String(length=128), nullable=True),
        sa.Column("used_order_platform_id", sa.String(length=64), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("locked_until", app.platform.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("next_attempt_at", app.platform.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("issued_at", app.platform.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("reversed_at", app.platform.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", app.platform.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.platform.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_surprises_customer_id_customers"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["store_id"], ["stores.id"], name=op.f("fk_surprises_store_id_stores"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_surprises")),
        sa.UniqueConstraint("store_id", "code", name=op.f("uq_surprises_store_id_code")),
        sa.UniqueConstraint(
            "store_id", "customer_id", "threshold", name=op.f("uq_surprises_store_id_customer_id_threshold")
        ),
    )
    with op.batch_alter_table("surprises", schema=None) as batch_op:
        batch_op.create_index("ix_surprises_status_next_attempt_at", ["status", "next_attempt_at"], unique=False)
        batch_op.create_index("ix_surprises_store_id_order", ["store_id", "order_platform_id"], unique=False)
        batch_op.create_index("ix_surprises_store_id_status_id", ["store_id", "status", "id"], unique=False)


def downgrade():
    with op.batch_alter_table("surprises", schema=None) as batch_op:
        batch_op.drop_index("ix_surprises_store_id_status_id")
        batch_op.drop_index("ix_surprises_store_id_order")
        batch_op.drop_index("ix_surprises_status_next_attempt_at")

    op.drop_table("surprises")
