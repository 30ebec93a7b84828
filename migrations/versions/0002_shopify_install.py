"""shopify install: oauth state nonces and per-store install/webhook status

Revision ID: 0002_shopify_install
Revises: 0001_foundation
Create Date: 2026-11-23 20:30:00.000000

"""
from alembic import op
import sqlalchemy as sa

import app.platform.types  # noqa: F401  (UTCDateTime)


# revision identifiers, used by Alembic.
revision = '0002_shopify_install'
down_revision = '0001_foundation'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('shopify_oauth_states',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('state_hash', sa.String(length=64), nullable=False),
    sa.Column('shop', sa.String(length=255), nullable=False),
    sa.Column('expires_at', app.platform.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_at', app.platform.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_shopify_oauth_states')),
    sa.UniqueConstraint('state_hash', name=op.f('uq_shopify_oauth_states_state_hash'))
    )
    with op.batch_alter_table('shopify_oauth_states', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_shopify_oauth_states_expires_at'), ['expires_at'], unique=False)

    op.create_table('shopify_installs',
    sa.Column('store_id', sa.Integer(), nullable=False),
    sa.Column('scopes', sa.String(length=1024), nullable=True),
    sa.Column('webhooks_status', sa.String(length=16), nullable=False),
    sa.Column('webhooks', sa.JSON(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', app.platform.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', app.platform.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['store_id'], ['stores.id'], name=op.f('fk_shopify_installs_store_id_stores'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('store_id', name=op.f('pk_shopify_installs'))
    )


def downgrade():
    op.drop_table('shopify_installs')
    with op.batch_alter_table('shopify_oauth_states', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_shopify_oauth_states_expires_at'))

    op.drop_table('shopify_oauth_states')
