"""support messages: what shoppers send the merchant (get-help messages, low-rating alerts), stored first

Revision ID: 0018_support_messages
Revises: 0017_store_details
Create Date: 2026-12-06 23:00:00

"""
from alembic import op
import sqlalchemy as sa

import app.platform.types  # noqa: F401  (UTCDateTime)


# revision identifiers, used by Alembic.
revision = '0018_support_messages'
down_revision = '0017_store_details'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('support_messages',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('store_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('source_key', sa.String(length=191), nullable=False),
    sa.Column('customer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('order_platform_id', sa.String(length=64), nullable=True),
    sa.Column('order_name', sa.String(length=64), nullable=True),
    sa.Column('ref', sa.String(length=64), nullable=True),
    sa.Column('rating', sa.SmallInteger(), nullable=True),
    sa.Column('product_title', sa.String(length=255), nullable=True),
    sa.Column('body', sa.Text(), nullable=True),
    sa.Column('locale', sa.String(length=16), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('handled_at', app.platform.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('notified_at', app.platform.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('notify_attempts', sa.Integer(), nullable=False),
    sa.Column('next_notify_at', app.platform.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', app.platform.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_support_messages_customer_id_customers'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['store_id'], ['stores.id'], name=op.f('fk_support_messages_store_id_stores'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_support_messages')),
    sa.UniqueConstraint('store_id', 'source_key', name=op.f('uq_support_messages_store_id_source_key'))
    )
    with op.batch_alter_table('support_messages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_support_messages_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_support_messages_next_notify_at'), ['next_notify_at'], unique=False)
        batch_op.create_index('ix_support_messages_store_id_status_id', ['store_id', 'status', 'id'], unique=False)


def downgrade():
    with op.batch_alter_table('support_messages', schema=None) as batch_op:
        batch_op.drop_index('ix_support_messages_store_id_status_id')
        batch_op.drop_index(batch_op.f('ix_support_messages_next_notify_at'))
        batch_op.drop_index(batch_op.f('ix_support_messages_customer_id'))
    op.drop_table('support_messages')
