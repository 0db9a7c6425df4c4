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
    for addon in kernel.addons:
        try:
            module = importlib.import_module(f"{addon.module.__name__}.demo")
        except ModuleNotFoundError:
            continue
        module.load(orders=orders, progress=progress)
    db.session.commit()


def is_initialised(app: Flask) -> bool:
    with app.app_context():
        from sqlalchemy import inspect
        return inspect(db.engine).has_table("core_addons")
