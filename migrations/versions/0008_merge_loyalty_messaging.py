"""merge the loyalty and messaging branches

Revision ID: 0008_merge_loyalty_messaging
Revises: 0006_loyalty, 0007_messaging
Create Date: 2026-12-01 23:25:00

"""

revision = '0008_merge_loyalty_messaging'
down_revision = ('0006_loyalty', '0007_messaging')
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
