"""overview loyalty: the loyalty ledger's daily rollup the Overview reads (points given and redeemed per store and
UTC day, app/loyalty/points_days.py), filled from the ledger rows held; customers by (store, currency) for the
points liability (app/loyalty/report.py)

Revision ID: 0032_overview_loyalty
Revises: 0031_inbox_fair_claim
Create Date: 2026-12-07 11:40:00

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0032_overview_loyalty"
down_revision = "0031_inbox_fair_claim"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'points_days',
        sa.Column('store_id', sa.Integer(), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('issued', sa.BigInteger(), nullable=False),
        sa.Column('redeemed', sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(['store_id'], ['stores.id'], name=op.f('fk_points_days_store_id_stores'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('store_id', 'day', name=op.f('pk_points_days')),
    )
    op.create_index('ix_customers_store_id_currency', 'customers', ['store_id', 'currency'],
                    postgresql_include=['id'])
    # The rows already held, every store, by the code that keeps them (one aggregate per store).
    from sqlalchemy.orm import Session

    from app.loyalty import points_days

    session = Session(bind=op.get_bind())
    for store_id in session.execute(sa.text("SELECT DISTINCT store_id FROM points_ledger")).scalars().all():
        points_days.rebuild(session, store_id)
    session.flush()


def downgrade():
    op.drop_index('ix_customers_store_id_currency', table_name='customers')
    op.drop_table('points_days')
