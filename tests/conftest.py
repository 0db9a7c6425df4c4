"""Fixtures: ``app`` (a fresh, migrated database per test), ``client``, ``login`` (a role's browser session),
``api`` (a role's token client), ``ctx`` (an app context for calling services directly).

The same suite runs on SQLite and, with ``KONTOR_TEST_DATABASE_URL=postgresql+psycopg://...``, on PostgreSQL.
Each test gets its own database, copied from a template that was migrated once per test session, so tests commit
for real (as requests do) and concurrency tests can use several connections.
"""
from __future__ import annotations

import os
import re
import shutil
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from core.app import create_app
from core.config import TestConfig
from core.extensions import db
from core.install import install

PG_URL = os.environ.get("KONTOR_TEST_DATABASE_URL")
PASSWORD = "correct-horse-battery"


RUN_ID = uuid.uuid4().hex[:6]  # databases of concurrent test runs on one server never share a name


def _worker() -> str:
    return f'{os.environ.get("PYTEST_XDIST_WORKER", "main")}_{RUN_ID}'


class Databases:
    """A fresh, migrated database per test.

    SQLite: a copy of a template file migrated once per test session (a file copy takes a millisecond).
    PostgreSQL: one database per test worker, migrated once; after each test its tables are emptied (TRUNCATE) and
    the rows the install wrote are put back, which takes milliseconds where CREATE/DROP DATABASE took seconds.
    """

    def __init__(self, tmp: Path):
        self.tmp = tmp
        self.template: str | None = None
        self.snapshot: list[tuple] = []

    def _admin(self):
        url = make_url(PG_URL)
        return create_engine(url, isolation_level="AUTOCOMMIT")

    def template_url(self) -> str:
        if self.template:
            return self.template
        if PG_URL:
            name = f"kontor_w_{_worker()}"
            engine = self._admin()
            with engine.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            engine.dispose()
            url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
        else:
            url = f"sqlite:///{self.tmp / 'template.db'}"
        app = create_app(TestConfig(url))
        install(app)
        with app.app_context():
            if PG_URL:
                self.snapshot = [(table, [dict(r) for r in db.session.execute(table.select()).mappings()])
                                 for table in db.metadata.sorted_tables]
            db.session.remove()
            db.engine.dispose()
        self.template = url
        return url

    def new(self) -> str:
        template = self.template_url()
        if PG_URL:
            return template
        path = self.tmp / f"t_{uuid.uuid4().hex[:8]}.db"
        shutil.copyfile(self.tmp / "template.db", path)
        return f"sqlite:///{path}"

    def reset(self, url: str) -> None:
        """PostgreSQL: back to the state right after install (whatever the test committed or left behind)."""
        engine = create_engine(url)
        tables = [t for t, _ in self.snapshot]
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                              "WHERE datname = current_database() AND pid <> pg_backend_pid()"))
            conn.commit()
            with conn.begin():
                # Rows go without firing triggers (the ledger's triggers refuse deleting posted lines, as they
                # should) and without waiting for the disk: this is a throwaway test database.
                conn.execute(text("SET LOCAL session_replication_role = replica"))
                conn.execute(text("SET LOCAL synchronous_commit = off"))
                for table in reversed(tables):
                    conn.execute(table.delete())
                for table, rows in self.snapshot:
                    if rows:
                        conn.execute(table.insert(), rows)
                for table in tables:
                    if "id" in table.c and table.c.id.primary_key:
                        conn.execute(text(
                            f"SELECT setval(seq, COALESCE((SELECT max(id) FROM \"{table.name}\"), 0) + 1, false) "
                            f"FROM pg_get_serial_sequence('\"{table.name}\"', 'id') AS seq WHERE seq IS NOT NULL"))
                # A tamper test may have switched a trigger off: switch it back on.
                for relation, trigger in conn.execute(text(
                        "SELECT tgrelid::regclass::text, tgname FROM pg_trigger "
                        "WHERE NOT tgisinternal AND tgenabled = 'D'")).all():
                    conn.execute(text(f'ALTER TABLE {relation} ENABLE TRIGGER "{trigger}"'))
        engine.dispose()

    def drop(self, url: str) -> None:
        if PG_URL:
            engine = self._admin()
            with engine.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
            engine.dispose()
        else:
            for suffix in ("", "-wal", "-shm"):
                Path(make_url(url).database + suffix).unlink(missing_ok=True)


