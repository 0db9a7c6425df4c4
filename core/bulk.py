"""Bulk writes for batch jobs: many rows in a few round trips, inside the caller's transaction (and savepoint).

    insert_rows(table, rows)                 INSERT, nothing back
    insert_returning_ids(table, rows)        INSERT, the new ids in the order of ``rows``
    update_rows(table, rows, only_if=None)   UPDATE by ``id``, other values per row

``rows`` are dicts of column name -> value, all with the same keys. Columns left out get their model default
(a scalar or a callable, as SQLAlchemy would apply it) or the server's.

SQLite runs them as SQLAlchemy executemany: in-process, a few microseconds a row already. On PostgreSQL
psycopg's executemany sends one statement per row (30 µs and more each, round trip included), so the rows go as
``COPY ... FROM STDIN`` (inserts; the ids drawn from the table's sequence first when the caller needs them) and
as one ``UPDATE ... FROM unnest(arrays)`` (updates). Row triggers and constraints fire for COPY as they do for
INSERT, so the database's guards stay in force. Values go through the columns' bind processors, as they would
through SQLAlchemy.
"""
from __future__ import annotations

from sqlalchemy import Table, bindparam, insert, text, update
from sqlalchemy.exc import DBAPIError

from core.extensions import db

_MAX_ARRAY = 50_000  # rows per UPDATE ... FROM unnest: keeps one statement's arrays a few MB at most


def _same_columns(table: Table, rows: list[dict]) -> None:
    first = rows[0].keys()
    if any(row.keys() != first for row in rows):
        raise ValueError(f"bulk write to {table.name}: every row needs the same columns")


def _postgres() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


def _with_defaults(table: Table, rows: list[dict]) -> tuple[list[str], list[list]]:
    """The column names and the value lists, model defaults filled in for the columns ``rows`` leave out."""
    given = list(rows[0])
    missing = [c for c in table.columns if c.name not in rows[0] and c.default is not None
               and (c.default.is_scalar or c.default.is_callable)]
    names = given + [c.name for c in missing]
    dialect = db.session.get_bind().dialect
    processors = [table.c[name].type._cached_bind_processor(dialect) for name in names]
    values = []
    for row in rows:
        line = [row[name] for name in given]
        line += [c.default.arg if c.default.is_scalar else c.default.arg(None) for c in missing]
        values.append([p(v) if p and v is not None else v for p, v in zip(processors, line)])
    return names, values


def _in_transaction():
    """The session's psycopg connection, inside the transaction: COPY goes to the driver, unseen by the statement
    listener that ends a read-only request's autocommit before a write (core.db.read_in_autocommit)."""
    from core.db import leave_read_autocommit
    fairy = db.session.connection().connection
    leave_read_autocommit(fairy)
    return fairy.driver_connection


def _copy(table: Table, names: list[str], values: list[list]) -> None:
    import psycopg
    from psycopg import sql
    raw = _in_transaction()
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(sql.Identifier(table.name),
                                                          sql.SQL(", ").join(map(sql.Identifier, names)))
    try:
        with raw.cursor() as cursor, cursor.copy(statement) as copy:
            for line in values:
                copy.write_row(line)
    except psycopg.Error as exc:  # the errors SQLAlchemy would raise for the same INSERT (IntegrityError, ...)
        raise DBAPIError.instance(statement.as_string(raw), None, exc, psycopg.Error) from exc


def insert_rows(table: Table, rows: list[dict]) -> None:
    if not rows:
        return
    _same_columns(table, rows)
    if not _postgres():
        db.session.execute(insert(table), rows)
        return
    db.session.flush()  # pending ORM rows first, as session.execute would
    _copy(table, *_with_defaults(table, rows))


def insert_returning_ids(table: Table, rows: list[dict]) -> list[int]:
    """Bulk INSERT ``rows`` into ``table``; their new ids, in the order of ``rows``.

    PostgreSQL: ids drawn from the table's sequence in one query (each nextval is larger than the one before,
    whoever else draws at the same time, so sorted they are in drawing order), then COPY with the ids.
    SQLite: the statement runs in big batches without ordering and the ids are sorted, which is exact there:
    inside the writer's lock a multi-row INSERT gives INTEGER PRIMARY KEY rowids in VALUES order (max + 1 each)."""
    if not rows:
        return []
    _same_columns(table, rows)
    if not _postgres():
        return sorted(db.session.execute(insert(table).returning(table.c.id), rows).scalars())
    db.session.flush()
    ids = sorted(db.session.execute(
        text("SELECT nextval(pg_get_serial_sequence(:t, 'id')) FROM generate_series(1, :n)"),
        {"t": table.name, "n": len(rows)}).scalars())
    names, values = _with_defaults(table, rows)
    _copy(table, ["id", *names], [[i, *line] for i, line in zip(ids, values)])
    return ids


def update_rows(table: Table, rows: list[dict], only_if: str | None = None) -> None:
    """UPDATE each row ``id`` with the other values of its dict. ``only_if``: an extra SQL condition on the
    table's own columns (unqualified), e.g. ``"state IN ('done', 'invoiced')"``; rows it excludes stay as they
    are, as with ``UPDATE ... WHERE id = :id AND <only_if>``."""
    if not rows:
        return
    _same_columns(table, rows)
    names = [name for name in rows[0] if name != "id"]
    if not _postgres():
        statement = update(table).where(table.c.id == bindparam("b_id"))
        if only_if:
            statement = statement.where(text(only_if))
        db.session.execute(statement.values({name: bindparam(f"b_{name}") for name in names}),
                           [{f"b_{k}": v for k, v in row.items()} for row in rows])
        return
    from psycopg import sql
    db.session.flush()
    dialect = db.session.get_bind().dialect
    types = [table.c[name].type for name in ["id", *names]]
    processors = [t._cached_bind_processor(dialect) for t in types]
    statement = sql.SQL("UPDATE {t} SET {sets} FROM unnest({arrays}) AS v({columns}) WHERE {t}.id = v.b_id{extra}").format(
        t=sql.Identifier(table.name),
        sets=sql.SQL(", ").join(sql.SQL("{} = v.{}").format(sql.Identifier(n), sql.Identifier(f"b_{n}"))
                                for n in names),
        arrays=sql.SQL(", ").join(sql.SQL("%s::{}[]").format(sql.SQL(t.compile(dialect=dialect))) for t in types),
        columns=sql.SQL(", ").join(sql.Identifier(f"b_{n}") for n in ["id", *names]),
        extra=sql.SQL(f" AND ({only_if})") if only_if else sql.SQL(""))
    connection = db.session.connection()
    statement = statement.as_string(connection.connection.driver_connection)
    for start in range(0, len(rows), _MAX_ARRAY):
        part = rows[start:start + _MAX_ARRAY]
        arrays = [[p(row[n]) if p and row[n] is not None else row[n] for row in part]
                  for n, p in zip(["id", *names], processors)]
        connection.exec_driver_sql(statement, tuple(arrays))  # through SQLAlchemy: its events and errors
