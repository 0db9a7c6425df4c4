"""Engine set-up per database: SQLite pragmas and transaction mode.

SQLite: WAL (readers never block the writer), foreign keys on, and every transaction that may write starts with
``BEGIN IMMEDIATE``, so two writers queue on the busy timeout instead of failing halfway through with "database is
locked". Read-only requests (GET/HEAD) start a plain deferred transaction.
"""
from __future__ import annotations

import contextvars

from sqlalchemy import event
from sqlalchemy.engine import Engine

read_only: contextvars.ContextVar[bool] = contextvars.ContextVar("kontor_read_only", default=False)


def configure_engine(engine: Engine) -> None:
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Let SQLAlchemy, not pysqlite, issue BEGIN (pysqlite's own handling breaks SAVEPOINT and IMMEDIATE).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=60000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        connection.exec_driver_sql("BEGIN" if read_only.get() else "BEGIN IMMEDIATE")
