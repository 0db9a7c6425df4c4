"""Create or upgrade the schema (Alembic, a branch per addon), install new addons' data, load demo data."""
from __future__ import annotations

import importlib
import os
from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from flask import Flask
from sqlalchemy import select

from core.extensions import db
from core.models import AddonState, company

CORE_MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(app: Flask, connection, table_prefixes: list[str] | None = None) -> AlembicConfig:
    kernel = app.extensions["kontor"]
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(CORE_MIGRATIONS))
    cfg.set_main_option("path_separator", "os")
    cfg.set_main_option("version_locations", os.pathsep.join([str(CORE_MIGRATIONS / "versions"),
                                                              *kernel.migration_locations()]))
    cfg.attributes["connection"] = connection
    cfg.attributes["table_prefixes"] = table_prefixes
    return cfg


def migrate(app: Flask) -> None:
    """Apply every installed addon's migrations (``alembic upgrade heads``) in one transaction."""
    with app.app_context():
        with db.engine.begin() as connection:
            command.upgrade(alembic_config(app, connection), "heads")
            if connection.dialect.name == "sqlite":
                _statistics_for_new_indexes(connection)


def _statistics_for_new_indexes(connection) -> None:
    """SQLite: once a database has statistics (someone ran ANALYZE), the indexes a migration adds get theirs too.
    Without them SQLite weighs a new index by a guess against the measured ones and may prefer it badly (a new
    (journal_id, id) index made the journal-filtered entries list sort every entry of the journal). PostgreSQL's
    autovacuum analyzes by itself."""
    from sqlalchemy import text
    if not connection.scalar(text("SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'")):
        return
    missing = connection.scalars(text(
        "SELECT name FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite_%' "
        "AND name NOT IN (SELECT idx FROM sqlite_stat1 WHERE idx IS NOT NULL)")).all()
    for name in missing:
        connection.exec_driver_sql(f'ANALYZE "{name}"')


def install(app: Flask, demo_orders: int | None = None) -> list[str]:
    """Migrate, then run ``install()`` of each addon not yet installed, in load order. Returns the new names."""
    migrate(app)
    kernel = app.extensions["kontor"]
    newly: list[str] = []
    with app.app_context():
        company()
        known = {s.name: s for s in db.session.scalars(select(AddonState))}
        for addon in kernel.addons:
            state = known.get(addon.name)
            if state is None:
                if hasattr(addon.module, "install"):
                    addon.module.install()
                db.session.add(AddonState(name=addon.name, version=addon.manifest.version, state="installed"))
                newly.append(addon.name)
            elif state.version != addon.manifest.version:
                state.version = addon.manifest.version
        db.session.commit()
        if demo_orders is not None:
            load_demo(app, demo_orders)
    return newly


def load_demo(app: Flask, orders: int = 20, progress=None) -> None:
    """Each addon's ``demo.load(orders, progress)`` in load order (dependencies first)."""
    kernel = app.extensions["kontor"]
    _demo_company()
    for addon in kernel.addons:
        try:
            module = importlib.import_module(f"{addon.module.__name__}.demo")
        except ModuleNotFoundError:
            continue
        module.load(orders=orders, progress=progress)
    db.session.commit()


def _demo_company() -> None:
    """A company that looks like one on the demo's documents (only while it still has the default name)."""
    row = company()
    if row.name == "My Company":
        row.name, row.email, row.vat_id, row.siren = ("Kontor Services SARL", "factures@kontor-services.example",
                                                      "FR32123456789", "123456789")
        row.street, row.zip, row.city, row.country = "12 rue des Artisans", "69007", "Lyon", "FR"
        row.iban = "FR76 3000 6000 0112 3456 7890 189"
        db.session.flush()


def is_initialised(app: Flask) -> bool:
    with app.app_context():
        from sqlalchemy import inspect
        return inspect(db.engine).has_table("core_addons")