@pytest.fixture(scope="session")
def databases(tmp_path_factory):
    made = Databases(tmp_path_factory.mktemp("db"))
    yield made
    if made.template and PG_URL:
        made.drop(made.template)


@pytest.fixture
def database_url(databases):
    url = databases.new()
    yield url
    if PG_URL:
        databases.reset(url)
    else:
        databases.drop(url)


@pytest.fixture
def app(database_url):
    application = create_app(TestConfig(database_url))
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def ctx(app):
    """An app context: call services directly; commit like a request would."""
    with app.app_context():
        yield app
        db.session.rollback()


@pytest.fixture
def client(app):
    return app.test_client()


def csrf_from(html: str) -> str:
    match = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', html) or \
        re.search(r'<meta name="csrf-token" content="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def make_user(app, role: str, login: str | None = None, **extra):
    from core.security import create_token, create_user
    with app.app_context():
        user = create_user(login or f"{role}_{uuid.uuid4().hex[:6]}", role, PASSWORD, **extra)
        token = create_token(user)
        db.session.commit()
        return user.id, user.login, token


class Browser:
    """A logged-in test client that fetches CSRF tokens the way a browser's form would carry them."""

    def __init__(self, client, user_id: int, login: str):
        self.client, self.user_id, self.login = client, user_id, login
        self._token: str | None = None

    def token(self) -> str:
        if self._token is None:
            self._token = csrf_from(self.client.get("/").get_data(as_text=True))
        return self._token

    def get(self, url, **kw):
        return self.client.get(url, **kw)

    def post(self, url, data=None, **kw):
        data = dict(data or {})
        data.setdefault("csrf_token", self.token())
        return self.client.post(url, data=data, **kw)


@pytest.fixture
def login(app):
    """``login("back_office")`` → a Browser logged in as a new user of that role."""
    def _login(role: str, **extra) -> Browser:
        user_id, name, _ = make_user(app, role, **extra)
        client = app.test_client()
        page = client.get("/login").get_data(as_text=True)
        response = client.post("/login", data={"login": name, "password": PASSWORD, "csrf_token": csrf_from(page)})
        assert response.status_code == 302, response.get_data(as_text=True)
        return Browser(client, user_id, name)
    return _login


class ApiClient:
    def __init__(self, client, token: str, user_id: int):
        self.client, self.token, self.user_id = client, token, user_id

    def _headers(self, headers):
        return {"Authorization": f"Bearer {self.token}", **(headers or {})}

    def get(self, url, headers=None, **kw):
        return self.client.get("/api/v1" + url, headers=self._headers(headers), **kw)

    def post(self, url, json=None, headers=None, **kw):
        return self.client.post("/api/v1" + url, json=json if json is not None else ({} if "data" not in kw else None),
                                headers=self._headers(headers), **kw)

    def patch(self, url, json=None, headers=None, **kw):
        return self.client.patch("/api/v1" + url, json=json, headers=self._headers(headers), **kw)

    def put(self, url, json=None, headers=None, **kw):
        return self.client.put("/api/v1" + url, json=json, headers=self._headers(headers), **kw)

    def delete(self, url, headers=None, **kw):
        return self.client.delete("/api/v1" + url, headers=self._headers(headers), **kw)


@pytest.fixture
def api(app):
    """``api("admin")`` → a JSON client with a bearer token of a new user of that role."""
    def _api(role: str = "admin", **extra) -> ApiClient:
        user_id, _, token = make_user(app, role, **extra)
        return ApiClient(app.test_client(), token, user_id)
    return _api


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "tests/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


class Inbox:
    """Messages a real local SMTP server (aiosmtpd) received."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope)
        return "250 OK"


@pytest.fixture
def smtp(app):
    """A real SMTP server on 127.0.0.1 (random port) that the app sends to; yields its Inbox."""
    import socket

    from aiosmtpd.controller import Controller
    inbox = Inbox()
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    app.config["SMTP_URL"] = f"smtp://127.0.0.1:{port}"
    app.config["SMTP_FROM"] = "invoices@kontor.test"
    yield inbox
    controller.stop()
