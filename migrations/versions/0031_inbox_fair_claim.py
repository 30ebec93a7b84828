"""inbox fair claim: a partial index of each store's pending deliveries, oldest first, for the claim's per-store
probes (app/inbox/claim.py)

Revision ID: 0031_inbox_fair_claim
Revises: 0030_campaigns
Create Date: 2026-12-07 08:30:00

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0031_inbox_fair_claim"
down_revision = "0030_campaigns"
branch_labels = None
depends_on = None

PENDING = "status = 'pending'"


def upgrade():
    op.create_index(
        "ix_webhook_inbox_pending_store", "webhook_inbox", ["store_id", "id"],
        postgresql_where=sa.text(PENDING), sqlite_where=sa.text(PENDING),
    )


def downgrade():
    op.drop_index("ix_webhook_inbox_pending_store", table_name="webhook_inbox")
