"""The command line an operator types: ``python run.py addons list``, ``python run.py user create``."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from core import config as kontor_config
from core.cli import build_cli
from core.extensions import db
from core.models import ApiToken, User


@pytest.fixture
def run(app):
    """``run("user", "create", ...)`` → click's result for ``python run.py ...`` on the test app."""
    cli = build_cli(app)

    def _run(*args: str):
        return CliRunner().invoke(cli, list(args), prog_name="run.py")
    return _run


def test_addons_list_shows_every_addon_in_load_order_with_its_state(app, run):
    result = run("addons", "list")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["name", "version", "state", "depends"]
    kernel = app.extensions["kontor"]
    assert [line.split()[0] for line in lines[1:]] == kernel.names
    for line, addon in zip(lines[1:], kernel.addons):
        name, version, state, *depends = line.split(maxsplit=3)
        assert (name, version, state) == (addon.name, addon.manifest.version, "installed")
        assert depends == [", ".join(addon.manifest.depends) or "-"]


def test_addons_list_marks_an_addon_not_installed_yet(database_url):
    from core.app import create_app
    config = kontor_config.TestConfig(database_url)
    config.EXTRA_ADDON_PATHS = [str(kontor_config.ROOT / "docs" / "examples")]
    result = CliRunner().invoke(build_cli(create_app(config)), ["addons", "list"])
    assert result.exit_code == 0, result.output
    rows = [line.split() for line in result.output.splitlines()[1:]]
    assert ["hello", "1.0.0", "uninstalled", "-"] in rows


def test_user_create_with_token_prints_a_token_that_works_on_the_api(app, run):
    result = run("user", "create", "lea", "--role", "bookkeeper", "--password", "a-long-password", "--token")
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    token = lines[-1]
    assert token == token.strip() and " " not in token and len(token) > 30
    assert "lea" in lines[0] and "bookkeeper" in lines[0]

    me = app.test_client().get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200, me.get_data(as_text=True)
    assert me.json["login"] == "lea" and me.json["role"] == "bookkeeper"

    with app.app_context():  # stored hashed, never as given
        stored = db.session.scalars(select(ApiToken.token_hash)).all()
        assert token not in stored and len(stored) == 1


def test_user_create_without_token_prints_no_token(app, run):
    result = run("user", "create", "max", "--role", "technician")
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert lines[0] == "User max (technician) created."
    assert lines[1].startswith("Password: ") and len(lines) == 2  # a generated password, and no token
    with app.app_context():
        assert db.session.scalar(select(User.role).where(User.login == "max")) == "technician"
        assert db.session.scalars(select(ApiToken)).all() == []


def test_a_bad_role_is_refused_with_a_clear_message(app, run):
    result = run("user", "create", "zed", "--role", "wizard", "--token")
    assert result.exit_code == 2
    assert "Invalid value for '--role'" in result.output and "'wizard' is not one of" in result.output
    assert "technician" in result.output
    with app.app_context():
        assert db.session.scalar(select(User.id).where(User.login == "zed")) is None


@pytest.mark.parametrize("args, message", [
    (["--password", "short"], "at least 8 characters"),
    ([], "is taken"),
])
def test_a_refused_user_says_why_and_keeps_nothing(app, run, args, message):
    assert run("user", "create", "taken", "--role", "admin").exit_code == 0
    login = "taken" if message == "is taken" else "newcomer"
    result = run("user", "create", login, "--role", "admin", "--token", *args)
    assert result.exit_code == 1
    assert message in result.output and "Traceback" not in result.output
    with app.app_context():
        assert len(db.session.scalars(select(ApiToken)).all()) == 0
        assert db.session.scalar(select(User.id).where(User.login == "newcomer")) is None


def test_run_py_is_the_entry_point(database_url):
    env = {**os.environ, "KONTOR_DATABASE_URL": database_url, "KONTOR_SECRET_KEY": "test", "KONTOR_ADDONS": ""}
    result = subprocess.run([sys.executable, "run.py", "addons", "list"], cwd=kontor_config.ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0].split() == ["name", "version", "state", "depends"]
    help_text = subprocess.run([sys.executable, "run.py", "--help"], cwd=kontor_config.ROOT, env=env,
                               capture_output=True, text=True, timeout=120).stdout
    for command in ("init", "serve", "demo", "user", "addons"):
        assert command in help_text
