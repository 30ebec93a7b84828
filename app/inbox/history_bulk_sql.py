"""The bulk history path's SQL (PostgreSQL): staging tables, the upserts that keep the webhooks' rules, the derived
columns and the customers' totals, set-based over one chunk. Used by inbox/history_bulk.py.

Each statement is the SQL spelling of a rule the batch path applies one row at a time, named beside it:
- orders (records/orders.apply_order): a snapshot overwrites the order only when its `updated_at` is not older
  than the one held (`newer`), the customer is set by a newer snapshot or fills a blank, `paid_at` is the
  earliest ever seen (PostgreSQL's LEAST ignores NULLs, as `earliest` does);
- refunds (order_children.upsert_refund): a refund never changes once issued (DO NOTHING);
- fulfilments (order_children.upsert_fulfillment): the newer snapshot's status and tracking, shipped and
  delivered only move earlier, "delivered" sticks, every carrier status seen kept once;
- derived (order_derived.derive_order) and totals (customers.apply_totals), recomputed from the rows.
https://www.postgresql.org/docs/current/sql-insert.html#SQL-ON-CONFLICT
"""

from __future__ import annotations

ORDER_COLUMNS = (
    "platform_id", "customer_id", "name", "currency", "total_price", "subtotal_price", "financial_status",
    "fulfillment_status", "platform_status", "locale", "discount_codes", "line_items", "shipping_address", "phone",
    "payment_fingerprint", "referral_token", "placed_at", "platform_updated_at", "cancelled_at", "paid_at",
)  # fmt: skip
REFUND_COLUMNS = ("order_platform_id", "platform_id", "amount", "currency", "refunded_at")
FULFILLMENT_COLUMNS = (
    "order_platform_id", "platform_id", "status", "shipment_status", "shipped_at", "platform_updated_at",
    "tracking_company", "tracking_number", "tracking_url", "estimated_delivery_at", "delivered_at",
)  # fmt: skip

#: ON COMMIT DROP: staging lives for one chunk's transaction, never logged, never seen by another session.
STAGING = """
CREATE TEMP TABLE hist_orders (platform_id varchar(64), customer_id bigint, name varchar(64), currency varchar(3),
  total_price numeric(18,4), subtotal_price numeric(18,4), financial_status varchar(32),
  fulfillment_status varchar(32), platform_status varchar(32), locale varchar(16), discount_codes json,
  line_items json, shipping_address json, phone varchar(32), payment_fingerprint varchar(64),
  referral_token varchar(512), placed_at timestamptz, platform_updated_at timestamptz, cancelled_at timestamptz,
  paid_at timestamptz) ON COMMIT DROP;
CREATE TEMP TABLE hist_refunds (order_platform_id varchar(64), platform_id varchar(64), amount numeric(18,4),
  currency varchar(3), refunded_at timestamptz) ON COMMIT DROP;
CREATE TEMP TABLE hist_fulfillments (order_platform_id varchar(64), platform_id varchar(64), status varchar(32),
  shipment_status varchar(32), shipped_at timestamptz, platform_updated_at timestamptz,
  tracking_company varchar(64), tracking_number varchar(64), tracking_url varchar(512),
  estimated_delivery_at timestamptz, delivered_at timestamptz) ON COMMIT DROP;
CREATE TEMP TABLE hist_derived (platform_id varchar(64) PRIMARY KEY, refunded numeric(18,4),
  fulfilled timestamptz, delivered timestamptz) ON COMMIT DROP;
CREATE TEMP TABLE hist_chain (platform_id varchar(64) PRIMARY KEY, prev timestamptz, next timestamptz)
  ON COMMIT DROP;
CREATE TEMP TABLE hist_totals (customer_id bigint PRIMARY KEY, n int, first_at timestamptz, last_at timestamptz,
  currency varchar(3), spent numeric(18,4), refunded numeric(18,4), by_cur json) ON COMMIT DROP;
"""

#: Staging's statistics, once filled: temporary tables are never analysed by autovacuum, and the planner's
#: default guess for them chose nested loops over the chunk's rows.
ANALYZE_STAGING = "ANALYZE hist_orders, hist_refunds, hist_fulfillments"

