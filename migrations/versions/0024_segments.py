"""segments: the merchant's own segments, each store's purchase rhythm (interval, VIP spend), customers by recency

Revision ID: 0024_segments
Revises: 0023_journeys_recovery
Create Date: 2026-12-07 02:00:00

"""

from alembic import op
import sqlalchemy as sa

import app.platform.types  # noqa: F401  (UTCDateTime, Money)


# revision identifiers, used by Alembic.
revision = "0024_segments"
down_revision = "0023_journeys_recovery"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "segments",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("store_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("conditions", sa.JSON(), nullable=False),
        sa.Column("created_at", app.platform.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.platform.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["store_id"], ["stores.id"], name=op.f("fk_segments_store_id_stores"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_segments")),
        sa.UniqueConstraint("store_id", "key", name=op.f("uq_segments_store_id_key")),
    )
    op.create_table(
        "segment_rhythms",
        sa.Column("store_id", sa.Integer(), nullable=False),
        sa.Column("interval_days", sa.Integer(), nullable=False),
        sa.Column("repeat_customers", sa.Integer(), nullable=False),
        sa.Column("vip_currency", sa.String(length=3), nullable=True),
        sa.Column("vip_spend", app.platform.types.Money(), nullable=True),
        sa.Column("computed_at", app.platform.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["store_id"], ["stores.id"], name=op.f("fk_segment_rhythms_store_id_stores"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("store_id", name=op.f("pk_segment_rhythms")),
    )
    op.create_index("ix_customers_store_id_last_order_at", "customers", ["store_id", "last_order_at"], unique=False)


def downgrade():
    op.drop_index("ix_customers_store_id_last_order_at", table_name="customers")
    op.drop_table("segment_rhythms")
    op.drop_table("segments")
