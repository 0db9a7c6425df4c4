"""Engine set-up per database: SQLite pragmas and transaction mode; PostgreSQL reads without BEGIN/COMMIT.

SQLite: WAL (readers never block the writer), foreign keys on, and every transaction that may write starts with
``BEGIN IMMEDIATE``, so two writers queue on the busy timeout instead of failing halfway through with "database is
locked". Read-only requests (GET/HEAD) start a plain deferred transaction.

PostgreSQL: a read-only request's plain SELECTs run in autocommit (no BEGIN before them, no COMMIT after: two of a
GET's six round trips), and the first statement that may write or lock opens a real transaction, which the request
commits or rolls back as usual (see read_in_autocommit).
"""
from __future__ import annotations

import contextvars
import re
import time
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import ArgumentError, DBAPIError, DisconnectionError, NoSuchModuleError

read_only: contextvars.ContextVar[bool] = contextvars.ContextVar("kontor_read_only", default=False)


# A pooled connection is checked (a round trip) only when it was idle this long: a server restart or a dropped
# connection is then found before a request uses it, without a ping in front of every request of a busy server.
IDLE_PING_SECONDS = 10.0


def ping_idle_connections(engine: Engine, idle: float = IDLE_PING_SECONDS) -> None:
    """``pool_pre_ping`` for connections idle more than ``idle`` seconds (SQLAlchemy's pessimistic disconnect
    handling: a failed ping raises DisconnectionError, and the pool replaces the connection and tries again)."""

    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_connection, record):
        record.info["kontor_idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection, record, _proxy):
        since = record.info.get("kontor_idle_since")
        if since is not None and time.monotonic() - since < idle:
            return
        try:
            alive = engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:  # whatever the driver raises for a dead connection
            raise DisconnectionError(f"the pooled connection does not answer: {exc}") from exc
        if not alive:
            raise DisconnectionError("the pooled connection does not answer")


def _lazy_description_cursor():
    """A psycopg cursor whose ``description`` builds its Column objects only when someone reads them.

    psycopg builds one Column per result column (name decoded, type looked up) every time ``description`` is read,
    and SQLAlchemy reads it after every statement, though for a statement it has run before (its compiled form is
    cached) it only asks whether there is a description at all. GET /api/v1/invoices/{id} reads 78 columns: that
    was 9 % of the worker's CPU per request on PostgreSQL (cProfile). The columns are built from the result as it was
    when ``description`` was read, as psycopg does, so a later statement on the cursor does not change them.
    """
    from collections.abc import Sequence
    from types import SimpleNamespace

    import psycopg
    from psycopg import pq
    from psycopg._column import Column

    rows = (pq.ExecStatus.TUPLES_OK, pq.ExecStatus.SINGLE_TUPLE, pq.ExecStatus.TUPLES_CHUNK)

    class LazyDescription(Sequence):
        __slots__ = ("_source", "_size", "_columns")

        def __init__(self, cursor, result, size: int):
            # What psycopg's Column reads from the cursor, taken now: the result, its encoding, its type map.
            self._source = SimpleNamespace(pgresult=result, _encoding=cursor._encoding, adapters=cursor.adapters)
            self._size = size
            self._columns = None

        def __len__(self) -> int:
            return self._size

        def __getitem__(self, index):
            if self._columns is None:
                self._columns = [Column(self._source, i) for i in range(self._size)]
            return self._columns[index]

        def __eq__(self, other):
            return list(self) == list(other)

        def __repr__(self) -> str:
            return repr(list(self))

    class LazyDescriptionCursor(psycopg.Cursor):
        @property
        def description(self):
            result = self.pgresult
            if result and (result.nfields or result.status in rows):
                return LazyDescription(self, result, result.nfields)
            return None

    return LazyDescriptionCursor


# A statement that only reads: a SELECT that neither locks rows nor calls what changes state. Anything else (DML,
# WITH (it may hold DML), SAVEPOINT, SET, a locking SELECT, sequences, advisory locks) needs the transaction.
_PLAIN_READ = re.compile(r"\s*SELECT\b", re.IGNORECASE)
_NOT_PLAIN = re.compile(r"\bFOR\s+(UPDATE|SHARE|NO\s+KEY|KEY\s+SHARE)\b|\bpg_advisory|\bnextval\s*\(|\bsetval\s*\("
                        r"|\bset_config\s*\(|\bpg_notify\s*\(", re.IGNORECASE)


_OURS = "kontor_read_autocommit"  # pool record info: this connection is in autocommit because of read_in_autocommit


def leave_read_autocommit(fairy) -> None:
    """End read_in_autocommit's autocommit on this pooled connection (a SQLAlchemy ``connection.connection``), if
    it is in it: the next statement opens the transaction. The statement listener does this before a statement that
    may write; work the listener does not see (a COPY sent to the driver, core.bulk) calls it itself. A connection
    the caller opened in AUTOCOMMIT is not ours and stays so."""
    if fairy.info.pop(_OURS, False) and fairy.dbapi_connection.autocommit:
        fairy.dbapi_connection.autocommit = False  # idle between autocommitted reads: settable


def read_in_autocommit(engine: Engine) -> None:
    """PostgreSQL under READ COMMITTED: while ``read_only`` is set (GET/HEAD/OPTIONS), a transaction starts in
    autocommit and stays there while it only reads; the first statement that is not a plain SELECT switches the
    connection back, so psycopg opens a transaction right before it and everything from there on commits or rolls
    back together, as in any other request.

    Nothing a request can observe changes: under READ COMMITTED each statement of a transaction takes its own
    snapshot anyway, and a read holds no lock that a later statement relies on (locking SELECTs count as writes
    here). What goes is a round trip for BEGIN and one for COMMIT per read-only request (6 -> 4 for
    GET /api/v1/invoices/{id}), on the worker's side and on the server's. Under a stricter isolation level set
    by the operator (a snapshot shared by the request's statements), reads keep their transaction.
    """
    from psycopg.pq import TransactionStatus
    idle = TransactionStatus.IDLE

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        if connection.get_execution_options().get("isolation_level"):
            return  # the caller chose the level itself (AUTOCOMMIT for a VACUUM, say): not ours to change
        fairy = connection.connection
        dbapi_connection = fairy.dbapi_connection
        if dbapi_connection.info.transaction_status != idle:
            return
        autocommit = read_only.get() and engine.dialect.default_isolation_level == "READ COMMITTED"
        if autocommit and not dbapi_connection.autocommit:
            dbapi_connection.autocommit = True
            fairy.info[_OURS] = True
        elif not autocommit:
            leave_read_autocommit(fairy)

    plain: dict[str, bool] = {}  # statement -> plain read; SQLAlchemy's compiled cache hands the same strings back

    def is_plain_read(statement: str) -> bool:
        known = plain.get(statement)
        if known is None:
            if len(plain) > 5000:
                plain.clear()
            known = plain[statement] = bool(_PLAIN_READ.match(statement)) and not _NOT_PLAIN.search(statement)
        return known

    @event.listens_for(engine, "before_cursor_execute")
    def _before_execute(conn, cursor, statement, _parameters, _context, _executemany):
        if cursor.connection.autocommit and not is_plain_read(statement):
            leave_read_autocommit(conn.connection)

    @event.listens_for(engine, "checkin")
    def _on_checkin(dbapi_connection, record):
        if record.info.pop(_OURS, False) and dbapi_connection is not None and \
                getattr(dbapi_connection, "autocommit", False):
            import psycopg
            try:
                dbapi_connection.autocommit = False  # back as it came: connections outside requests expect it off
            except psycopg.Error as exc:  # a broken connection: the pool replaces it rather than lend it again
                record.invalidate(exc)


def configure_engine(engine: Engine) -> None:
    if engine.dialect.name != "sqlite":
        if not engine.pool._pre_ping:  # pool_pre_ping set by the configuration wins
            ping_idle_connections(engine)
        if engine.dialect.driver == "psycopg":
            cursor_class = _lazy_description_cursor()

            @event.listens_for(engine, "connect")
            def _on_pg_connect(dbapi_connection, _record):
                import psycopg
                if dbapi_connection.cursor_factory is psycopg.Cursor:  # a cursor_factory in connect_args wins
                    dbapi_connection.cursor_factory = cursor_class

            read_in_autocommit(engine)
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


URL_EXAMPLES = "postgresql+psycopg://user:password@host:5432/kontor or sqlite:////path/to/kontor.db"


def database_problem(url: str, exc: BaseException) -> str:
    """One line saying why ``url`` cannot be used (password hidden); start-up stops with it (StartupError)."""
    from sqlalchemy.engine import make_url
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):  # ValueError: a port that is not a number
        return f"KONTOR_DATABASE_URL is not a database URL; use {URL_EXAMPLES}."
    shown = parsed.render_as_string(hide_password=True)
    if isinstance(exc, NoSuchModuleError):
        return f"KONTOR_DATABASE_URL {shown}: unknown kind of database {parsed.drivername!r}; use {URL_EXAMPLES}."
    if isinstance(exc, ImportError):
        return (f"KONTOR_DATABASE_URL {shown}: its driver ({exc.name or exc}) is not installed; "
                f"use {URL_EXAMPLES}.")
    if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:":
        folder = Path(parsed.database).expanduser().resolve().parent
        if not folder.is_dir():
            return f"KONTOR_DATABASE_URL {shown}: the folder {folder} does not exist."
    reason = getattr(exc, "orig", None) or exc
    first = next((line.strip() for line in str(reason).splitlines() if line.strip()), type(reason).__name__)
    return f"cannot connect to the database {shown}: {first}"


def check_database(engine: Engine) -> None:
    """Connect once: a server that is down, a wrong password or a missing database stops start-up here rather
    than answering every request with a 500. The connection goes back to the pool for the first request."""
    with engine.connect() as conn:
        conn.exec_driver_sql("SELECT 1")


START_ERRORS = (ArgumentError, ValueError, NoSuchModuleError, ImportError, DBAPIError)  # ValueError: a bad port


def check_database_url(url: str) -> None:
    """check_database on an engine of its own, disposed after: for gunicorn's master, before it forks workers
    (gunicorn.conf.py), so a bad URL stops gunicorn with one line instead of workers failing to boot in turn."""
    from sqlalchemy import create_engine

    from core.errors import StartupError
    try:
        engine = create_engine(url)
        try:
            check_database(engine)
        finally:
            engine.dispose()
    except START_ERRORS as exc:
        raise StartupError(database_problem(url, exc)) from exc
