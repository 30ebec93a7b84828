"""loyalty points ledger, accounts (cached sums) and the scheduler watermark

Revision ID: 0006_loyalty
Revises: 0005_order_deletions
Create Date: 2026-11-25 10:00:00

"""
from alembic import op
import sqlalchemy as sa

import app.platform.types  # noqa: F401  (UTCDateTime)


revision = '0006_loyalty'
down_revision = '0005_order_deletions'
branch_labels = None
depends_on = None

BIGID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
UTC = app.platform.types.UTCDateTime(timezone=True)


def upgrade():
    op.create_table('points_ledger',
    sa.Column('id', BIGID, autoincrement=True, nullable=False),
    sa.Column('store_id', sa.Integer(), nullable=False),
    sa.Column('customer_id', BIGID, nullable=False),
    sa.Column('source_key', sa.String(length=191), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('points', sa.Integer(), nullable=False),
    sa.Column('order_platform_id', sa.String(length=64), nullable=True),
    sa.Column('rule', sa.JSON(), nullable=False),
    sa.Column('available_at', UTC, nullable=True),
    sa.Column('created_at', UTC, nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_points_ledger_customer_id_customers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['store_id'], ['stores.id'], name=op.f('fk_points_ledger_store_id_stores'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_points_ledger')),
    sa.UniqueConstraint('store_id', 'source_key', name=op.f('uq_points_ledger_store_id_source_key'))
    )
    with op.batch_alter_table('points_ledger', schema=None) as batch_op:
        batch_op.create_index('ix_points_ledger_store_id_order', ['store_id', 'order_platform_id'], unique=False)
        batch_op.create_index('ix_points_ledger_store_id_customer', ['store_id', 'customer_id'], unique=False)
        batch_op.create_index('ix_points_ledger_store_id_available_at', ['store_id', 'available_at'], unique=False)

    op.create_table('loyalty_accounts',
    sa.Column('id', BIGID, autoincrement=True, nullable=False),
    sa.Column('store_id', sa.Integer(), nullable=False),
    sa.Column('customer_id', BIGID, nullable=False),
    sa.Column('balance', sa.Integer(), nullable=False),
    sa.Column('pending', sa.Integer(), nullable=False),
    sa.Column('spendable', sa.Integer(), nullable=False),
    sa.Column('held', sa.Integer(), nullable=False),
    sa.Column('lifetime_earned', sa.Integer(), nullable=False),
    sa.Column('last_activity_at', UTC, nullable=True),
    sa.Column('expires_at', UTC, nullable=True),
    sa.Column('reminder_due_at', UTC, nullable=True),
    sa.Column('tier', sa.String(length=64), nullable=True),
    sa.Column('refreshed_at', UTC, nullable=True),
    sa.Column('updated_at', UTC, nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_loyalty_accounts_customer_id_customers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['store_id'], ['stores.id'], name=op.f('fk_loyalty_accounts_store_id_stores'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_loyalty_accounts')),
    sa.UniqueConstraint('store_id', 'customer_id', name=op.f('uq_loyalty_accounts_store_id_customer_id'))
    )
    with op.batch_alter_table('loyalty_accounts', schema=None) as batch_op:
        batch_op.create_index('ix_loyalty_accounts_store_id_expires_at', ['store_id', 'expires_at'], unique=False)

    op.create_table('loyalty_store_state',
    sa.Column('id', BIGID, autoincrement=True, nullable=False),
    sa.Column('store_id', sa.Integer(), nullable=False),
    sa.Column('available_watermark', UTC, nullable=True),
    sa.Column('updated_at', UTC, nullable=False),
    sa.ForeignKeyConstraint(['store_id'], ['stores.id'], name=op.f('fk_loyalty_store_state_store_id_stores'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_loyalty_store_state')),
    sa.UniqueConstraint('store_id', name=op.f('uq_loyalty_store_state_store_id'))
    )


def downgrade():
    op.drop_table('loyalty_store_state')
    with op.batch_alter_table('loyalty_accounts', schema=None) as batch_op:
        batch_op.drop_index('ix_loyalty_accounts_store_id_expires_at')
    op.drop_table('loyalty_accounts')
    with op.batch_alter_table('points_ledger', schema=None) as batch_op:
        batch_op.drop_index('ix_points_ledger_store_id_available_at')
        batch_op.drop_index('ix_points_ledger_store_id_customer')
        batch_op.drop_index('ix_points_ledger_store_id_order')
    op.drop_table('points_ledger')
