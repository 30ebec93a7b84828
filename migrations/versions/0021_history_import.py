"""history import: one row per store (the merchant's choices, the cut-off, progress and the resume cursor)

Revision ID: 0021_history_import
Revises: 0020_dashboard_indexes
Create Date: 2026-12-06 23:30:00

"""
from alembic import op
import sqlalchemy as sa

import app.platform.types  # noqa: F401  (UTCDateTime)


# revision identifiers, used by Alembic.
revision = '0021_history_import'
down_revision = '0020_dashboard_indexes'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('history_imports',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('store_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('earn_points', sa.Boolean(), nullable=False),
    sa.Column('tiers_from_past', sa.Boolean(), nullable=False),
    sa.Column('cutoff_at', app.platform.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('phase', sa.String(length=16), nullable=False),
    sa.Column('cursor', sa.JSON(), nullable=False),
    sa.Column('customers_total', sa.Integer(), nullable=True),
    sa.Column('customers_done', sa.Integer(), nullable=False),
    sa.Column('orders_total', sa.Integer(), nullable=True),
    sa.Column('orders_done', sa.Integer(), nullable=False),
    sa.Column('failed', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('started_at', app.platform.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('finished_at', app.platform.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', app.platform.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', app.platform.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['store_id'], ['stores.id'], name=op.f('fk_history_imports_store_id_stores'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_history_imports')),
    sa.UniqueConstraint('store_id', name=op.f('uq_history_imports_store_id'))
    )


def downgrade():
    op.drop_table('history_imports')
