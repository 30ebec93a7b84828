"""store keys: every store-scoped primary key is (id, store_id), every key between store-scoped tables is
(store_id, x_id) -> t(store_id, id), as a PostgreSQL distributed by store_id (Citus) needs (issue 25,
app/platform/store_keys.py, docs/deployment.md). PostgreSQL only: SQLite keeps its rowid keys.

Revision ID: 0033_store_keys
Revises: 0032_overview_loyalty
Create Date: 2026-12-07 14:50:00

"""

from alembic import op


# revision identifiers, used by Alembic.
revision = "0033_store_keys"
down_revision = "0032_overview_loyalty"
branch_labels = None
depends_on = None

#: The tables whose primary key was id alone (tests/distribution.py's PK_WITHOUT_STORE before this revision).
TABLES = (
    "audit_log", "campaign_batches", "campaign_runs", "campaign_sends", "campaigns", "compliance_requests",
    "customers", "delivery_updates", "email_suppressions", "fulfillments", "history_imports", "loyalty_accounts",
    "loyalty_store_state", "loyalty_tier_changes", "loyalty_writebacks", "message_cap_slots", "messages",
    "order_deletions", "order_refunds", "orders", "phone_contacts", "points_ledger", "products", "recovery_cases",
    "redemptions", "referral_codes", "referral_invites", "referrals", "review_publications", "review_requests",
    "reviews", "segments", "support_messages", "survey_requests", "surprises", "webhook_inbox",
)  # fmt: skip

#: (table, column, referred table, ON DELETE): the keys between store-scoped tables (FK_WITHOUT_STORE before).
KEYS = (
    ("campaign_batches", "run_id", "campaign_runs", "CASCADE"),
    ("campaign_members", "campaign_id", "campaigns", "CASCADE"),
    ("campaign_members", "customer_id", "customers", "CASCADE"),
    ("campaign_runs", "campaign_id", "campaigns", "CASCADE"),
    ("campaign_sends", "campaign_id", "campaigns", "CASCADE"),
    ("campaign_sends", "customer_id", "customers", "CASCADE"),
    ("loyalty_accounts", "customer_id", "customers", "CASCADE"),
    ("loyalty_tier_changes", "customer_id", "customers", "CASCADE"),
    ("loyalty_writebacks", "customer_id", "customers", "CASCADE"),
    ("message_cap_slots", "customer_id", "customers", "CASCADE"),
    ("message_cap_slots", "message_id", "messages", "CASCADE"),
    ("messages", "customer_id", "customers", "SET NULL"),
    ("orders", "customer_id", "customers", "SET NULL"),
    ("points_ledger", "customer_id", "customers", "CASCADE"),
    ("recovery_cases", "customer_id", "customers", "SET NULL"),
    ("redemptions", "customer_id", "customers", "CASCADE"),
    ("referral_codes", "customer_id", "customers", "CASCADE"),
    ("referral_invites", "referral_code_id", "referral_codes", "CASCADE"),
    ("referrals", "friend_customer_id", "customers", "SET NULL"),
    ("referrals", "invite_id", "referral_invites", "SET NULL"),
    ("referrals", "referrer_customer_id", "customers", "CASCADE"),
    ("review_requests", "customer_id", "customers", "SET NULL"),
    ("reviews", "customer_id", "customers", "SET NULL"),
    ("reviews", "request_id", "review_requests", "SET NULL"),
    ("support_messages", "customer_id", "customers", "SET NULL"),
    ("survey_requests", "customer_id", "customers", "SET NULL"),
    ("surprises", "customer_id", "customers", "SET NULL"),
)


def _postgres():
    return op.get_bind().dialect.name == "postgresql"


def _new_key_index(table):
    return f"pk_{table}_store"


def upgrade():
    if not _postgres():
        return  # SQLite autoincrements an INTEGER PRIMARY KEY alone: it keeps its keys (app/platform/store_keys.py)
    # 1. The new keys' indexes, built without blocking writes (each CREATE INDEX CONCURRENTLY outside a
    # transaction). An operator may have built them before (docs/deployment.md): IF NOT EXISTS keeps those.
    # A build that failed (a duplicate, a cancel) leaves an invalid index behind: dropped, so a rerun builds it again.
    with op.get_context().autocommit_block():
        invalid = op.get_bind().exec_driver_sql(
            "SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "WHERE NOT i.indisvalid AND left(c.relname, 3) = 'pk_' AND right(c.relname, 6) = '_store'"
        )
        for (name,) in invalid.all():
            op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")
        for table in TABLES:
            op.execute(f"CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS {_new_key_index(table)} ON {table} (id, store_id)")
    # 2. The swap, in one short transaction: no index build and no scan, only catalog changes (the new primary key
    # takes the index over and its name, https://www.postgresql.org/docs/15/sql-altertable.html, USING INDEX); the
    # keys are added NOT VALID, so no table is read under the lock. lock_timeout: behind a long transaction the swap
    # fails (rerun it) rather than queue every statement on these tables behind its own wait.
    op.execute("SET LOCAL lock_timeout = '10s'")
    for table, column, target, _ in KEYS:
        op.execute(f"ALTER TABLE {table} DROP CONSTRAINT fk_{table}_{column}_{target}")
    for table in TABLES:
        op.execute(
            f"ALTER TABLE {table} DROP CONSTRAINT pk_{table}, "
            f"ADD CONSTRAINT pk_{table} PRIMARY KEY USING INDEX {_new_key_index(table)}"
        )
    for table, column, target, ondelete in KEYS:
        action = f"SET NULL ({column})" if ondelete == "SET NULL" else ondelete
        op.execute(
            f"ALTER TABLE {table} ADD CONSTRAINT fk_{table}_{column}_{target} FOREIGN KEY (store_id, {column}) "
            f"REFERENCES {target} (store_id, id) ON DELETE {action} NOT VALID"
        )
    # 3. The rows already held checked against the new keys, each in its own transaction: VALIDATE takes a lock that
    # lets reads and writes go on (SHARE UPDATE EXCLUSIVE).
    with op.get_context().autocommit_block():
        for table, column, target, _ in KEYS:
            op.execute(f"ALTER TABLE {table} VALIDATE CONSTRAINT fk_{table}_{column}_{target}")


def downgrade():
    if not _postgres():
        return
    for table, column, target, _ in KEYS:
        op.execute(f"ALTER TABLE {table} DROP CONSTRAINT fk_{table}_{column}_{target}")
    for table in TABLES:
        op.execute(f"ALTER TABLE {table} DROP CONSTRAINT pk_{table}, ADD CONSTRAINT pk_{table} PRIMARY KEY (id)")
    for table, column, target, ondelete in KEYS:
        op.execute(
            f"ALTER TABLE {table} ADD CONSTRAINT fk_{table}_{column}_{target} FOREIGN KEY ({column}) "
            f"REFERENCES {target} (id) ON DELETE {ondelete}"
        )
