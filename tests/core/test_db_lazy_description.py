"""PostgreSQL: the app's psycopg cursors build ``description`` only when it is read (core.db), and what they give
is what psycopg's own cursor gives: the same names, types and sizes, None for a statement without rows, and the
columns of the result it was read from even after the cursor ran another statement."""
from __future__ import annotations

import os

import psycopg
import pytest
from sqlalchemy import text

from core.extensions import db

PG = bool(os.environ.get("KONTOR_TEST_DATABASE_URL"))
pytestmark = pytest.mark.skipif(not PG, reason="PostgreSQL only: psycopg's cursor")

QUERY = ("SELECT 1::integer AS n, 'x'::varchar(12) AS label, 12.50::numeric(18, 2) AS amount, "
         "current_date AS day, true AS flag, NULL::text AS nothing")


def _plain(columns):
    return [(c.name, c.type_code, c.display_size, c.internal_size, c.precision, c.scale, c.null_ok) for c in columns]


def test_the_app_cursor_describes_results_as_psycopg_does(app):
    with app.app_context():
        raw = db.engine.raw_connection()
        try:
            lazy = raw.driver_connection.cursor()
            assert type(lazy) is not psycopg.Cursor and isinstance(lazy, psycopg.Cursor)
            plain = psycopg.Cursor(raw.driver_connection)
            lazy.execute(QUERY)
            plain.execute(QUERY)
            described = lazy.description
            assert len(described) == 6 and _plain(described) == _plain(plain.description)
            assert described[1].name == "label" and described[-1][0] == "nothing"
            assert [c[0] for c in described[2:4]] == ["amount", "day"]
            assert lazy.fetchone() == plain.fetchone()

            lazy.execute("CREATE TEMP TABLE lazy_description_probe (id integer)")
            assert lazy.description is None
            lazy.execute("INSERT INTO lazy_description_probe VALUES (1)")
            assert lazy.description is None
            lazy.execute("SELECT")  # rows of no column: a description, empty
            assert lazy.description is not None and len(lazy.description) == 0

            lazy.execute(QUERY)
            kept = lazy.description
            lazy.execute("SELECT 2 AS other")
            assert [c.name for c in kept] == ["n", "label", "amount", "day", "flag", "nothing"]
            assert [c.name for c in lazy.description] == ["other"]
        finally:
            raw.rollback()
            raw.close()


def test_sqlalchemy_reads_columns_through_it(app):
    with app.app_context():
        for label in ("first", "second"):  # a new statement each time: SQLAlchemy reads the description itself
            row = db.session.execute(text(f"SELECT 7 AS {label}, 'y' AS word")).mappings().one()
            assert dict(row) == {label: 7, "word": "y"}
        db.session.rollback()
