"""campaigns: a segment as a message's audience (docs/campaigns.md): campaigns, their runs, the runs' batches (the
fan-out's outbox), one send per customer per run (unique: exactly once) and a recurring campaign's memory of its
members

Revision ID: 0030_campaigns
Revises: 0029_customer_country_tags
Create Date: 2026-12-07 05:01:32

"""

from alembic import op
import sqlalchemy as sa

import app.platform.types  # noqa: F401  (UTCDateTime, Money)


# revision identifiers, used by Alembic.
revision = "0030_campaigns"
down_revision = "0029_customer_country_tags"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "campaigns",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("store_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("segment_key", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("texts", sa.JSON(), nullable=False),
        sa.Column("coupon", sa.JSON(), nullable=True),
        sa.Column("every_days", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("next_run_at", app.platform.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("runs", sa.Integer(), nullable=False),
        sa.Column("created_at", app.platform.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("cancelled_at", app.platform.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["store_id"], ["stores.id"], name=op.f("fk_campaigns_store_id_stores"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaigns")),
    )
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.create_index("ix_campaigns_status_next_run_at", ["status", "next_run_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_campaigns_store_id"), ["store_id"], unique=False)

    op.create_table(
        "campaign_members",
        sa.Column("campaign_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("store_id", sa.Integer(), nullable=False),
        sa.Column("seen_run", sa.Integer(), nullable=False),
        sa.Column("sent_run", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_campaign_members_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_campaign_members_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["store_id"], ["stores.id"], name=op.f("fk_campaign_members_store_id_stores"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("campaign_id", "customer_id", "store_id", name=op.f("pk_campaign_members")),
    )
    with op.batch_alter_table("campaign_members", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_campaign_members_store_id"), ["store_id"], unique=False)

    op.create_table(
        "campaign_runs",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("store_id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("run", sa.Integer(), nullable=False),
        sa.Column("as_of", app.platform.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("cursor", sa.BigInteger(), nullable=False),
        sa.Column("batches", sa.Integer(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("locked_until", app.platform.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", app.platform.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", app.platform.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"], name=op.f("fk_campaign_runs_campaign_id_campaigns"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["store_id"], ["stores.id"], name=op.f("fk_campaign_runs_store_id_stores"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_runs")),
        sa.UniqueConstraint("store_id", "campaign_id", "run", name=op.f("uq_campaign_runs_store_id_campaign_id_run")),
    )
    with op.batch_alter_table("campaign_runs", schema=None) as batch_op:
        batch_op.create_index("ix_campaign_runs_status_locked_until", ["status", "locked_until"], unique=False)
        batch_op.create_index(batch_op.f("ix_campaign_runs_store_id"), ["store_id"], unique=False)

    op.create_table(
        "campaign_sends",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("store_id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("run", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=True),
        sa.Column("code", sa.String(length=32), nullable=True),
        sa.Column("coupon_value", app.platform.types.Money(precision=18, scale=4), nullable=True),
        sa.Column("coupon_platform_id", sa.String(length=128), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("locked_until", app.platform.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("next_attempt_at", app.platform.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("created_at", app.platform.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"], name=op.f("fk_campaign_sends_campaign_id_campaigns"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_campaign_sends_customer_id_customers"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["store_id"], ["stores.id"], name=op.f("fk_campaign_sends_store_id_stores"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_sends")),
        sa.UniqueConstraint(
            "store_id",
            "campaign_id",
            "run",
            "customer_id",
            name=op.f("uq_campaign_sends_store_id_campaign_id_run_customer_id"),
        ),
        sa.UniqueConstraint("store_id", "code", name=op.f("uq_campaign_sends_store_id_code")),
    )
    with op.batch_alter_table("campaign_sends", schema=None) as batch_op:
        batch_op.create_index(
            "ix_campaign_sends_campaign_id_run_status", ["campaign_id", "run", "status"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_campaign_sends_customer_id"), ["customer_id"], unique=False)
        batch_op.create_index("ix_campaign_sends_status_next_attempt_at", ["status", "next_attempt_at"], unique=False)

    op.create_table(
        "campaign_batches",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("store_id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("first_id", sa.BigInteger(), nullable=False),
        sa.Column("last_id", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("locked_until", app.platform.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("next_attempt_at", app.platform.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["run_id"], ["campaign_runs.id"], name=op.f("fk_campaign_batches_run_id_campaign_runs"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["store_id"], ["stores.id"], name=op.f("fk_campaign_batches_store_id_stores"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_batches")),
        sa.UniqueConstraint(
            "store_id", "run_id", "first_id", name=op.f("uq_campaign_batches_store_id_run_id_first_id")
        ),
    )
    with op.batch_alter_table("campaign_batches", schema=None) as batch_op:
        batch_op.create_index("ix_campaign_batches_status_next_attempt_at", ["status", "next_attempt_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_campaign_batches_store_id"), ["store_id"], unique=False)


def downgrade():
    with op.batch_alter_table("campaign_batches", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_campaign_batches_store_id"))
        batch_op.drop_index("ix_campaign_batches_status_next_attempt_at")

    op.drop_table("campaign_batches")
    with op.batch_alter_table("campaign_sends", schema=None) as batch_op:
        batch_op.drop_index("ix_campaign_sends_status_next_attempt_at")
        batch_op.drop_index(batch_op.f("ix_campaign_sends_customer_id"))
        batch_op.drop_index("ix_campaign_sends_campaign_id_run_status")

    op.drop_table("campaign_sends")
    with op.batch_alter_table("campaign_runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_campaign_runs_store_id"))
        batch_op.drop_index("ix_campaign_runs_status_locked_until")

    op.drop_table("campaign_runs")
    with op.batch_alter_table("campaign_members", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_campaign_members_store_id"))

    op.drop_table("campaign_members")
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_campaigns_store_id"))
        batch_op.drop_index("ix_campaigns_status_next_run_at")

    op.drop_table("campaigns")
