"""compliance requests (Shopify mandatory compliance webhooks)

Revision ID: 0004_compliance
Revises: 0003_woocommerce_connect
Create Date: 2026-11-24 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

import app.platform.types  # noqa: F401  (UTCDateTime)


# revision identifiers, used by Alembic.
revision = '0004_compliance'
down_revision = '0003_woocommerce_connect'
branch_labels = None
depends_on = None


def upgrade():
    # store_id and delivery_id are deliberately not foreign keys: the row is the
    # audit record of a shop/redact and must survive the deletion of the store.
    op.create_table('compliance_requests',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('store_id', sa.Integer(), nullable=False),
    sa.Column('delivery_id', sa.BigInteger(), nullable=False),
    sa.Column('platform', sa.String(length=16), nullable=False),
    sa.Column('topic', sa.String(length=64), nullable=False),
    sa.Column('shop_domain', sa.String(length=255), nullable=False),
    sa.Column('shop_platform_id', sa.String(length=64), nullable=True),
    sa.Column('customer_platform_id', sa.String(length=64), nullable=True),
    sa.Column('order_platform_ids', sa.JSON(), nullable=False),
    sa.Column('data_request_id', sa.String(length=64), nullable=True),
    sa.Column('requested_at', app.platform.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', app.platform.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('completed_at', app.platform.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('summary', sa.JSON(), nullable=False),
    sa.Column('export', sa.JSON(), nullable=True),
    sa.Column('export_purged_at', app.platform.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', app.platform.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_compliance_requests')),
    sa.UniqueConstraint('store_id', 'delivery_id', name=op.f('uq_compliance_requests_store_id_delivery_id'))
    )
    with op.batch_alter_table('compliance_requests', schema=None) as batch_op:
        batch_op.create_index('ix_compliance_requests_status_id', ['status', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_compliance_requests_store_id'), ['store_id'], unique=False)


def downgrade():
    with op.batch_alter_table('compliance_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_compliance_requests_store_id'))
        batch_op.drop_index('ix_compliance_requests_status_id')

    op.drop_table('compliance_requests')
