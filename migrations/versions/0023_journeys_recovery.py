"""delivery journey and service recovery: the parcel's tracking facts on fulfilments, delivery_updates (one row per
state per parcel), recovery_cases (one per order)

Revision ID: 0023_journeys_recovery
Revises: 0022_channels
Create Date: 2026-12-07 01:37:19.933873

"""
from alembic import op
import sqlalchemy as sa

import app.platform.types  # noqa: F401  (UTCDateTime, Money)


# revision identifiers, used by Alembic.
revision = '0023_journeys_recovery'
down_revision = '0022_channels'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('delivery_updates',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('store_id', sa.Integer(), nullable=False),
    sa.Column('order_platform_id', sa.String(length=64), nullable=False),
    sa.Column('fulfillment_platform_id', sa.String(length=64), nullable=False),
    sa.Column('state', sa.String(length=24), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('message_id', sa.BigInteger(), nullable=True),
    sa.Column('created_at', app.platform.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['store_id'], ['stores.id'], name=op.f('fk_delivery_updates_store_id_stores'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_delivery_updates')),
    sa.UniqueConstraint('store_id', 'fulfillment_platform_id', 'state', name=op.f('uq_delivery_updates_store_id_fulfillment_platform_id_state'))
    )
    with op.batch_alter_table('delivery_updates', schema=None) as batch_op:
        batch_op.create_index('ix_delivery_updates_store_id_order', ['store_id', 'order_platform_id'], unique=False)
        batch_op.create_index('ix_delivery_updates_store_id_outcome', ['store_id', 'outcome'], unique=False)

    op.create_table('recovery_cases',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('store_id', sa.Integer(), nullable=False),
    sa.Column('order_platform_id', sa.String(length=64), nullable=False),
    sa.Column('order_name', sa.String(length=64), nullable=True),
    sa.Column('customer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('reason', sa.String(length=32), nullable=False),
    sa.Column('source', sa.String(length=191), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('coupon_kind', sa.String(length=16), nullable=False),
    sa.Column('coupon_value', app.platform.types.Money(precision=18, scale=4), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=True),
    sa.Column('expires_at', app.platform.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('coupon_platform_id', sa.String(length=128), nullable=True),
    sa.Column('used_order_platform_id', sa.String(length=64), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('locked_until', app.platform.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('next_attempt_at', app.platform.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.String(length=500), nullable=True),
    sa.Column('issued_at', app.platform.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('reversed_at', app.platform.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', app.platform.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', app.platform.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_recovery_cases_customer_id_customers'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['store_id'], ['stores.id'], name=op.f('fk_recovery_cases_store_id_stores'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recovery_cases')),
    sa.UniqueConstraint('store_id', 'code', name=op.f('uq_recovery_cases_store_id_code')),
    sa.UniqueConstraint('store_id', 'order_platform_id', name=op.f('uq_recovery_cases_store_id_order_platform_id'))
    )
    with op.batch_alter_table('recovery_cases', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recovery_cases_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index('ix_recovery_cases_status_next_attempt_at', ['status', 'next_attempt_at'], unique=False)
        batch_op.create_index('ix_recovery_cases_store_id_status_id', ['store_id', 'status', 'id'], unique=False)

    with op.batch_alter_table('fulfillments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('tracking_company', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('tracking_number', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('tracking_url', sa.String(length=512), nullable=True))
        batch_op.add_column(sa.Column('estimated_delivery_at', app.platform.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('carrier_statuses', sa.JSON(), nullable=True))
        batch_op.create_index('ix_fulfillments_store_id_estimated_delivery_at', ['store_id', 'estimated_delivery_at'], unique=False)



def downgrade():
    with op.batch_alter_table('fulfillments', schema=None) as batch_op:
        batch_op.drop_index('ix_fulfillments_store_id_estimated_delivery_at')
        batch_op.drop_column('carrier_statuses')
        batch_op.drop_column('estimated_delivery_at')
        batch_op.drop_column('tracking_url')
        batch_op.drop_column('tracking_number')
        batch_op.drop_column('tracking_company')

    with op.batch_alter_table('recovery_cases', schema=None) as batch_op:
        batch_op.drop_index('ix_recovery_cases_store_id_status_id')
        batch_op.drop_index('ix_recovery_cases_status_next_attempt_at')
        batch_op.drop_index(batch_op.f('ix_recovery_cases_customer_id'))

    op.drop_table('recovery_cases')
    with op.batch_alter_table('delivery_updates', schema=None) as batch_op:
        batch_op.drop_index('ix_delivery_updates_store_id_outcome')
        batch_op.drop_index('ix_delivery_updates_store_id_order')

    op.drop_table('delivery_updates')
