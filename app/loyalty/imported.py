"""Loyalty for the accounts a history import wrote set-based (inbox/history_bulk_customers.py), once per chunk.

Why: orders.on_customer_changed, run once per imported account, wrote the signup reward and refreshed the account
through the ORM (a PointsLedger, a LoyaltyAccount and a LoyaltyWriteback object each, their flush): about two thirds
of the customers' bulk phase (bench/README.md). Here the same rows, by a few statements per chunk:
1. the accounts are found by their platform ids after the pipeline's guards, as the handler finds each one;
2. their signup rewards are one `INSERT ... SELECT FROM unnest(...) ON CONFLICT (store_id, source_key) DO NOTHING`:
   the same source key (`action:signup:<platform id>`), kind, points and rule as ledger.award_action, so a webhook
   that rewarded the account first, a rerun of the chunk or a later customers/update never adds a second row;
3. every one of them is refreshed (the handler refreshes whether or not it awarded): refresh_set_based below.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import BigInteger, Text, literal, null, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from app.loyalty import points_days
from app.loyalty.account_rows import CHUNK, refresh_set_based, unnest
from app.loyalty.models import PointsLedger
from app.loyalty.preload import signup_key
from app.loyalty.settings import get_settings
from app.platform.sql import chunks, in_keys
from app.platform.types import utcnow
from app.records.bulk import writes_customers
from app.records.models import Customer
from app.stores.models import Store


def accounts_imported(session: Session, store: Store, platform_ids: Sequence[str], now: datetime) -> None:
    """orders.on_customer_changed for every account of the chunk at once (the import's chunk holds the store's
    lock, as the inbox batch does)."""
    found: dict[int, str] = {}
    for chunk in chunks(sorted(set(platform_ids)), CHUNK):
        stmt = select(Customer.id, Customer.platform_id).where(
            Customer.store_id == store.id, in_keys(session, Customer.platform_id, chunk)
        )
        found.update((row.id, row.platform_id) for row in session.execute(stmt))
    if not found:
        return
    # Awarded at the handler's moment and refreshed as of the chunk's, as on the batch path (award_action's own
    # utcnow(), the deferred refresh's `now`): the reward is pending until the loyalty tick sees it available.
    _signup_rewards(session, store, found, utcnow())
    refresh_set_based(session, store, set(found), now)


def _signup_rewards(session: Session, store: Store, accounts: dict[int, str], now: datetime) -> None:
    """ledger.award_action(..., "signup", platform id) for each account, in one statement: nothing when the
    programme is off or the reward is 0, nothing for an account that has its row already."""
    settings = get_settings(store)
    points = settings.actions["signup"]
    if not settings.enabled or points == 0:
        return
    ids = sorted(accounts)
    keys = [signup_key(accounts[i]) for i in ids]
    given = unnest({"customer_id": ids, "source_key": keys}, {"customer_id": BigInteger, "source_key": Text})
    ledger = PointsLedger.__table__.c
    rows = select(
        literal(store.id),
        given.c.customer_id,
        given.c.source_key,
        literal("action"),
        literal(points),
        null(),
        literal({"action": "signup", "points": str(points)}, ledger.rule.type),
        literal(now, ledger.available_at.type),
        literal(now, ledger.created_at.type),
    )
    names = ("store_id", "customer_id", "source_key", "kind", "points", "order_platform_id", "rule", "available_at")
    stmt = (
        insert(PointsLedger)
        .from_select([*names, "created_at"], rows)
        .on_conflict_do_nothing(index_elements=["store_id", "source_key"])
    )
    session.execute(stmt, execution_options=writes_customers(store.id, ids))
    points_days.mark(session, store.id, now)  # the Overview's daily rollup recounts that day at commit
