"""loyalty redemptions (discount codes) and the balance write-back outbox

Revision ID: 0014_redemptions
Revises: 0013_tiers
Create Date: 2026-12-02 10:00:00

"""
from alembic import op
import sqlalchemy as sa

import app.platform.types  # noqa: F401  (UTCDateTime)


revision = '0014_redemptions'
down_revision = '0013_tiers'
branch_labels = None
depends_on = None

BIGID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
UTC = app.platform.types.UTCDateTime(timezone=True)


def upgrade():
    op.create_table('redemptions',
    sa.Column('id', BIGID, autoincrement=True, nullable=False),
    sa.Column('store_id', sa.Integer(), nullable=False),
    sa.Column('customer_id', BIGID, nullable=False),
    sa.Column('reward_id', sa.String(length=64), nullable=False),
    sa.Column('reward', sa.JSON(), nullable=False),
    sa.Column('points', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('idempotency_key', sa.String(length=128), nullable=False),
    sa.Column('platform_discount_id', sa.String(length=128), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('next_attempt_at', UTC, nullable=True),
    sa.Column('expires_at', UTC, nullable=True),
    sa.Column('issued_at', UTC, nullable=True),
    sa.Column('used_order_platform_id', sa.String(length=64), nullable=True),
    sa.Column('created_at', UTC, nullable=False),
    sa.Column('updated_at', UTC, nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_redemptions_customer_id_customers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['store_id'], ['stores.id'], name=op.f('fk_redemptions_store_id_stores'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_redemptions')),
    sa.UniqueConstraint('store_id', 'code', name=op.f('uq_redemptions_store_id_code')),
    sa.UniqueConstraint('store_id', 'idempotency_key', name=op.f('uq_redemptions_store_id_idempotency_key'))
    )
    with op.batch_alter_table('redemptions', schema=None) as batch_op:
        batch_op.create_index('ix_redemptions_store_id_customer', ['store_id', 'customer_id'], unique=False)
        batch_op.create_index('ix_redemptions_status_next_attempt_at', ['status', 'next_attempt_at'], unique=False)

    op.create_table('loyalty_writebacks',
    sa.Column('id', BIGID, autoincrement=True, nullable=False),
    sa.Column('store_id', sa.Integer(), nullable=False),
    sa.Column('customer_id', BIGID, nullable=False),
    sa.Column('dirty_since', UTC, nullable=False),
    sa.Column('generation', sa.Integer(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('next_attempt_at', UTC, nullable=True),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_loyalty_writebacks_customer_id_customers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['store_id'], ['stores.id'], name=op.f('fk_loyalty_writebacks_store_id_stores'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_loyalty_writebacks')),
    sa.UniqueConstraint('store_id', 'customer_id', name=op.f('uq_loyalty_writebacks_store_id_customer_id'))
    )
    with op.batch_alter_table('loyalty_writebacks', schema=None) as batch_op:
        batch_op.create_index('ix_loyalty_writebacks_store_id_next_attempt_at', ['store_id', 'next_attempt_at'], unique=False)


def downgrade():
    op.drop_table('loyalty_writebacks')
    op.drop_table('redemptions')
