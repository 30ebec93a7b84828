"""The rows of GET /me/balance, read in one round trip: on PostgreSQL a prepared statement on a pooled connection.

The storefront's most frequent call. Through the ORM session it cost a BEGIN, the SELECT and a ROLLBACK (three
round trips) plus building and compiling the statement per request (bench/sfprofile.py: the Core/ORM execution
was most of the request's CPU). Here the statement is built once, compiled once per dialect, and on PostgreSQL
executed on the pool's DBAPI connection in autocommit mode (a read needs no transaction of its own: one
statement sees one snapshot) with prepare=True, as the webhook insert does (app/webhooks/ingest.py).
https://www.psycopg.org/psycopg3/docs/advanced/prepare.html
If the session is already in a transaction (a caller that wrote rows and has not committed, as tests do), the
query goes through that session, so it sees what the caller sees. Other dialects (SQLite in tests): the session.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, NamedTuple

from sqlalchemy import bindparam, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, scoped_session

from ..database import execute_autocommit
from ..models import Customer, LoyaltyAccount, PointsLedger


class BalanceRow(NamedTuple):
    id: int
    tier: str | None
    kind: str | None
    points: int | None
    order_platform_id: str | None
    source_key: str | None
    available_at: datetime | None
    created_at: datetime | None


_account = (LoyaltyAccount.store_id == Customer.store_id) & (LoyaltyAccount.customer_id == Customer.id)
_ledger = (PointsLedger.store_id == Customer.store_id) & (PointsLedger.customer_id == Customer.id)
STATEMENT = (
    select(
        Customer.id,
        LoyaltyAccount.tier,
        PointsLedger.kind,
        PointsLedger.points,
        PointsLedger.order_platform_id,
        PointsLedger.source_key,
        PointsLedger.available_at,
        PointsLedger.created_at,
    )
    .outerjoin(LoyaltyAccount, _account)
    .outerjoin(PointsLedger, _ledger)
    .where(Customer.store_id == bindparam("store_id"), Customer.platform_id == bindparam("platform_id"))
    .order_by(PointsLedger.id)
)
_compiled: dict[int, str] = {}  # id(dialect) -> SQL text with %(store_id)s / %(platform_id)s


def _utc(value: datetime | None) -> datetime | None:
    # psycopg hands timestamptz back in the session's TimeZone; UTCDateTime (the ORM path) gives UTC.
    return None if value is None else value.astimezone(UTC)


def _postgres_sql(engine: Engine) -> str:
    sql = _compiled.get(id(engine.dialect))
    if sql is None:
        sql = _compiled[id(engine.dialect)] = str(STATEMENT.compile(dialect=engine.dialect))
    return sql


def _postgres_rows(engine: Engine, params: dict[str, Any]) -> list[BalanceRow]:
    fetched = execute_autocommit(engine, _postgres_sql(engine), params)
    return [BalanceRow(*row[:6], _utc(row[6]), _utc(row[7])) for row in fetched]


def balance_rows(session: Session | scoped_session[Session], store_id: int, platform_id: str) -> list[BalanceRow]:
    """The customer's id and tier, and one row per ledger entry (kind None: no entries); [] if unknown."""
    params = {"store_id": store_id, "platform_id": platform_id}
    if isinstance(session, scoped_session):
        session = session()  # Flask-SQLAlchemy's db.session: this thread's Session
    engine = session.get_bind()
    if isinstance(engine, Engine) and engine.dialect.name == "postgresql" and not session.in_transaction():
        return _postgres_rows(engine, params)
    return [BalanceRow(*row) for row in session.execute(STATEMENT, params)]
