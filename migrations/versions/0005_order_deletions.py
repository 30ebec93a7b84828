"""order deletions that arrive before their order

Revision ID: 0005_order_deletions
Revises: 0004_compliance
Create Date: 2026-11-23 21:10:00

"""
from alembic import op
import sqlalchemy as sa

import app.platform.types  # noqa: F401  (UTCDateTime)


revision = '0005_order_deletions'
down_revision = '0004_compliance'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('order_deletions',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('store_id', sa.Integer(), nullable=False),
    sa.Column('order_platform_id', sa.String(length=64), nullable=False),
    sa.Column('deleted_at', app.platform.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['store_id'], ['stores.id'], name=op.f('fk_order_deletions_store_id_stores'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_order_deletions')),
    sa.UniqueConstraint('store_id', 'order_platform_id', name=op.f('uq_order_deletions_store_id_order_platform_id'))
    )


def downgrade():
    op.drop_table('order_deletions')