#: The store's tables whose statistics lag what the import wrote: modified since the last ANALYZE by more rows than
#: they then held (and at least a chunk). An import grows them many-fold within minutes, faster than autovacuum's
#: rounds; planned with the old estimates (a few rows for the store) the statements below became nested loops
#: over aggregates, quadratic in the chunk (the customers' totals: 20 s for a chunk of 5,000 orders).
#: Doubling rule: about log2(final / first) ANALYZEs per table, each a fixed sample (300 x statistics target rows).
STALE_TABLES = """
SELECT s.relname FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid
WHERE s.schemaname = current_schema() AND s.relname IN ('orders', 'customers', 'order_refunds', 'fulfillments',
  'points_ledger', 'loyalty_accounts')
  AND s.n_mod_since_analyze > GREATEST(c.reltuples, %(least)s)
"""

#: A store with no order yet: its first chunk is analysed once written (below), for the same reason; the rule
#: above cannot see it (another store's rows dwarf it, and uncommitted rows are in no counter).
STORE_IS_NEW = "SELECT NOT EXISTS (SELECT 1 FROM orders WHERE store_id = %(store)s)"

#: The customers whose totals change: the chunk's, and those an order moves away from (read before the upsert).
FORMER_CUSTOMERS = """
SELECT o.customer_id FROM orders o JOIN hist_orders s ON o.platform_id = s.platform_id
WHERE o.store_id = %(store)s AND o.customer_id IS NOT NULL
UNION SELECT customer_id FROM hist_orders WHERE customer_id IS NOT NULL
"""

_NEWER = "(o.platform_updated_at IS NULL OR EXCLUDED.platform_updated_at >= o.platform_updated_at)"
_SNAPSHOT = [c for c in ORDER_COLUMNS if c not in ("platform_id", "customer_id", "paid_at")]

#: The Overview's chain (records/order_days: the customer's previous and next standing order's placing time) of
#: each staged order, from the staged orders and their customers' standing orders held (`ids`: the chunk's
#: customers, FORMER_CUSTOMERS; by the index on (store, customer, placing time)) (same instant: the held
#: one first, as it has the lower id). A new order goes in with it, so the chain's UPDATE at the commit
#: (order_days._relink, which stays the rule: it recomputes these customers' chains from the rows and writes
#: what differs) finds it right and rewrites only the neighbours whose link moved, not every order of the chunk
#: a second time (every index of `orders` too: ix_orders_standing_chain includes the links, so no HOT update).
STAGE_CHAIN = """
INSERT INTO hist_chain
SELECT platform_id, prev, next FROM (
  SELECT platform_id, lag(placed_at) OVER w AS prev, lead(placed_at) OVER w AS next
  FROM (SELECT o.customer_id, o.placed_at, o.id AS rank, NULL::varchar AS platform_id FROM orders o
        WHERE o.store_id = %(store)s AND o.customer_id = ANY(%(ids)s)
          AND o.cancelled_at IS NULL AND o.deleted_at IS NULL
          AND NOT EXISTS (SELECT 1 FROM hist_orders h WHERE h.platform_id = o.platform_id)
        UNION ALL
        SELECT customer_id, placed_at, 9223372036854775807, platform_id FROM hist_orders
        WHERE customer_id IS NOT NULL AND cancelled_at IS NULL) a
  WINDOW w AS (PARTITION BY customer_id ORDER BY placed_at, rank)) c
WHERE platform_id IS NOT NULL
"""

