"""The rows of GET /me/balance, read in one round trip: on PostgreSQL a prepared statement on a pooled connection.

The storefront's most frequent call. Through the ORM session it would cost a BEGIN, the SELECT and a ROLLBACK (three
round trips) plus building and compiling the statement per request (bench/sfprofile.py shows the Core/ORM execution
as most of such a request's CPU). Here the statement is built once, compiled once per dialect, and on PostgreSQL
sent through libpq itself on the pool's connection (psycopg's `pgconn`: PQexecPrepared, which releases the GIL while
it waits): prepared under its own name on each connection where it is not (yet), executed outside any transaction
block (one statement sees one snapshot; the connection stays idle, so the pool's reset costs nothing), and the rows
loaded by psycopg's own Transformer, so the values are what a cursor gives. psycopg's cursor (its prepared statement
cache, the autocommit switch, the generator-driven waits) costs more CPU than the query's round trip
(bench/storefront.py measures the route). https://www.postgresql.org/docs/current/libpq-exec.html
If the session is already in a transaction (a caller that wrote rows and has not committed, as tests do), the query
goes through that session, so it sees what the caller sees. Other dialects (SQLite in tests): the session.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, NamedTuple, cast

import psycopg
from psycopg.adapt import Transformer
from psycopg.errors import error_from_result
from psycopg.pq import DiagnosticField, ExecStatus
from sqlalchemy import bindparam, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, scoped_session

from app.loyalty.models import LoyaltyAccount, PointsLedger
from app.records.models import Customer


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
_compiled: dict[int, bytes] = {}  # id(dialect) -> SQL text with $1 (store id) / $2 (platform id)
_NAME = b"ppe_balance_rows"  # the prepared statement's name on each connection (psycopg's own are _pg3_<n>)
_UNKNOWN_STATEMENT = b"26000"  # invalid_sql_statement_name: not prepared on this connection


def _utc(value: datetime | None) -> datetime | None:
    # psycopg hands timestamptz back in the session's TimeZone; UTCDateTime (the ORM path) gives UTC.
    return None if value is None else value.astimezone(UTC)


def _postgres_sql(engine: Engine) -> bytes:
    sql = _compiled.get(id(engine.dialect))
    if sql is None:
        text = str(STATEMENT.compile(dialect=engine.dialect))
        text = text.replace("%(store_id)s", "$1").replace("%(platform_id)s", "$2")
        if "%" in text:  # psycopg's placeholders or escapes left: libpq would not understand them
            raise RuntimeError("balance statement: unexpected placeholder")
        sql = _compiled[id(engine.dialect)] = text.encode()
    return sql


def _postgres_rows(engine: Engine, store_id: int, platform_id: str) -> list[BalanceRow]:
    raw = engine.raw_connection()  # a failure to connect is raised as DBAPIError, like the rest
    done = False
    try:
        # This function runs on PostgreSQL only, where the pool's driver connection is psycopg's (None only
        # once the pool connection is invalidated).
        driver = cast("psycopg.Connection[Any]", raw.driver_connection)
        pgconn = driver.pgconn
        params = [str(store_id).encode(), platform_id.encode()]
        result = pgconn.exec_prepared(_NAME, params)
        if result.error_field(DiagnosticField.SQLSTATE) == _UNKNOWN_STATEMENT:
            # Not prepared on this connection yet, or no longer: psycopg sends DEALLOCATE ALL after a rollback
            # of a connection it prepared statements on. Outside a transaction block the error costs nothing.
            _check(engine, driver, pgconn.prepare(_NAME, _postgres_sql(engine)))
            result = pgconn.exec_prepared(_NAME, params)
        _check(engine, driver, result)
        loader = Transformer(driver)
        loader.set_pgresult(result)
        rows: list[tuple[Any, Any, Any, Any, Any, Any, Any, Any]]  # STATEMENT's eight columns
        rows = loader.load_rows(0, result.ntuples, tuple)
        done = True
    finally:
        if not done:
            # Whatever state it is in (mid-query, broken), it must not go back to the pool.
            raw.invalidate()
        raw.close()
    return [BalanceRow(*row[:6], _utc(row[6]), _utc(row[7])) for row in rows]


def _check(engine: Engine, driver: Any, result: Any) -> Any:
    if result.status not in (ExecStatus.COMMAND_OK, ExecStatus.TUPLES_OK):
        error = error_from_result(result, encoding=driver.info.encoding)
        # As SQLAlchemy raises driver errors, without the parameters (a platform id is personal data).
        raise DBAPIError.instance(None, None, error, engine.dialect.loaded_dbapi.Error) from error
    return result


def _engine_without_session(session: scoped_session[Session]) -> Engine | None:
    """The engine of a scoped session with no Session in this scope yet (the storefront door's case: nothing
    uncommitted to see), found without building a Session and tearing it down for one read; None otherwise."""
    if session.registry.has():
        return None
    kw = session.session_factory.kw
    bind = kw.get("bind")
    if bind is None and kw.get("db") is not None:  # Flask-SQLAlchemy's factory names the extension: its engine
        bind = kw["db"].engine
    return bind if isinstance(bind, Engine) else None


def balance_rows(session: Session | scoped_session[Session], store_id: int, platform_id: str) -> list[BalanceRow]:
    """The customer's id and tier, and one row per ledger entry (kind None: no entries); [] if unknown."""
    if isinstance(session, scoped_session):
        engine = _engine_without_session(session)
        if engine is not None and engine.dialect.name == "postgresql":
            return _postgres_rows(engine, store_id, platform_id)
        session = session()  # Flask-SQLAlchemy's db.session: this thread's Session
    bind = session.get_bind()  # an Engine, or the Connection a test binds the session to
    if isinstance(bind, Engine) and bind.dialect.name == "postgresql" and not session.in_transaction():
        return _postgres_rows(bind, store_id, platform_id)
    return [BalanceRow(*row) for row in session.execute(STATEMENT, {"store_id": store_id, "platform_id": platform_id})]
