"""Adding an addon from another folder (KONTOR_ADDONS): docs/examples/hello gives a page, a menu entry, a
dashboard tile and a command, and nothing in the kernel knows about it."""
from __future__ import annotations

import pytest
from click.testing import CliRunner

from core.app import create_app
from core.cli import build_cli
from core import config as kontor_config
from core.extensions import db

EXAMPLES = kontor_config.ROOT / "docs" / "examples"


@pytest.fixture
def app(database_url):
    """The test app with the example folder as an extra addon path (what KONTOR_ADDONS sets)."""
    config = kontor_config.TestConfig(database_url)
    config.EXTRA_ADDON_PATHS = [str(EXAMPLES)]
    application = create_app(config)
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()


def test_the_addon_is_loaded_from_the_extra_folder(app):
    kernel = app.extensions["kontor"]
    assert kernel.has("hello")
    assert kernel.addon("hello").path == EXAMPLES / "hello"
    assert "hello.view" in kernel.permissions


def test_kontor_addons_environment_variable_adds_the_folder(monkeypatch):
    import importlib

    import core.config
    monkeypatch.setenv("KONTOR_ADDONS", str(EXAMPLES))
    try:
        reloaded = importlib.reload(core.config)
        assert reloaded.Config.EXTRA_ADDON_PATHS == [str(EXAMPLES)]
    finally:
        monkeypatch.delenv("KONTOR_ADDONS")
        importlib.reload(core.config)


def test_its_page_menu_entry_and_tile_show_for_a_logged_in_user(app, login, api):
    api("back_office").post("/partners", json={"name": "Acme"})
    browser = login("technician")

    page = browser.get("/hello?name=Sam")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Hello, Sam! Kontor knows 1 customer." in html
    assert '<a href="/hello" class="active">Hello</a>' in html  # its own menu entry, marked active

    dashboard = browser.get("/").get_data(as_text=True)
    assert 'href="/hello"' in dashboard
    assert "customers to greet" in dashboard and '<div class="tile-value">1</div>' in dashboard


def test_its_page_asks_anonymous_visitors_to_log_in(client):
    response = client.get("/hello")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_without_the_extra_folder_there_is_no_hello(database_url):
    plain = create_app(kontor_config.TestConfig(database_url))
    assert not plain.extensions["kontor"].has("hello")
    assert plain.test_client().get("/hello").status_code == 404


def test_its_command_is_on_the_command_line(app, api):
    api("back_office").post("/partners", json={"name": "Acme"})
    api("back_office").post("/partners", json={"name": "Globex"})
    cli = build_cli(app)
    result = CliRunner().invoke(cli, ["hello", "--name", "Ada"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "Hello, Ada! Kontor knows 2 customers."
    assert "hello" in CliRunner().invoke(cli, ["--help"]).output
