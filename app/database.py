"""Engine settings per backend and the SQLite pragmas that make it a safe default."""

from __future__ import annotations

from functools import partial
from typing import Any

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from app.extensions import db


def _engine_options(url: str) -> dict[str, Any]:
    if url.startswith("sqlite"):
        # Webhook acks and workers share the file: wait for the writer rather than fail.
        return {"connect_args": {"timeout": 30}}
    return {"pool_size": 10, "max_overflow": 20, "pool_recycle": 1800, "pool_pre_ping": False}


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets the web process append to the inbox while a worker reads;
    # synchronous=FULL keeps "acknowledged means on disk" true in WAL mode.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _postgres_session(dbapi_error: type[Exception], dbapi_connection: Any, _record: Any) -> None:
    # Webhook bodies (~13 KB of JSON) are compressed into TOAST on insert. With
    # pglz that was most of PostgreSQL's CPU per acknowledged webhook: 0.7 ms of
    # backend CPU per insert, 0.45 ms with lz4 (same rows, measured on the bench
    # machine). A column that names its own compression keeps it. Servers before
    # 14, or built without lz4, refuse the setting: they keep pglz.
    try:
        with dbapi_connection.cursor() as cursor:
            cursor.execute("SET default_toast_compression = 'lz4'")
        dbapi_connection.commit()
    except dbapi_error:
        dbapi_connection.rollback()


def init_app(app: Flask) -> None:
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", _engine_options(url))
    if url.startswith("sqlite"):
        from pathlib import Path

        Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    db.init_app(app)
    with app.app_context():
        if url.startswith("sqlite"):
            event.listen(db.engine, "connect", _sqlite_pragmas)
        elif is_postgres(db.engine):
            event.listen(db.engine, "connect", partial(_postgres_session, db.engine.dialect.loaded_dbapi.Error))


def is_postgres(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


def execute_autocommit(engine: Engine, sql: str, params: Any) -> list[Any]:
    """Run one PostgreSQL statement as its own transaction on a pooled DBAPI connection; all its rows.

    One round trip and no ORM or Core execution, for the webhook insert (the storefront's balance read goes one
    level lower, loyalty/balance_read.py): autocommit makes the statement its own transaction (BEGIN/COMMIT
    would be two more round trips), and prepare=True makes it a server-side prepared statement on each
    connection's first use (https://www.psycopg.org/psycopg3/docs/advanced/prepare.html). Errors are raised as
    DBAPIError without the parameters (they may carry a payload), and a connection left in an unknown state never
    goes back to the pool.
    """
    dbapi_error = engine.dialect.loaded_dbapi.Error
    try:
        # The pool raises the driver's own error when it cannot connect (the server down, restarting): wrapped
        # here, so callers see a DBAPIError whether the connection or the statement failed.
        raw = engine.raw_connection()
    except dbapi_error as exc:
        raise DBAPIError.instance(sql, None, exc, dbapi_error) from exc
    # psycopg's Connection (callers run this on PostgreSQL only); None only once the pool connection is invalidated.
    driver: Any = raw.driver_connection
    done = False
    try:
        driver.autocommit = True  # a local flag in psycopg: no round trip
        rows = driver.execute(sql, params, prepare=True).fetchall()
        driver.autocommit = False  # the pool hands out connections in the engine's default mode
        done = True
    except dbapi_error as exc:
        raise DBAPIError.instance(sql, None, exc, dbapi_error) from exc
    finally:
        if not done:
            # Whatever state it is in (autocommit, mid-query, broken), it must not go back to the pool.
            raw.invalidate()
        raw.close()
    return rows
