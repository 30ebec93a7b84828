"""products: a cache of product titles, images and links for the messages

Revision ID: 0016_products
Revises: 0015_referrals
Create Date: 2026-12-02 10:00:00

"""
from alembic import op
import sqlalchemy as sa

import app.platform.types  # noqa: F401  (UTCDateTime)


# revision identifiers, used by Alembic.
revision = '0016_products'
down_revision = '0015_referrals'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('products',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('store_id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.String(length=64), nullable=False),
    sa.Column('found', sa.Boolean(), nullable=False),
    sa.Column('title', sa.String(length=512), nullable=True),
    sa.Column('image_url', sa.Text(), nullable=True),
    sa.Column('url', sa.Text(), nullable=True),
    sa.Column('fetched_at', app.platform.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['store_id'], ['stores.id'], name=op.f('fk_products_store_id_stores'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_products')),
    sa.UniqueConstraint('store_id', 'product_id', name=op.f('uq_products_store_id_product_id'))
    )


def downgrade():
    op.drop_table('products')
