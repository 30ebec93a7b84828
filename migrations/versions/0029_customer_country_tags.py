"""customer country and tags: the segments' `country` and `tag` conditions (docs/segments.md), filled as customer
and order webhooks arrive (records/customers.py); NULL for customers not seen since (never said)

Revision ID: 0029_customer_country_tags
Revises: 0027_surprises
Create Date: 2026-12-07 05:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0029_customer_country_tags'
down_revision = '0027_surprises'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('customers') as batch:
        batch.add_column(sa.Column('country', sa.String(length=2), nullable=True))
        batch.add_column(sa.Column('tags', sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table('customers') as batch:
        batch.drop_column('tags')
        batch.drop_column('country')
