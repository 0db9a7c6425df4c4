"""Gapless numbering per (sequence code, year).

The counter row is bumped inside the caller's transaction: on PostgreSQL under the row lock that ``UPDATE`` (or,
for a new series, ``SELECT ... FOR UPDATE``) takes, so a second poster waits until the first commits or rolls
back; on SQLite inside the ``BEGIN IMMEDIATE`` that every writing transaction takes (core.db). If the transaction
rolls back, the bump rolls back with it, so a number is used exactly when the document that took it is committed:
no gaps, no repeats.
"""
from __future__ import annotations

from datetime import date

from sqlalchemy import Date, Integer, bindparam, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from core.errors import DomainError
from core.extensions import db
from core.models import Sequence


class NotChronological(DomainError):
    code = "not_chronological"


def _lock_row(code: str, year: int) -> Sequence:
    session = db.session
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    session.execute(insert(Sequence).values(code=code, year=year, next_number=1)
                    .on_conflict_do_nothing(index_elements=["code", "year"]))
    stmt = select(Sequence.next_number, Sequence.last_date).where(Sequence.code == code, Sequence.year == year)
    if dialect == "postgresql":
        stmt = stmt.with_for_update()
    return session.execute(stmt).one()


_TABLE = Sequence.__table__
# The usual case in one statement (built once: it runs for every number): bump an existing counter whose last date
# is not after the new document's. The UPDATE takes the row lock (PostgreSQL: a second poster waits for our commit
# or rollback, then re-checks the WHERE on the row we left), and RETURNING gives the bumped counter.
_BUMP = (_TABLE.update()
         .where(_TABLE.c.code == bindparam("seq_code"), _TABLE.c.year == bindparam("seq_year"),
                _TABLE.c.last_date.is_(None) | (_TABLE.c.last_date <= bindparam("seq_on", type_=Date)))
         .values(next_number=_TABLE.c.next_number + bindparam("seq_count", type_=Integer),
                 last_date=bindparam("seq_last", type_=Date))
         .returning(_TABLE.c.next_number))


def take(code: str, on_date: date, count: int = 1, last_date: date | None = None) -> int:
    """Reserve ``count`` consecutive numbers of ``code`` for ``on_date``'s year; return the first.

    Refuses (NotChronological) a date before the last one numbered in the series, so number order is date order.
    A batch numbering documents dated ``on_date`` .. ``last_date`` (same year, sorted by date) passes the last
    date, which becomes the series' last numbered date.
    """
    # The counter has nothing to do with the caller's pending changes: they are not flushed here (a Core statement
    # would flush them) but together at the caller's next flush, one UPDATE per row instead of two.
    with db.session.no_autoflush:
        return _take(code, on_date, count, last_date)


def _take(code: str, on_date: date, count: int, last_date: date | None) -> int:
    year = on_date.year
    new_last = max(on_date, last_date or on_date)
    bumped = db.session.execute(_BUMP, {"seq_code": code, "seq_year": year, "seq_on": on_date, "seq_count": count,
                                        "seq_last": new_last}).scalar()
    if bumped is not None:
        return bumped - count
    # No row back: the series is new or the date is too early; the path below creates the row or says why.
    row = _lock_row(code, year)
    if row.last_date is not None and on_date < row.last_date:
        raise NotChronological(
            f"The last document in series {code} {year} is dated {row.last_date.isoformat()}; "
            f"one dated {on_date.isoformat()} cannot be numbered after it. Date it {row.last_date.isoformat()} or later.",
            fields={"invoice_date": ["Must not be before the last numbered document of its series."]},
        )
    first = row.next_number
    # No ORM synchronisation: Sequence rows are never held as objects, and scanning the identity map on every
    # number made a batch of N postings cost O(N²).
    db.session.execute(update(Sequence).where(Sequence.code == code, Sequence.year == year)
                       .values(next_number=first + count, last_date=new_last)
                       .execution_options(synchronize_session=False))
    return first


def format_number(prefix: str, year: int, number: int, width: int = 5) -> str:
    """``INV/2026/00001``."""
    return f"{prefix}/{year}/{number:0{width}d}"


def peek(code: str, year: int) -> int:
    """The next number that would be given (for display only; never reserve with it)."""
    value = db.session.execute(select(Sequence.next_number)
                               .where(Sequence.code == code, Sequence.year == year)).scalar()
    return value or 1
