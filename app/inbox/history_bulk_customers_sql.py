"""The customers' bulk history path's SQL (PostgreSQL): the staging table and the two statements that write the
accounts of one chunk by the webhooks' identity and detail rules. Used by inbox/history_bulk_customers.py.

Which row a snapshot lands on was decided before (the account by its platform id, else a guest by its e-mail,
else a new row: records/customers.resolve_customer), so here every staged row says its target: `is_new` rows
are inserted with the ids drawn for them, the others update the row `id`. The update spells
records/customers._apply_details (an account's snapshot is always `from_account`):
- it is `newer` when the row's details came from a guest order (the account outranks them), or when its
  `updated_at` is not older than the one held (an undated snapshot never is);
- a detail (name, phone, locale, consent, country, tags, the E.164 phone) is overwritten when newer, else only
  fills a blank; a NULL in the snapshot never erases;
- the e-mail key moves to the snapshot's when newer or blank (the chunk was split so that no other row holds it),
  the address follows the key, or is respelled by a newer snapshot of the same key, or fills a blank;
- a newer snapshot marks the details as the account's and takes its timestamp (a guest order's is forgotten on
  the switch); a guest found by its e-mail gets the platform id (the guest signed up).
Every SET expression reads the row as it was before the statement, as `newer` is decided before any field moves.
https://www.postgresql.org/docs/current/sql-update.html
"""

from __future__ import annotations

#: records/customers._DETAIL_FIELDS with the E.164 phone, which follows the same newer-or-blank rule.
DETAILS = (
    "first_name", "last_name", "phone", "locale", "accepts_marketing", "sms_marketing_consent", "sms_consent",
    "whatsapp_consent", "whatsapp_marketing_consent", "preferred_channel", "country", "tags", "phone_e164",
)  # fmt: skip
COLUMNS = ("id", "is_new", "platform_id", "email", "email_key", *DETAILS, "platform_updated_at")

#: ON COMMIT DROP: staging lives for one chunk's transaction. Text columns: a value too long for the real column
#: fails the statement as it fails the ORM's INSERT (the chunk then goes the batch path, a document at a time).
STAGING = """
CREATE TEMP TABLE hist_customer_rows (id bigint, is_new boolean, platform_id text, email text, email_key text,
  first_name text, last_name text, phone text, locale text, accepts_marketing boolean,
  sms_marketing_consent boolean, sms_consent boolean, whatsapp_consent boolean, whatsapp_marketing_consent boolean,
  preferred_channel text, country text, tags text, phone_e164 text, platform_updated_at timestamptz) ON COMMIT DROP
"""

#: Ids for the new rows, drawn ahead from the table's sequence (as records/batch_rows.new_customer_id does).
NEXT_IDS = "SELECT nextval(pg_get_serial_sequence('customers', 'id')) FROM generate_series(1, %(n)s)"

#: A new account: every detail from the snapshot, the details its own, and the totals of no orders as
#: records/customers.apply_totals gives them (none counted, nothing spent, the store's currency).
INSERT_NEW = f"""
INSERT INTO customers (id, store_id, platform_id, email, email_key, {", ".join(DETAILS)}, platform_updated_at,
  details_from_account, orders_count, currency, total_spent, total_refunded, spent_by_currency, created_at,
  updated_at)
SELECT id, %(store)s, platform_id, email, email_key, {", ".join(DETAILS)}, platform_updated_at, true, 0,
  %(currency)s, 0, 0, '{{}}'::json, %(now)s, %(now)s
FROM hist_customer_rows WHERE is_new
"""  # noqa: S608  (our own column lists, no input)

_FROM_GUEST = "NOT COALESCE(c.details_from_account, false)"
_NEWER = (
    f"({_FROM_GUEST} OR (s.platform_updated_at IS NOT NULL"
    " AND (c.platform_updated_at IS NULL OR s.platform_updated_at >= c.platform_updated_at)))"
)
_KEY_MOVES = (
    f"(s.email_key IS NOT NULL AND ({_NEWER} OR c.email_key IS NULL) AND c.email_key IS DISTINCT FROM s.email_key)"
)

UPDATE_HELD = f"""
UPDATE customers c SET platform_id = COALESCE(c.platform_id, s.platform_id),
{", ".join(f"{f} = CASE WHEN s.{f} IS NOT NULL AND ({_NEWER} OR c.{f} IS NULL) THEN s.{f} ELSE c.{f} END" for f in DETAILS)},
email_key = CASE WHEN {_KEY_MOVES} THEN s.email_key ELSE c.email_key END,
email = CASE WHEN {_KEY_MOVES} THEN s.email
  WHEN s.email_key IS NOT NULL AND {_NEWER} AND s.email_key = c.email_key THEN s.email
  WHEN c.email IS NULL AND s.email <> '' THEN s.email ELSE c.email END,
details_from_account = CASE WHEN {_NEWER} THEN true ELSE c.details_from_account END,
platform_updated_at = CASE WHEN {_NEWER} AND (s.platform_updated_at IS NOT NULL OR {_FROM_GUEST})
  THEN s.platform_updated_at ELSE c.platform_updated_at END,
updated_at = %(now)s
FROM hist_customer_rows s WHERE c.store_id = %(store)s AND c.id = s.id AND NOT s.is_new
"""  # noqa: S608, E501  (our own column lists, no input)
