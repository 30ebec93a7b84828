"""review write-back outbox (review_publications) and reviews.platform_review_id

Revision ID: 0012_review_publish
Revises: 0011_reviews

"""
from alembic import op
import sqlalchemy as sa

import app.platform.types  # noqa: F401  (UTCDateTime)


# revision identifiers, used by Alembic.
revision = '0012_review_publish'
down_revision = '0011_reviews'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('review_publications',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('store_id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('due_at', app.platform.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('published_at', app.platform.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', app.platform.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', app.platform.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['store_id'], ['stores.id'], name=op.f('fk_review_publications_store_id_stores'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_review_publications')),
    sa.UniqueConstraint('store_id', 'product_id', name=op.f('uq_review_publications_store_id_product_id'))
    )
    with op.batch_alter_table('review_publications', schema=None) as batch_op:
        batch_op.create_index('ix_review_publications_status_due_at', ['status', 'due_at'], unique=False)
    with op.batch_alter_table('reviews', schema=None) as batch_op:
        batch_op.add_column(sa.Column('platform_review_id', sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table('reviews', schema=None) as batch_op:
        batch_op.drop_column('platform_review_id')
    with op.batch_alter_table('review_publications', schema=None) as batch_op:
        batch_op.drop_index('ix_review_publications_status_due_at')
    op.drop_table('review_publications')
