"""VIP tiers: when the tier was reached and when its window ends, and the history of tier changes

Revision ID: 0013_tiers
Revises: 0012_review_publish
Create Date: 2026-12-02 10:00:00

"""
from alembic import op
import sqlalchemy as sa

import app.platform.types  # noqa: F401  (UTCDateTime)


revision = '0013_tiers'
down_revision = '0012_review_publish'
branch_labels = None
depends_on = None

BIGID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
UTC = app.platform.types.UTCDateTime(timezone=True)


def upgrade():
    with op.batch_alter_table('loyalty_accounts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('tier_since', UTC, nullable=True))
        batch_op.add_column(sa.Column('tier_expires_at', UTC, nullable=True))
        batch_op.create_index('ix_loyalty_accounts_store_id_tier_expires_at', ['store_id', 'tier_expires_at'], unique=False)

    op.create_table('loyalty_tier_changes',
    sa.Column('id', BIGID, autoincrement=True, nullable=False),
    sa.Column('store_id', sa.Integer(), nullable=False),
    sa.Column('customer_id', BIGID, nullable=False),
    sa.Column('from_tier', sa.String(length=64), nullable=True),
    sa.Column('to_tier', sa.String(length=64), nullable=True),
    sa.Column('reason', sa.String(length=16), nullable=False),
    sa.Column('metrics', sa.JSON(), nullable=False),
    sa.Column('created_at', UTC, nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_loyalty_tier_changes_customer_id_customers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['store_id'], ['stores.id'], name=op.f('fk_loyalty_tier_changes_store_id_stores'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_loyalty_tier_changes'))
    )
    with op.batch_alter_table('loyalty_tier_changes', schema=None) as batch_op:
        batch_op.create_index('ix_loyalty_tier_changes_store_id_customer', ['store_id', 'customer_id'], unique=False)


def downgrade():
    with op.batch_alter_table('loyalty_tier_changes', schema=None) as batch_op:
        batch_op.drop_index('ix_loyalty_tier_changes_store_id_customer')
    op.drop_table('loyalty_tier_changes')
    with op.batch_alter_table('loyalty_accounts', schema=None) as batch_op:
        batch_op.drop_index('ix_loyalty_accounts_store_id_tier_expires_at')
        batch_op.drop_column('tier_expires_at')
        batch_op.drop_column('tier_since')
