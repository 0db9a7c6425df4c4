"""PostgreSQL: a read-only request reads in autocommit (no BEGIN, no COMMIT round trip), and the first statement
that may write or lock opens a real transaction, so what a GET writes still commits or rolls back as one
(core.db.read_in_autocommit). Transaction state is read from the server's answer after each statement: IDLE means
the statement ran outside a transaction."""
from __future__ import annotations

import os
from contextlib import contextmanager

import pytest
from sqlalchemy import event, text

from core import db as core_db
from core.extensions import db

PG = bool(os.environ.get("KONTOR_TEST_DATABASE_URL"))
INSERT_PARTNER = text("INSERT INTO core_partners (name, email, vat_id, street, zip, city, country, created_at) "
                      "VALUES (:name, '', '', '', '', '', 'FR', now())")
pytestmark = pytest.mark.skipif(not PG, reason="PostgreSQL only: autocommit reads")


@contextmanager
def states(app):
    """(first word of the statement, transaction status after it) for each statement sent."""
    seen: list[tuple[str, str]] = []

    def after(_conn, cursor, statement, _params, _context, _many):
        seen.append((statement.split(None, 1)[0].upper(), cursor.connection.info.transaction_status.name))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "after_cursor_execute", after)
    try:
        yield seen
    finally:
        event.remove(engine, "after_cursor_execute", after)


def test_a_get_reads_outside_a_transaction_and_a_post_inside_one(app, api):
    a = api("admin")
    partner = a.post("/partners", json={"name": "Autocommit SA"}).json
    invoice = a.post("/invoices", json={"partner_id": partner["id"], "lines": [
        {"description": "Job", "quantity": "1", "unit_price": "10.00"}]}).json
    with states(app) as seen:
        assert a.get(f"/invoices/{invoice['id']}").status_code == 200
    assert seen and all(status == "IDLE" for _, status in seen), seen
    with states(app) as seen:
        response = a.post(f"/invoices/{invoice['id']}/post")
    assert response.status_code == 200, response.json
    assert seen and all(status == "INTRANS" for _, status in seen), seen
    assert a.get(f"/invoices/{invoice['id']}").json["state"] == "posted"  # committed


def test_a_write_while_reading_opens_a_transaction_that_rolls_back_whole(app):
    token = core_db.read_only.set(True)
    try:
        with states(app) as seen, app.app_context():
            db.session.execute(text("SELECT 1"))
            db.session.execute(INSERT_PARTNER, {"name": "Ghost"})
            db.session.execute(text("SELECT 1"))
            db.session.rollback()
            assert db.session.execute(text("SELECT count(*) FROM core_partners WHERE name = 'Ghost'")).scalar() == 0
            db.session.rollback()
        assert [s for s in seen[:3]] == [("SELECT", "IDLE"), ("INSERT", "INTRANS"), ("SELECT", "INTRANS")]

        with states(app) as seen, app.app_context():
            db.session.execute(INSERT_PARTNER, {"name": "Kept"})
            db.session.commit()
            assert db.session.execute(text("SELECT count(*) FROM core_partners WHERE name = 'Kept'")).scalar() == 1
            db.session.rollback()
    finally:
        core_db.read_only.reset(token)


@pytest.mark.parametrize("statement", [
    "SELECT id FROM core_partners FOR UPDATE",
    "SELECT pg_advisory_xact_lock(42)",
    "WITH x AS (SELECT 1) SELECT * FROM x",
])
def test_a_locking_or_unusual_read_keeps_its_transaction(app, statement):
    token = core_db.read_only.set(True)
    try:
        with states(app) as seen, app.app_context():
            db.session.execute(text(statement))
            db.session.rollback()
        assert seen == [(statement.split()[0], "INTRANS")]
    finally:
        core_db.read_only.reset(token)


def test_outside_read_only_requests_every_statement_is_in_a_transaction(app):
    with states(app) as seen, app.app_context():
        db.session.execute(text("SELECT 1"))
        db.session.rollback()
    assert seen == [("SELECT", "INTRANS")]


def test_a_bulk_copy_while_reading_opens_the_transaction_too(app):
    """core.bulk's COPY goes to the driver, unseen by the statement listener: it must not autocommit its rows."""
    from core.bulk import insert_rows
    from core.models import AuditLog
    token = core_db.read_only.set(True)
    try:
        with app.app_context():
            db.session.execute(text("SELECT 1"))  # autocommit so far
            insert_rows(AuditLog.__table__, [{"document_type": "bulk", "document_id": 1, "action": "read-only"}])
            db.session.rollback()
            assert db.session.execute(text("SELECT count(*) FROM core_audit_log WHERE action = 'read-only'")
                                      ).scalar() == 0
            db.session.rollback()
    finally:
        core_db.read_only.reset(token)


@pytest.mark.parametrize("reading", [False, True])
def test_a_connection_asked_for_autocommit_keeps_it(app, reading):
    """isolation_level="AUTOCOMMIT" is the caller's choice (a VACUUM cannot run in a transaction): neither the
    read-only switch nor its first-write rule may take it away."""
    token = core_db.read_only.set(reading)
    try:
        with app.app_context():
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("VACUUM ANALYZE core_partners"))
                conn.execute(INSERT_PARTNER, {"name": "Autocommitted"})
                conn.execute(text("VACUUM core_partners"))
            assert db.session.execute(text("SELECT count(*) FROM core_partners WHERE name = 'Autocommitted'")
                                      ).scalar() == 1
            db.session.rollback()
    finally:
        core_db.read_only.reset(token)


def test_a_connection_broken_while_reading_is_replaced_not_lent_again(app):
    """At check-in the switch is undone; on a connection the server or the network dropped that fails, and the
    pool must discard it rather than lend it to the next request (the pool's own check-in listeners run as they
    would)."""
    import psycopg

    class Dropped:
        @property
        def autocommit(self):
            return True

        @autocommit.setter
        def autocommit(self, _value):
            raise psycopg.OperationalError("the connection is closed")

    class Record:
        def __init__(self):
            self.info = {core_db._OURS: True}
            self.invalidated = None

        def invalidate(self, exc=None):
            self.invalidated = exc

    record = Record()
    with app.app_context():
        db.engine.pool.dispatch.checkin(Dropped(), record)
    assert isinstance(record.invalidated, psycopg.OperationalError)
    assert core_db._OURS not in record.info
