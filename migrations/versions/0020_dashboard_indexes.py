"""dashboard indexes: the Overview's period scans (orders by placing time and by customer, ledger rows and e-mails by time)

Revision ID: 0020_dashboard_indexes
Revises: 0019_audit_log
Create Date: 2026-12-06 23:30:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0020_dashboard_indexes'
down_revision = '0019_audit_log'
branch_labels = None
depends_on = None


def upgrade():
    # (store_id, customer_id, placed_at) answers "an earlier order of this customer" with one index probe and
    # replaces (store_id, customer_id), its prefix.
    op.create_index('ix_orders_store_id_customer_id_placed_at', 'orders', ['store_id', 'customer_id', 'placed_at'])
    op.drop_index('ix_orders_store_id_customer_id', table_name='orders')
    op.create_index('ix_orders_store_id_placed_at', 'orders', ['store_id', 'placed_at'])
    op.create_index('ix_points_ledger_store_id_created_at', 'points_ledger', ['store_id', 'created_at'])
    op.create_index('ix_messages_store_id_sent_at', 'messages', ['store_id', 'sent_at'])


def downgrade():
    op.drop_index('ix_messages_store_id_sent_at', table_name='messages')
    op.drop_index('ix_points_ledger_store_id_created_at', table_name='points_ledger')
    op.drop_index('ix_orders_store_id_placed_at', table_name='orders')
    op.create_index('ix_orders_store_id_customer_id', 'orders', ['store_id', 'customer_id'])
    op.drop_index('ix_orders_store_id_customer_id_placed_at', table_name='orders')
