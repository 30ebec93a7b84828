"""What "ready for a distributed PostgreSQL" means here, and the named exceptions (issue 25, docs/deployment.md).

Citus distributes a table by one column, here store_id, and routes a statement to one node when it filters by
it: https://docs.citusdata.com/en/stable/develop/migration_mt_schema.html (every table carries the tenant id,
primary keys and unique constraints include it, foreign keys include it, queries filter by it). The lists below
are what does not hold yet, each with its reason; tests/test_distribution_schema.py and the query log check
(tests/query_audit.py) fail when something new breaks a rule, and when a listed exception no longer applies
(so the lists only shrink).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

#: Tables without a store: Citus reference tables (copied to every node) or left on the coordinator.
GLOBAL_TABLES = {
    "stores": "the tenants themselves: a reference table (its rows are the store ids)",
    "shopify_oauth_states": "an OAuth state is made before the store exists (a shop domain, no store id yet)",
    "woo_connections": "a wc-auth connection is pending before its callback activates a store (store_id null)",
    "provider_callbacks": "Twilio/Meta callbacks are stored before the 200; a worker finds the store in the body",
    "alembic_version": "the migrations' own table",
}

#: Store-scoped tables whose primary key is still `id` alone (Citus needs store_id in it). None since migration 0033
#: (2026-12-07; 36 tables before it): a store-scoped row's key is (id, store_id) on PostgreSQL, the ORM's identity id
#: alone, and SQLite keeps its rowid key (app/platform/store_keys.py). A list that may only stay empty.
PK_WITHOUT_STORE: frozenset[str] = frozenset()

#: Foreign keys (table.column -> referred table) between store-scoped tables that do not include store_id. None since
#: migration 0033 (27 before it): each is (store_id, x_id) -> t(store_id, id) on PostgreSQL (store_fk).
FK_WITHOUT_STORE: frozenset[str] = frozenset()

#: Statements that scan every store by design, by the app function that issues them (module:qualname of the
#: innermost app frame: a caller of a listed function is not listed by extension, nor is a function that only
#: calls one, tests/query_audit.py): the scheduler's sweeps and claims of due rows, whatever the store. On
#: Citus each is a multi-shard query, run by one process a few times a minute, not per request.
CROSS_STORE_SCANS: dict[str, str] = {
    "app.platform.outbox:claim_ids": "the claim of due rows (inboxes, outboxes; claim_due's too), any store",
    "app.platform.leases:renew": "the heartbeat renews the lease of the rows a claim took, whatever their stores",
    "app.scheduler:for_each_active_store": "the scheduler's list of stores with a step's work due (its due= subquery)",
    "app.inbox.processing:release_expired_leases": "the scheduler's sweep of crashed workers' leases",
    "app.inbox.processing:overdue_count": "the scheduler's count of deliveries pending too long (a metric)",
    "app.inbox.history_import:resume_stalled": "the scheduler's sweep of imports that stopped",
    "app.compliance.service:due_request_ids": "the scheduler's claim of due privacy requests, any store",
    "app.compliance.service:adopt_deferred": "the scheduler's sweep of deferred privacy deliveries, any store",
    "app.messaging.outbox:release_expired": "the scheduler's sweep of crashed senders' leases on messages",
    "app.loyalty.redemptions:due_pending": "the scheduler's claim of redemptions due a retry, any store",
    "app.loyalty.writeback:stores_due": "the scheduler's list of stores with balance write-backs due",
    "app.segments.tasks:schedule_rhythms": "the scheduler's list of stores whose purchase rhythm is stale",
    "app.referrals.service:find_code": "a referral link names only its code, unique across stores",
    "app.referrals.service:get_or_create_code": "a new code is checked unique across stores (see find_code)",
    "app.inbox.cli:retry": "`flask inbox retry`: the operator's replay of failed deliveries, any store",
    "app.compliance.cli:_get": "`flask compliance show|export|run <id>`: the operator names a request by id alone",
    "app.inbox.cli:_follow": "`flask inbox retry --wait`: follows the rows it put back, any store",
    "app.messaging.callbacks:_message": "a provider's receipt names its message id only (MessageSid, wamid)",
    "app.messaging.callbacks:_stores_for": "an inbound SMS or WhatsApp concerns every store that wrote to the number",
    "app.campaigns.runs:start_due": "the scheduler's claim of due campaigns (FOR UPDATE SKIP LOCKED), any store",
    "app.campaigns.tasks:tick": "the scheduler's close of fanned-out runs with no batch left, any store",
    "app.inbox.cli:stats": "`flask inbox stats`: the operator's counts of every store's deliveries",
    "app.inbox.lag:backlog": "the metrics scrape's and `flask inbox stats`' backlog of every store (one: filtered)",
    "app.platform.metrics:_outbox_depths": "the metrics scrape: every store's outbox depths, a few times a minute",
    "app.records.cli:list_stores": "`flask stores list`: the operator's list of every store's install state",
    "app.records.cli:sync_webhooks": "`flask stores sync-webhooks`: the operator's sweep of every Shopify install",
}


#: Reads of a row by its id alone on behalf of a job (module:qualname of the function that reads it). Safe (the id
#: came from our own enqueue), but on Citus a lookup by primary key without store_id visits every shard. Every job
#: now carries its store id (2026-12-07: 16 entries -> 2; loyalty's redemption job: 2 -> 1); what is left:
#: platform/sql.job_store_id: a job queued before that change (its arguments are kept in Redis as enqueued) reads
#: its row's store once, by id; it goes once no job of the old shape can be left in a queue.
#: A list that may only shrink.
JOBS_BY_ID: dict[str, str] = {
    "app.platform.sql:job_store_id": "a job queued before jobs carried their store: its store, read once by id",
}


@dataclass(frozen=True)
class Verdict:
    kind: str  # global | scoped | join_by_id | unscoped
    tables: tuple[str, ...] = ()


@lru_cache(maxsize=1)
def store_scoped_tables() -> frozenset[str]:
    from app.extensions import db  # imported once the app's environment is set (tests/conftest.py)

    return frozenset(
        name for name, table in db.metadata.tables.items() if "store_id" in table.c and name not in GLOBAL_TABLES
    )


_TOKEN = re.compile(r"'(?:[^']|'')*'|[A-Za-z_][A-Za-z0-9_$]*(?:\.[A-Za-z_][A-Za-z0-9_$]*)?|[<>!=]=?|\S")
_NOT_ALIAS = {
    "where", "join", "left", "right", "inner", "outer", "full", "cross", "on", "set", "order", "group", "limit",
    "offset", "union", "values", "returning", "for", "having", "window", "natural", "using", "default", "except",
    "intersect", "select", "from", "with", "and", "or", "not", "lateral",
}  # fmt: skip
_DML = {"select", "insert", "update", "delete", "with", "replace"}
_COMPARE = {"=", "in", "!=", "<>", "is"}


def classify(statement: str) -> Verdict:
    """Whether a statement names the store of every store-scoped table it touches (a heuristic over the SQL
    text: SQLAlchemy's qualified column names and our raw SQL's plain ones)."""
    toks = [t if t.startswith("'") else t.lower() for t in _TOKEN.findall(statement.replace('"', ""))]
    if not toks or toks[0] not in _DML:
        return Verdict("global")
    scoped_tables = store_scoped_tables()
    refs: list[tuple[str, str]] = []  # (table, qualifier)
    insert_target: str | None = None
    insert_cols: set[str] = set()
    for i, tok in enumerate(toks):
        if tok not in ("from", "join", "update", "into"):
            continue
        j = i + 1
        while j < len(toks) and toks[j] in scoped_tables:
            name, j = toks[j], j + 1
            qualifier = name
            if j < len(toks) and toks[j] == "as":
                qualifier, j = toks[j + 1], j + 2
            elif j < len(toks) and re.fullmatch(r"[a-z_][a-z0-9_]*", toks[j]) and toks[j] not in _NOT_ALIAS:
                qualifier, j = toks[j], j + 1
            if tok == "into":
                insert_target = name
                if j < len(toks) and toks[j] == "(":
                    end = toks.index(")", j)
                    insert_cols = set(toks[j + 1 : end])
                break
            refs.append((name, qualifier))
            if tok != "from" or j >= len(toks) or toks[j] != ",":
                break
            j += 1
    if insert_target is None and not refs:
        return Verdict("global")
    filtered, joined = _store_conditions(toks, {q for _, q in refs})
    tables = tuple(sorted({t for t, _ in refs} | ({insert_target} if insert_target else set())))
    if insert_target is not None and "store_id" not in insert_cols:
        return Verdict("unscoped", tables)
    if not refs:
        return Verdict("scoped", tables)
    if not filtered:
        return Verdict("unscoped", tables)
    if all(q in filtered or q in joined for _, q in refs):
        return Verdict("scoped", tables)
    return Verdict("join_by_id", tables)


def _store_conditions(toks: list[str], qualifiers: set[str]) -> tuple[set[str], set[str]]:
    """The qualifiers whose store_id is compared with a value (filtered) or with another store_id (joined).
    A plain `store_id` compared with a value filters every table of the statement (our raw SQL's style)."""
    filtered: set[str] = set()
    joined: set[str] = set()
    for k, tok in enumerate(toks):
        if not (tok == "store_id" or tok.endswith(".store_id")):
            continue
        if k + 1 < len(toks) and toks[k + 1] in _COMPARE:
            other = toks[k + 2] if k + 2 < len(toks) else ""
        elif k > 0 and toks[k - 1] == "=":
            other = toks[k - 2] if k > 1 else ""
        else:
            continue  # a selected column, a GROUP BY, an INSERT's column list
        qualifier = tok.rpartition(".")[0]
        targets = {qualifier} if qualifier else qualifiers
        if other == "store_id" or other.endswith(".store_id"):
            joined |= targets
            other_qualifier = other.rpartition(".")[0]
            joined |= {other_qualifier} if other_qualifier else qualifiers
        else:
            filtered |= targets
    return filtered, joined
