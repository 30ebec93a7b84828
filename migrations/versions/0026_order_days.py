"""order days: each order's place in its customer's chain of standing orders, and the per-store daily rollup the
Overview reads (records/order_days.py), filled from the orders held; covering indexes for the other sections

Revision ID: 0026_order_days
Revises: 0025_surveys
Create Date: 2026-12-07 02:00:00

"""
from alembic import op
import sqlalchemy as sa

import app.platform.types  # noqa: F401  (UTCDateTime)


# revision identifiers, used by Alembic.
revision = '0026_order_days'
down_revision = '0025_surveys'
branch_labels = None
depends_on = None

STANDING = "customer_id IS NOT NULL AND cancelled_at IS NULL AND deleted_at IS NULL"


def upgrade():
    with op.batch_alter_table('orders') as batch:
        batch.add_column(sa.Column('prev_placed_at', app.platform.types.UTCDateTime(), nullable=True))
        batch.add_column(sa.Column('next_placed_at', app.platform.types.UTCDateTime(), nullable=True))
    op.create_index(
        'ix_orders_standing_chain', 'orders', ['store_id', 'placed_at'],
        postgresql_include=['prev_placed_at', 'next_placed_at'],
        postgresql_where=sa.text(STANDING), sqlite_where=sa.text(STANDING),
    )
    op.create_table(
        'order_days',
        sa.Column('store_id', sa.Integer(), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('currency', sa.String(length=3), nullable=False),
        sa.Column('orders', sa.Integer(), nullable=False),
        sa.Column('returning_orders', sa.Integer(), nullable=False),
        sa.Column('revenue_units', sa.BigInteger(), nullable=False),
        sa.Column('returning_units', sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(['store_id'], ['stores.id'], name=op.f('fk_order_days_store_id_stores'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('store_id', 'day', 'currency', name=op.f('pk_order_days')),
    )
    # The other sections' period scans read from the index alone (PostgreSQL's INCLUDE; SQLite ignores it).
    op.drop_index('ix_points_ledger_store_id_created_at', table_name='points_ledger')
    op.create_index('ix_points_ledger_store_id_created_at', 'points_ledger', ['store_id', 'created_at'],
                    postgresql_include=['kind', 'points'])
    op.drop_index('ix_messages_store_id_sent_at', table_name='messages')
    op.create_index('ix_messages_store_id_sent_at', 'messages', ['store_id', 'sent_at'],
                    postgresql_include=['channel', 'status'])
    op.create_index('ix_reviews_store_id_created_at', 'reviews', ['store_id', 'created_at'],
                    postgresql_include=['rating'])
    op.create_index('ix_reviews_request_id', 'reviews', ['request_id'])
    op.create_index('ix_review_requests_store_id_sent_at', 'review_requests', ['store_id', 'sent_at'])
    # The orders already held: every store rebuilt by the code that keeps them (one window query per 5000
    # customers, one aggregate per store).
    from sqlalchemy.orm import Session

    from app.records import order_days

    session = Session(bind=op.get_bind())
    for (store_id,) in session.execute(sa.text("SELECT DISTINCT store_id FROM orders")).all():
        order_days.rebuild(session, store_id)
    session.flush()


def downgrade():
    op.drop_index('ix_review_requests_store_id_sent_at', table_name='review_requests')
    op.drop_index('ix_reviews_request_id', table_name='reviews')
    op.drop_index('ix_reviews_store_id_created_at', table_name='reviews')
    op.drop_index('ix_messages_store_id_sent_at', table_name='messages')
    op.create_index('ix_messages_store_id_sent_at', 'messages', ['store_id', 'sent_at'])
    op.drop_index('ix_points_ledger_store_id_created_at', table_name='points_ledger')
    op.create_index('ix_points_ledger_store_id_created_at', 'points_ledger', ['store_id', 'created_at'])
    op.drop_table('order_days')
    op.drop_index('ix_orders_standing_chain', table_name='orders')
    with op.batch_alter_table('orders') as batch:
        batch.drop_column('next_placed_at')
        batch.drop_column('prev_placed_at')