#: The derived columns (STAGE_DERIVED, below: staged from the refunds and parcels, written before the orders) go in
#: with the row and are set whatever the snapshot's age, as derive_order recomputes them after every write: one
#: write of each order instead of an upsert and then an UPDATE of every row of the chunk. A new order takes its
#: chain too (STAGE_CHAIN); a held one keeps its links for the relink to correct.
UPSERT_ORDERS = f"""
INSERT INTO orders AS o (store_id, {", ".join(ORDER_COLUMNS)}, refunded_amount, fulfilled_at, delivered_at,
  prev_placed_at, next_placed_at, created_at, updated_at)
SELECT %(store)s, {", ".join(f"s.{c}" for c in ORDER_COLUMNS)}, d.refunded, d.fulfilled, d.delivered, c.prev, c.next,
  %(now)s, %(now)s
FROM hist_orders s JOIN hist_derived d ON d.platform_id = s.platform_id
LEFT JOIN hist_chain c ON c.platform_id = s.platform_id
ON CONFLICT (store_id, platform_id) DO UPDATE SET
{", ".join(f"{c} = CASE WHEN {_NEWER} THEN EXCLUDED.{c} ELSE o.{c} END" for c in _SNAPSHOT)},
customer_id = CASE WHEN {_NEWER} AND EXCLUDED.customer_id IS NOT NULL THEN EXCLUDED.customer_id
                   ELSE COALESCE(o.customer_id, EXCLUDED.customer_id) END,
paid_at = LEAST(o.paid_at, EXCLUDED.paid_at), refunded_amount = EXCLUDED.refunded_amount,
fulfilled_at = EXCLUDED.fulfilled_at, delivered_at = EXCLUDED.delivered_at, updated_at = %(now)s
"""  # noqa: S608  (our own column lists, no input)

UPSERT_REFUNDS = f"""
INSERT INTO order_refunds (store_id, {", ".join(REFUND_COLUMNS)}, created_at)
SELECT %(store)s, {", ".join(REFUND_COLUMNS)}, %(now)s FROM hist_refunds
ON CONFLICT (store_id, platform_id) DO NOTHING
"""  # noqa: S608  (our own column lists, no input)

# EXCLUDED holds what a new row would get: the snapshot's shipment status and, when that is "delivered", its
# delivered time; tracking only when the snapshot names a number or a link (as a new row gets in Python).
_FNEWER = (
    "(f.platform_updated_at IS NULL OR EXCLUDED.platform_updated_at IS NULL"
    " OR EXCLUDED.platform_updated_at >= f.platform_updated_at)"
)
_TRACKED = "(EXCLUDED.tracking_number IS NOT NULL OR EXCLUDED.tracking_url IS NOT NULL)"
UPSERT_FULFILLMENTS = f"""
INSERT INTO fulfillments AS f (store_id, {", ".join(FULFILLMENT_COLUMNS)}, carrier_statuses, created_at)
SELECT %(store)s, order_platform_id, platform_id, status, shipment_status, shipped_at, platform_updated_at,
  CASE WHEN tracking_number IS NOT NULL OR tracking_url IS NOT NULL THEN tracking_company END,
  CASE WHEN tracking_number IS NOT NULL OR tracking_url IS NOT NULL THEN tracking_number END,
  CASE WHEN tracking_number IS NOT NULL OR tracking_url IS NOT NULL THEN tracking_url END,
  estimated_delivery_at, CASE WHEN shipment_status = 'delivered' THEN delivered_at END,
  CASE WHEN shipment_status IS NULL THEN '[]'::json ELSE json_build_array(shipment_status) END, %(now)s
FROM hist_fulfillments
ON CONFLICT (store_id, platform_id) DO UPDATE SET
status = CASE WHEN {_FNEWER} THEN EXCLUDED.status ELSE f.status END,
shipment_status = CASE WHEN EXCLUDED.shipment_status = 'delivered' THEN 'delivered'
  WHEN {_FNEWER} AND f.shipment_status IS DISTINCT FROM 'delivered' AND EXCLUDED.shipment_status IS NOT NULL
  THEN EXCLUDED.shipment_status ELSE f.shipment_status END,
platform_updated_at = CASE WHEN {_FNEWER} THEN COALESCE(EXCLUDED.platform_updated_at, f.platform_updated_at)
  ELSE f.platform_updated_at END,
tracking_company = CASE WHEN {_FNEWER} AND {_TRACKED} THEN EXCLUDED.tracking_company ELSE f.tracking_company END,
tracking_number = CASE WHEN {_FNEWER} AND {_TRACKED} THEN EXCLUDED.tracking_number ELSE f.tracking_number END,
tracking_url = CASE WHEN {_FNEWER} AND {_TRACKED} THEN EXCLUDED.tracking_url ELSE f.tracking_url END,
estimated_delivery_at = CASE WHEN {_FNEWER} AND EXCLUDED.estimated_delivery_at IS NOT NULL
  THEN EXCLUDED.estimated_delivery_at ELSE f.estimated_delivery_at END,
shipped_at = LEAST(f.shipped_at, EXCLUDED.shipped_at),
delivered_at = CASE WHEN EXCLUDED.shipment_status = 'delivered' THEN LEAST(f.delivered_at, EXCLUDED.delivered_at)
  ELSE f.delivered_at END,
carrier_statuses = CASE WHEN EXCLUDED.shipment_status IS NULL
  OR jsonb_exists(COALESCE(f.carrier_statuses::jsonb, '[]'::jsonb), EXCLUDED.shipment_status) THEN f.carrier_statuses
  ELSE (COALESCE(f.carrier_statuses::jsonb, '[]'::jsonb) || to_jsonb(EXCLUDED.shipment_status))::json END
"""  # noqa: S608  (our own column lists, no input)

