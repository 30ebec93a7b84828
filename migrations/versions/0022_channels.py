"""channels: SMS and WhatsApp on the outbox, phone contacts (opt-outs, 24-hour window), daily cap slots,
provider callbacks, customer phone and per-channel consent

Revision ID: 0022_channels
Revises: 0021_history_import
Create Date: 2026-12-07 01:45:00

"""
from alembic import op
import sqlalchemy as sa

import app.platform.types  # noqa: F401  (UTCDateTime, Money)


# revision identifiers, used by Alembic.
revision = '0022_channels'
down_revision = '0021_history_import'
branch_labels = None
depends_on = None

_BIGID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade():
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('purpose', sa.String(length=16), nullable=False, server_default='transactional'))
        batch_op.add_column(sa.Column('to_phone', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('reason', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('provider_ref', sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column('delivery_status', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('cost', app.platform.types.Money(), nullable=True))
        batch_op.add_column(sa.Column('cost_currency', sa.String(length=3), nullable=True))
        batch_op.create_index('ix_messages_channel_provider_ref', ['channel', 'provider_ref'], unique=False)

    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('phone_e164', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('sms_consent', sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column('sms_marketing_consent', sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column('whatsapp_consent', sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column('whatsapp_marketing_consent', sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column('preferred_channel', sa.String(length=16), nullable=True))

    op.create_table('phone_contacts',
    sa.Column('id', _BIGID, autoincrement=True, nullable=False),
    sa.Column('store_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('phone_key', sa.String(length=64), nullable=False),
    sa.Column('opted_out_at', app.platform.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('opt_out_reason', sa.String(length=32), nullable=True),
    sa.Column('last_inbound_at', app.platform.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('updated_at', app.platform.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['store_id'], ['stores.id'], name=op.f('fk_phone_contacts_store_id_stores'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_phone_contacts')),
    sa.UniqueConstraint('store_id', 'channel', 'phone_key', name=op.f('uq_phone_contacts_store_id_channel_phone_key'))
    )
    op.create_table('message_cap_slots',
    sa.Column('id', _BIGID, autoincrement=True, nullable=False),
    sa.Column('store_id', sa.Integer(), nullable=False),
    sa.Column('customer_id', _BIGID, nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('slot', sa.Integer(), nullable=False),
    sa.Column('message_id', _BIGID, nullable=False),
    sa.Column('created_at', app.platform.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_message_cap_slots_customer_id_customers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['message_id'], ['messages.id'], name=op.f('fk_message_cap_slots_message_id_messages'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['store_id'], ['stores.id'], name=op.f('fk_message_cap_slots_store_id_stores'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_message_cap_slots')),
    sa.UniqueConstraint('store_id', 'customer_id', 'day', 'slot', name=op.f('uq_message_cap_slots_store_id_customer_id_day_slot'))
    )
    op.create_table('provider_callbacks',
    sa.Column('id', _BIGID, autoincrement=True, nullable=False),
    sa.Column('provider', sa.String(length=16), nullable=False),
    sa.Column('dedupe_key', sa.String(length=191), nullable=False),
    sa.Column('body', sa.LargeBinary(), nullable=False),
    sa.Column('received_at', app.platform.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', app.platform.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('locked_until', app.platform.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('processed_at', app.platform.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_provider_callbacks')),
    sa.UniqueConstraint('provider', 'dedupe_key', name=op.f('uq_provider_callbacks_provider_dedupe_key'))
    )
    with op.batch_alter_table('provider_callbacks', schema=None) as batch_op:
        batch_op.create_index('ix_provider_callbacks_status_id', ['status', 'id'], unique=False)


def downgrade():
    with op.batch_alter_table('provider_callbacks', schema=None) as batch_op:
        batch_op.drop_index('ix_provider_callbacks_status_id')
    op.drop_table('provider_callbacks')
    op.drop_table('message_cap_slots')
    op.drop_table('phone_contacts')
    with op.batch_alter_table('customers', schema=None) as batch_op:
        for name in ('preferred_channel', 'whatsapp_marketing_consent', 'whatsapp_consent', 'sms_marketing_consent',
                     'sms_consent', 'phone_e164'):
            batch_op.drop_column(name)
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_index('ix_messages_channel_provider_ref')
        for name in ('cost_currency', 'cost', 'delivery_status', 'provider_ref', 'reason', 'to_phone', 'purpose'):
            batch_op.drop_column(name)
