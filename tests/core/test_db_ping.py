"""PostgreSQL: a pooled connection that sat idle is pinged before a request uses it, so one the server dropped is
replaced instead of failing the request; a connection in steady use is not pinged (no round trip per request)."""
from __future__ import annotations

import os

import pytest
from sqlalchemy import create_engine, text

from core.db import ping_idle_connections

PG = bool(os.environ.get("KONTOR_TEST_DATABASE_URL"))
pytestmark = pytest.mark.skipif(not PG, reason="PostgreSQL only: the server drops the connection")


def test_a_dropped_idle_connection_is_replaced_before_use(database_url):
    engine = create_engine(database_url)
    ping_idle_connections(engine, idle=0)  # every checkout counts as idle
    pings = []
    real_ping = engine.dialect.do_ping
    engine.dialect.do_ping = lambda connection: pings.append(1) or real_ping(connection)
    try:
        with engine.connect() as conn:
            pid = conn.execute(text("SELECT pg_backend_pid()")).scalar()
        admin = create_engine(database_url)
        with admin.connect() as conn:
            conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            conn.commit()
        admin.dispose()
        with engine.connect() as conn:  # the dead one fails its ping and is replaced
            assert conn.execute(text("SELECT pg_backend_pid()")).scalar() != pid
        assert len(pings) >= 2
    finally:
        engine.dispose()


def test_a_connection_in_steady_use_is_not_pinged(database_url):
    engine = create_engine(database_url)
    ping_idle_connections(engine, idle=3600)
    pings = []
    real_ping = engine.dialect.do_ping
    engine.dialect.do_ping = lambda connection: pings.append(1) or real_ping(connection)
    try:
        for _ in range(5):
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        assert len(pings) == 1  # the first checkout of the new connection only
    finally:
        engine.dispose()