_ACTIVE = "f.status IS NOT NULL AND f.status NOT IN ('cancelled', 'error', 'failure')"
#: derive_order: refunds summed; active parcels' first shipment; delivered when every active one is, at the last.
#: Staged in hist_derived (keyed, analysed) once the chunk's refunds and parcels are written (it reads no order
#: row), and taken by UPSERT_ORDERS. Staged, not joined: an UPDATE joined to the derivation was planned as a
#: nested loop that re-ran it per order (5.6 s for the second store's first chunk of 5,000).
STAGE_DERIVED = f"""
INSERT INTO hist_derived
SELECT s.platform_id,
  COALESCE((SELECT sum(r.amount) FROM order_refunds r
            WHERE r.store_id = %(store)s AND r.order_platform_id = s.platform_id), 0),
  p.fulfilled, p.delivered
FROM hist_orders s LEFT JOIN LATERAL (
  SELECT min(f.shipped_at) AS fulfilled,
         CASE WHEN count(*) > 0 AND bool_and(f.delivered_at IS NOT NULL) THEN max(f.delivered_at) END AS delivered
  FROM fulfillments f WHERE f.store_id = %(store)s AND f.order_platform_id = s.platform_id AND {_ACTIVE}) p ON true
"""  # noqa: S608  (our own column lists, no input)


#: apply_totals: every order not deleted counts; money only the standing ones, net of refunds, per currency; the
#: headline currency is the store's if the customer has orders in it, else their most used (ties: lowest code).
#: Aggregated first into hist_totals (keyed, analysed), then written by one join on the key: the chunk's own orders
#: are uncommitted, so no statistics know them, and joined CTEs were planned as nested loops over the aggregates,
#: quadratic in the chunk's customers (EXPLAIN ANALYZE: 6.8 s for 1,000 customers).
_RANK = 'COALESCE(currency = %(currency)s, false) DESC, n DESC, currency COLLATE "C"'
STAGE_TOTALS = f"""
INSERT INTO hist_totals
WITH cur AS (SELECT customer_id, currency, count(*) AS n, bool_or(cancelled_at IS NULL) AS stands,
          sum(total_price - refunded_amount) FILTER (WHERE cancelled_at IS NULL) AS spent,
          sum(refunded_amount) FILTER (WHERE cancelled_at IS NULL) AS refunded,
          min(placed_at) AS first_at, max(placed_at) AS last_at
        FROM orders WHERE store_id = %(store)s AND customer_id = ANY(%(ids)s) AND deleted_at IS NULL
        GROUP BY customer_id, currency)
SELECT customer_id, sum(n), min(first_at), max(last_at), (array_agg(currency ORDER BY {_RANK}))[1],
  (array_agg(spent ORDER BY {_RANK}))[1], (array_agg(refunded ORDER BY {_RANK}))[1],
  json_object_agg(currency, spent::text ORDER BY currency COLLATE "C") FILTER (WHERE stands)
FROM cur GROUP BY customer_id
"""  # noqa: S608  (our own constants, no input)

