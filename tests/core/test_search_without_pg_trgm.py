"""PostgreSQL: a database role that may not create the pg_trgm extension (no CREATE on the database) still installs
Kontor; the migrations log that the search stays unindexed, and the lists' search returns exactly the rows of a
plain substring search (core.search's documented fallback)."""
from __future__ import annotations

import logging
import os
import uuid

import pytest
from sqlalchemy import create_engine, or_, select, text
from sqlalchemy.engine import make_url

from addons.field_service.models import ServiceOrder
from addons.field_service.queries import TEXT_SEARCH
from addons.invoicing.models import Invoice
from addons.invoicing.queries import invoice_query
from addons.invoicing.services import create_invoice
from core.app import create_app
from core.config import TestConfig
from core.extensions import db
from core.install import install
from core.models import Partner
from core.search import like_pattern

PG_URL = os.environ.get("KONTOR_TEST_DATABASE_URL")
pytestmark = pytest.mark.skipif(not PG_URL, reason="PostgreSQL only: extensions and roles are PostgreSQL's")


@pytest.fixture
def unprivileged_url():
    """A new database owned by the server's admin, and a login role that may use its public schema but not create
    extensions in it (trusted extensions like pg_trgm need CREATE on the database)."""
    suffix = uuid.uuid4().hex[:8]
    name, role = f"kontor_notrgm_{suffix}", f"kontor_notrgm_{suffix}"
    admin = create_engine(make_url(PG_URL).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE ROLE "{role}" LOGIN'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    owner = create_engine(make_url(PG_URL).set(database=name), isolation_level="AUTOCOMMIT")
    with owner.connect() as conn:
        conn.execute(text(f'GRANT USAGE, CREATE ON SCHEMA public TO "{role}"'))
    owner.dispose()
    yield make_url(PG_URL).set(database=name, username=role).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'DROP ROLE IF EXISTS "{role}"'))
    admin.dispose()


def test_install_without_pg_trgm_logs_it_and_the_search_scans_with_the_same_rows(unprivileged_url, caplog):
    app = create_app(TestConfig(unprivileged_url))
    with caplog.at_level(logging.WARNING, logger="core.search"):
        install(app)
    warned = [r.getMessage() for r in caplog.records if r.name == "core.search"]
    assert any("pg_trgm could not be created" in m for m in warned), warned
    try:
        with app.app_context():
            assert not db.session.scalar(text("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'"))
            assert not db.session.scalar(text("SELECT count(*) FROM pg_indexes WHERE indexname LIKE '%_trgm'"))
            customer = Partner(name="Cabinet Dupont")
            other = Partner(name="Zeta Plomberie")
            db.session.add_all([customer, other])
            db.session.flush()
            orders = [ServiceOrder(number=f"SO/2026/0000{i}", partner_id=other.id, description=d, site_address=s)
                      for i, (d, s) in enumerate([("Fuite sous l'évier", "Lyon"), ("ÉVIER bouché", "a_b road"),
                                                  ("Remise à 100%", "Berlin")], start=1)]
            db.session.add_all(orders)
            invoices = [create_invoice(p.id) for p in (customer, other, other)]
            db.session.commit()

            for query in ["évier", "ÉVIER", "vier", "a_b", "100%", "SO/2026/00002", "zzz"]:
                like = like_pattern(query)
                expected = set(db.session.scalars(select(ServiceOrder.id).where(
                    or_(*(c.ilike(like, escape="\\") for c in TEXT_SEARCH.columns)))))
                found = set(db.session.scalars(select(ServiceOrder.id).where(TEXT_SEARCH.contains(query))))
                assert found == expected, query
            assert {o.id for o in orders[:2]} == set(db.session.scalars(
                select(ServiceOrder.id).where(TEXT_SEARCH.contains("évier"))))
            # The invoice search by customer name, the other half of the union, works the same way.
            found = set(db.session.scalars(invoice_query({"q": "cabinet"}).with_only_columns(Invoice.id)))
            assert found == {invoices[0].id}
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
