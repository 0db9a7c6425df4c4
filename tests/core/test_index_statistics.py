"""SQLite: once a database has statistics, an index a later migration adds gets its statistics at the upgrade
(core.install.migrate). Without them SQLite weighs the new index by a guess against the measured ones: a new
(journal_id, id) index made the journal-filtered entries list sort every entry of its journal (8 ms -> 120 ms at
1M lines) and drove the general ledger's page through every entry."""
from __future__ import annotations

import pytest
from sqlalchemy import text

from core.extensions import db
from core.install import migrate


def _stats(name: str):
    return db.session.execute(text("SELECT stat FROM sqlite_stat1 WHERE idx = :n"), {"n": name}).scalar()


def test_an_index_added_after_analyze_gets_statistics_at_the_upgrade(app):
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("SQLite only: PostgreSQL's autovacuum analyzes by itself")
        db.session.execute(text("INSERT INTO core_partners (name, email, vat_id, street, zip, city, country, "
                                "created_at) VALUES ('Stat SA', '', '', '', '', '', 'FR', CURRENT_TIMESTAMP)"))
        db.session.execute(text("ANALYZE"))
        db.session.execute(text("CREATE INDEX ix_test_partners_city ON core_partners (city, id)"))  # as a migration
        db.session.commit()
        assert _stats("ix_test_partners_city") is None
    migrate(app)
    with app.app_context():
        assert _stats("ix_test_partners_city") is not None


def test_a_database_never_analyzed_is_left_to_the_planners_defaults(app):
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("SQLite only")
        db.session.execute(text("DROP TABLE IF EXISTS sqlite_stat1"))
        db.session.commit()
    migrate(app)
    with app.app_context():
        assert not db.session.execute(text("SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'")).scalar()
