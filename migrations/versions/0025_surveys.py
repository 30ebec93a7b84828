"""surveys: one post-delivery survey request per order, its answer stored once

Revision ID: 0025_surveys
Revises: 0024_segments
Create Date: 2026-12-07 02:40:00

"""

import sqlalchemy as sa
from alembic import op

import app.platform.types  # noqa: F401  (UTCDateTime)

# revision identifiers, used by Alembic.
revision = "0025_surveys"
down_revision = "0024_segments"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "survey_requests",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("store_id", sa.Integer(), nullable=False),
        sa.Column("order_platform_id", sa.String(length=64), nullable=False),
        sa.Column("customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("due_at", app.platform.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("sent_at", app.platform.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("locale", sa.String(length=16), nullable=True),
        sa.Column("score", sa.Integer(), nullable=True),
        sa.Column("group", sa.String(length=16), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("answered_at", app.platform.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.String(length=32), nullable=True),
        sa.Column("created_at", app.platform.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.platform.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_survey_requests_customer_id_customers"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["store_id"], ["stores.id"], name=op.f("fk_survey_requests_store_id_stores"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_requests")),
        sa.UniqueConstraint("store_id", "order_platform_id", name=op.f("uq_survey_requests_store_id_order_platform_id")),
    )
    op.create_index("ix_survey_requests_status_due_at", "survey_requests", ["status", "due_at"], unique=False)
    op.create_index(
        "ix_survey_requests_store_id_answered_at", "survey_requests", ["store_id", "answered_at"], unique=False
    )


def downgrade():
    op.drop_index("ix_survey_requests_store_id_answered_at", table_name="survey_requests")
    op.drop_index("ix_survey_requests_status_due_at", table_name="survey_requests")
    op.drop_table("survey_requests")
