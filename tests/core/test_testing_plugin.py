"""Kontor's pytest plugin (core/testing.py) gives an addon outside the tree the suite's fixtures: its tests run with
``pytest DIR/NAME`` from the checkout, on a database that has the addon's tables, and may import the addon by its
own name without SQLAlchemy seeing its models twice. Each case runs pytest in a fresh interpreter."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from importlib import metadata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

FILES = {
    "__manifest__.py": '{"name": "callout_fee", "version": "0.1.0", "summary": "A fixed fee", "depends": ["invoicing"]}\n',
    "__init__.py": '''
        from . import api, models  # noqa: F401  (models: the kernel sees the tables)


        def register(kernel):
            kernel.register_permissions({"callout_fee.read": ["back_office", "bookkeeper"]})
            kernel.register_api(api.blp)
        ''',
    "models.py": '''
        from sqlalchemy import String
        from sqlalchemy.orm import Mapped, mapped_column

        from core.extensions import Base


        class CalloutFeeSettings(Base):
            __tablename__ = "callout_fee_settings"
            id: Mapped[int] = mapped_column(primary_key=True)
            amount: Mapped[str] = mapped_column(String(20))
        ''',
    "api.py": '''
        from flask import jsonify

        from core.api import Blueprint
        from core.extensions import db
        from core.security import require

        from .models import CalloutFeeSettings

        blp = Blueprint("callout_fee_api", __name__, description="Call-out fee")


        @blp.route("/callout-fee")
        @require("callout_fee.read")
        def fee():
            row = db.session.scalars(db.select(CalloutFeeSettings)).first()
            return jsonify({"amount": row.amount if row else "45.00"})
        ''',
    "migrations/versions/callout_fee_0001_settings.py": '''
        import sqlalchemy as sa
        from alembic import op

        revision = "callout_fee_0001_settings"
        down_revision = None
        branch_labels = ("callout_fee",)
        depends_on = ["core_0001"]


        def upgrade() -> None:
            op.create_table("callout_fee_settings", sa.Column("id", sa.Integer(), primary_key=True),
                            sa.Column("amount", sa.String(20), nullable=False))


        def downgrade() -> None:
            op.drop_table("callout_fee_settings")
        ''',
    "tests/__init__.py": "",
    # Imports the addon by its own name, as a developer writes it (and as pytest imports this package).
    "tests/test_fee.py": '''
        from decimal import Decimal

        from callout_fee.models import CalloutFeeSettings
        from core.extensions import db


        def test_the_fee_is_read_from_the_addons_table(app, ctx, api):
            assert app.extensions["kontor"].has("callout_fee")
            db.session.add(CalloutFeeSettings(amount="60.00"))
            db.session.commit()
            answer = api("back_office").get("/callout-fee")
            assert answer.status_code == 200, answer.json
            assert answer.json == {"amount": "60.00"}


        def test_roles_come_from_the_addons_permissions(api):
            assert api("bookkeeper").get("/callout-fee").status_code == 200
            assert api("technician").get("/callout-fee").status_code == 403


        def test_a_logged_in_page(login):
            assert login("back_office").get("/").status_code == 200


        def test_each_test_has_a_fresh_database(ctx):
            assert db.session.scalars(db.select(CalloutFeeSettings)).all() == []


        def test_the_factories_make_a_done_order_and_a_posted_invoice(factories):
            order = factories.done_order()
            assert order["state"] == "done" and [Decimal(t["hours"]) for t in order["time_entries"]] == [2]
            invoice = factories.posted_invoice(quantity="3")
            assert invoice["state"] == "posted" and invoice["number"] and Decimal(invoice["amount_untaxed"]) == 180
        ''',
}


def _write_addon(base: Path) -> Path:
    addon = base / "callout_fee"
    for name, content in FILES.items():
        (addon / name).parent.mkdir(parents=True, exist_ok=True)
        (addon / name).write_text(textwrap.dedent(content).lstrip())
    return addon


def _pytest(target: Path, *extra: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "KONTOR_ADDONS": ""}  # found from the path given to pytest, nothing else
    env.pop("PYTEST_XDIST_WORKER", None)
    env.pop("PYTEST_ADDOPTS", None)
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:xdist", "-p", "no:cacheprovider", "-q",
                           *extra, str(target)], check=False, cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=300)


@pytest.mark.parametrize("with_conftest", [False, True], ids=["entry_point", "one_line_conftest"])
def test_an_addon_outside_the_tree_runs_its_own_tests(tmp_path, with_conftest):
    addon = _write_addon(tmp_path / "my_addons")
    if with_conftest:  # the documented line: loads the plugin without the entry point, harmless with it
        (addon / "conftest.py").write_text('pytest_plugins = ["core.testing"]\n')
    elif "core.testing" not in {ep.name for ep in metadata.entry_points(group="pytest11")}:
        pytest.fail("Kontor's pytest11 entry point is not installed in this venv: run `make install`")
    out = _pytest(addon)
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-3000:]
    assert "5 passed" in out.stdout, out.stdout[-2000:]
    assert "already defined" not in out.stdout + out.stderr


def test_without_the_plugin_the_fixtures_are_missing(tmp_path):
    """What the plugin brings: turned off, the same tests have no ``app`` (so the test above cannot pass alone)."""
    addon = _write_addon(tmp_path / "my_addons")
    out = _pytest(addon, "-p", "no:core.testing")
    assert out.returncode != 0
    assert "fixture 'app' not found" in out.stdout or "fixture 'ctx' not found" in out.stdout, out.stdout[-2000:]