CUSTOMER_TOTALS = """
UPDATE customers c SET orders_count = t.n, currency = COALESCE(t.currency, c.currency, %(currency)s),
  total_spent = COALESCE(t.spent, 0), total_refunded = COALESCE(t.refunded, 0),
  spent_by_currency = COALESCE(t.by_cur, '{}'::json), first_order_at = t.first_at, last_order_at = t.last_at,
  updated_at = %(now)s
FROM hist_totals t WHERE c.store_id = %(store)s AND c.id = t.customer_id
"""

#: The same rule for the customers left with no order (every one moved away): nothing counts. They are the ids
#: STAGE_TOTALS found no order for (it read every order of `ids` not deleted, in this transaction, with nothing
#: written to orders since), so the probe is of the small keyed staging table, not of orders per customer.
CUSTOMER_NO_ORDERS = """
UPDATE customers c SET orders_count = 0, currency = COALESCE(c.currency, %(currency)s), total_spent = 0,
  total_refunded = 0, spent_by_currency = '{}'::json, first_order_at = NULL, last_order_at = NULL,
  updated_at = %(now)s
WHERE c.store_id = %(store)s AND c.id = ANY(%(ids)s)
  AND NOT EXISTS (SELECT 1 FROM hist_totals t WHERE t.customer_id = c.id)
"""

#: The end of an orders' phase whose past chunks deferred the customers' totals (history_bulk_settle.settle_phase):
#: the same rule (STAGE_TOTALS, CUSTOMER_TOTALS and CUSTOMER_NO_ORDERS) for a batch of the store's customers (`ids`)
#: at once, from the rows, in one statement; a customer whose totals already agree (a webhook recomputed them, or
#: the import never touched them) is not written. json has no equality: compared as jsonb.
SETTLE_TOTALS = f"""
WITH cur AS (SELECT customer_id, currency, count(*) AS n, bool_or(cancelled_at IS NULL) AS stands,
          sum(total_price - refunded_amount) FILTER (WHERE cancelled_at IS NULL) AS spent,
          sum(refunded_amount) FILTER (WHERE cancelled_at IS NULL) AS refunded,
          min(placed_at) AS first_at, max(placed_at) AS last_at
        FROM orders WHERE store_id = %(store)s AND customer_id = ANY(%(ids)s) AND deleted_at IS NULL
        GROUP BY customer_id, currency),
t AS (SELECT customer_id, sum(n) AS n, min(first_at) AS first_at, max(last_at) AS last_at,
        (array_agg(currency ORDER BY {_RANK}))[1] AS currency, (array_agg(spent ORDER BY {_RANK}))[1] AS spent,
        (array_agg(refunded ORDER BY {_RANK}))[1] AS refunded,
        json_object_agg(currency, spent::text ORDER BY currency COLLATE "C") FILTER (WHERE stands) AS by_cur
      FROM cur GROUP BY customer_id),
x AS (SELECT k.id, COALESCE(t.n, 0) AS n, COALESCE(t.currency, k.currency, %(currency)s) AS currency,
        COALESCE(t.spent, 0) AS spent, COALESCE(t.refunded, 0) AS refunded,
        COALESCE(t.by_cur, '{{}}'::json) AS by_cur, t.first_at, t.last_at
      FROM customers k LEFT JOIN t ON t.customer_id = k.id WHERE k.store_id = %(store)s AND k.id = ANY(%(ids)s))
UPDATE customers c SET orders_count = x.n, currency = x.currency, total_spent = x.spent,
  total_refunded = x.refunded, spent_by_currency = x.by_cur, first_order_at = x.first_at,
  last_order_at = x.last_at, updated_at = %(now)s
FROM x WHERE c.store_id = %(store)s AND c.id = ANY(%(ids)s) AND c.id = x.id
  AND (c.orders_count, c.currency, c.total_spent, c.total_refunded, c.spent_by_currency::jsonb, c.first_order_at,
       c.last_order_at)
  IS DISTINCT FROM (x.n, x.currency, x.spent, x.refunded, x.by_cur::jsonb, x.first_at, x.last_at)
"""  # noqa: S608  (our own constants, no input)
