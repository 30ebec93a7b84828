"""woocommerce connect: wc-auth handshakes and per-store upkeep state

Revision ID: 0003_woocommerce_connect
Revises: 0002_shopify_install
Create Date: 2026-11-23 20:40:00.000000

"""
from alembic import op
import sqlalchemy as sa

import app.platform.types  # noqa: F401  (UTCDateTime)


# revision identifiers, used by Alembic.
revision = '0003_woocommerce_connect'
down_revision = '0002_shopify_install'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('woo_connections',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('user_id_hash', sa.String(length=64), nullable=False),
    sa.Column('site_url', sa.String(length=512), nullable=False),
    sa.Column('domain', sa.String(length=255), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('store_id', sa.Integer(), nullable=True),
    sa.Column('key_id', sa.String(length=32), nullable=True),
    sa.Column('consumer_key_hash', sa.String(length=64), nullable=True),
    sa.Column('refusal', sa.String(length=64), nullable=True),
    sa.Column('expires_at', app.platform.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_at', app.platform.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('completed_at', app.platform.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['store_id'], ['stores.id'], name=op.f('fk_woo_connections_store_id_stores'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_woo_connections')),
    sa.UniqueConstraint('user_id_hash', name=op.f('uq_woo_connections_user_id_hash'))
    )
    with op.batch_alter_table('woo_connections', schema=None) as batch_op:
        batch_op.create_index('ix_woo_connections_store_id', ['store_id'], unique=False)

    op.create_table('woo_store_state',
    sa.Column('store_id', sa.Integer(), nullable=False),
    sa.Column('api_url', sa.String(length=512), nullable=False),
    sa.Column('webhooks_status', sa.String(length=16), nullable=False),
    sa.Column('webhooks', sa.JSON(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('reconcile_watermark', app.platform.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_reconciled_at', app.platform.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('next_maintenance_at', app.platform.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', app.platform.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', app.platform.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['store_id'], ['stores.id'], name=op.f('fk_woo_store_state_store_id_stores'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('store_id', name=op.f('pk_woo_store_state'))
    )
    with op.batch_alter_table('woo_store_state', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_woo_store_state_next_maintenance_at'), ['next_maintenance_at'], unique=False)


def downgrade():
    with op.batch_alter_table('woo_store_state', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_woo_store_state_next_maintenance_at'))

    op.drop_table('woo_store_state')
    with op.batch_alter_table('woo_connections', schema=None) as batch_op:
        batch_op.drop_index('ix_woo_connections_store_id')

    op.drop_table('woo_connections')
