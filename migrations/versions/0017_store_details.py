"""store details: the store's time zone and contact e-mail, as the platform reports them

Revision ID: 0017_store_details
Revises: 0016_products
Create Date: 2026-12-06 22:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0017_store_details'
down_revision = '0016_products'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('stores') as batch_op:
        batch_op.add_column(sa.Column('timezone', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('contact_email', sa.String(length=320), nullable=True))


def downgrade():
    with op.batch_alter_table('stores') as batch_op:
        batch_op.drop_column('contact_email')
        batch_op.drop_column('timezone')
