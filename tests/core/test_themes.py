"""Choosing a look: KONTOR_THEME picks a folder under themes/ whose templates and static files win by path."""
from __future__ import annotations

import pytest

from core import config as kontor_config
from core.app import create_app
from core.extensions import db

ROOT = kontor_config.ROOT


def make_app(database_url, theme=None):
    config = kontor_config.TestConfig(database_url)
    if theme is not None:
        config.THEME = theme
    return create_app(config)


@pytest.fixture
def themed(database_url):
    apps = []

    def _themed(theme=None):
        apps.append(make_app(database_url, theme))
        return apps[-1]
    yield _themed
    for application in apps:
        with application.app_context():
            db.engine.dispose()


def test_the_default_theme_serves_its_own_theme_css(themed):
    response = themed().test_client().get("/static/theme.css")
    assert response.status_code == 200
    assert response.get_data() == (ROOT / "themes" / "default" / "static" / "theme.css").read_bytes()
    response.close()


def test_kontor_theme_dark_serves_the_dark_palette(themed):
    client = themed("dark").test_client()
    response = client.get("/static/theme.css")
    assert response.status_code == 200
    body = response.get_data()
    assert body == (ROOT / "themes" / "dark" / "static" / "theme.css").read_bytes()
    assert b"--bg: #12151c" in body
    assert body != (ROOT / "core" / "static" / "theme.css").read_bytes()  # the theme's file wins over core's
    login = client.get("/login").get_data(as_text=True)
    assert 'href="/static/theme.css"' in login and 'href="/static/kontor.css"' in login
    assert client.get("/static/kontor.css").status_code == 200  # what the theme leaves alone comes from core
    response.close()


def test_the_environment_variable_sets_the_theme(monkeypatch):
    import importlib
    monkeypatch.setenv("KONTOR_THEME", "dark")
    try:
        assert importlib.reload(kontor_config).Config.THEME == "dark"
    finally:
        monkeypatch.delenv("KONTOR_THEME")
        importlib.reload(kontor_config)
    assert kontor_config.Config.THEME == "default"


def test_an_unknown_theme_stops_start_up_with_its_name(database_url):
    with pytest.raises(RuntimeError, match="no-such-theme"):
        make_app(database_url, "no-such-theme")


def test_static_files_outside_the_folders_are_not_served(themed):
    client = themed().test_client()
    for path in ("/static/../config.py", "/static/%2e%2e/core/config.py", "/static/../../run.py",
                 "/static/no-such-file.css"):
        assert client.get(path).status_code == 404, path


def test_a_theme_overrides_a_core_template_and_static_file_by_path(database_url, tmp_path, monkeypatch):
    """A theme only holds the files it changes, at the same path as the ones it replaces."""
    theme = tmp_path / "themes" / "brand"
    (theme / "templates" / "core").mkdir(parents=True)
    (theme / "static").mkdir(parents=True)
    (theme / "templates" / "core" / "login.html").write_text(
        '{% extends "base.html" %}{% block content %}<h1 class="brand-login">Welcome to Brand</h1>'
        '<form method="post">{{ form.hidden_tag() }}{{ form.login() }}{{ form.password() }}'
        '<button>Log in</button></form>{% endblock %}')
    (theme / "static" / "theme.css").write_text(":root { --primary: #c0ffee; }")
    monkeypatch.setattr("core.app.ROOT", tmp_path)  # themes/ is looked up under the project root

    application = make_app(database_url, "brand")
    try:
        client = application.test_client()
        login = client.get("/login").get_data(as_text=True)
        assert "Welcome to Brand" in login  # the theme's template
        assert '<header class="topbar">' in login  # still extending the core layout it did not override
        assert client.get("/static/theme.css").get_data() == b":root { --primary: #c0ffee; }"
        assert client.get("/static/kontor.css").status_code == 200
        # Pages the theme does not touch come from core as before.
        assert client.get("/no-such-page").status_code == 404
    finally:
        with application.app_context():
            db.engine.dispose()
