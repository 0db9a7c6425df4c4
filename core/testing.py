"""Kontor's pytest plugin: the fixtures Kontor's own suite uses, for an addon's tests wherever the addon lives.

Loaded through the ``pytest11`` entry point ``core.testing`` (``pip install -e .`` of Kontor, as ``make install``
does). Where Kontor is not installed, one line in the addon's ``conftest.py`` loads it, and is harmless where it is:
``pytest_plugins = ["core.testing"]``.

- ``app``: the Flask app on a fresh database, migrated with every addon installed: those in ``addons/``, those in
  ``KONTOR_ADDONS``, and the addon whose tests are run (``pytest path/to/my_addon`` finds the folder holding it);
- ``database_url``: that database's URL, for tests that start their own apps or processes; ``ctx``: an app
  context to call services directly; ``client``: a plain test client;
- ``login("back_office")``: a browser-like client logged in as a new user of that role (``post()`` carries the
  CSRF token); ``api("bookkeeper")``: a JSON client with a bearer token of a new user of that role;
- ``factories``: a partner, a product, a done service order, a posted invoice, made through the API;
- ``kontor_addon_paths`` and ``kontor_config``: where the addons come from and the config apps are made from.

Each test gets its own database, copied from a template migrated once per session (SQLite), or the worker's
database emptied back to its installed state after the test (``KONTOR_TEST_DATABASE_URL=postgresql+psycopg://...``),
so tests commit for real, as requests do.

An addon outside the tree is imported by the kernel as ``kontor_addons.<name>``. Its test files may import it as
``<name>`` (pytest does so when the addon folder is a package): the plugin makes both names one module, and the
kernel takes an addon already imported under its own name (a ``conftest.py`` inside it), so its models are defined
once (SQLAlchemy refuses a table defined twice).
"""
from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import os
import re
import shutil
import sys
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from core.app import create_app
from core.config import Config, TestConfig
from core.extensions import db
from core.install import install
from core.kernel import BUILTIN_ADDONS, EXTERNAL_PACKAGE, discover, external_package

_ADDON_PATHS = pytest.StashKey[list]()


# -- Where the addons are, and one name for each ---------------------------------------------------------------
def _addon_folders_of(arg: str) -> list[Path]:
    """The folder(s) holding addons that ``arg`` (a test path given to pytest) belongs to or contains."""
    path = Path(arg.split("::", 1)[0]).resolve()
    if not path.exists():
        return []
    for folder in (path, *path.parents):
        if (folder / "__manifest__.py").is_file():
            return [folder.parent]
    if path.is_dir() and any((child / "__manifest__.py").is_file() for child in path.iterdir() if child.is_dir()):
        return [path]
    return []


class _OneName(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """``import my_addon[.x]`` gives the module the kernel imports as ``kontor_addons.my_addon[.x]``."""

    def __init__(self, names: set[str]):
        self.names = names
        self._specs: dict[str, object] = {}

    def find_spec(self, fullname, path=None, target=None):
        top = fullname.partition(".")[0]
        if top not in self.names:
            return None
        first = sys.modules.get(top)
        if first is not None and first.__name__ == top:
            return None  # imported under its own name before this finder (a conftest.py in the addon): keep that one
        return importlib.util.spec_from_loader(fullname, self)

    def create_module(self, spec):
        module = importlib.import_module(f"{EXTERNAL_PACKAGE}.{spec.name}")
        self._specs[spec.name] = module.__spec__
        return module

    def exec_module(self, module):
        # The import system set __spec__ to the alias's; the module keeps its own (its name, file and loader).
        module.__spec__ = self._specs.get(module.__name__.removeprefix(f"{EXTERNAL_PACKAGE}."), module.__spec__)


def pytest_configure(config):
    paths: list[Path] = [Path(p).resolve() for p in Config.EXTRA_ADDON_PATHS]
    for arg in config.args:
        for folder in _addon_folders_of(arg):
            if folder != BUILTIN_ADDONS and folder not in paths:
                paths.append(folder)
    config.stash[_ADDON_PATHS] = paths
    if paths:
        names = set()
        for name, addon in discover(paths).items():
            if addon.path.parent != BUILTIN_ADDONS:
                external_package(addon.path.parent)
                names.add(name)
        if names:
            sys.meta_path.insert(0, _OneName(names))


# -- Databases, apps, clients ------------------------------------------------------------------------------------
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

    def __init__(self, tmp: Path, make_config: Callable[[str], TestConfig] = TestConfig):
        self.tmp = tmp
        self.make_config = make_config
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
        app = create_app(self.make_config(url))  # the template has every addon the tests' apps load
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
def kontor_addon_paths(pytestconfig) -> list[Path]:
    """The addon folders besides addons/: KONTOR_ADDONS, plus the folder holding each addon whose tests are run
    (``pytest DIR/NAME``). An addon's conftest.py may override this (session scope) to name its folder."""
    return list(pytestconfig.stash.get(_ADDON_PATHS, []))


@pytest.fixture(scope="session")
def kontor_config(kontor_addon_paths) -> Callable[[str], TestConfig]:
    """``kontor_config(database_url)`` → the TestConfig every test app (and the template database) is made from."""
    def make(url: str) -> TestConfig:
        config = TestConfig(url)
        config.EXTRA_ADDON_PATHS = [str(p) for p in kontor_addon_paths]
        return config
    return make


@pytest.fixture(scope="session")
def databases(tmp_path_factory, kontor_config):
    made = Databases(tmp_path_factory.mktemp("db"), kontor_config)
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
def app(database_url, kontor_config):
    """The app on a fresh database migrated with every addon installed (addons/ and kontor_addon_paths)."""
    application = create_app(kontor_config(database_url))
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


class Factories:
    """Small, valid records made through the API as a back office user would make them, each call a new one.

    ``partner()``, ``product()`` (labour at 60.00 with the first tax), ``done_order()`` (2 h of labour, a report, done:
    ready to invoice; needs field_service), ``posted_invoice()`` (one line, posted: it has its number). Each takes
    the fields to change; each returns the record's JSON as the API answers it.
    """

    def __init__(self, app, office: ApiClient):
        self.app, self.office = app, office
        self._n = 0

    def _ok(self, response, status: int = 201) -> dict:
        assert response.status_code == status, response.get_json()
        return response.get_json()

    def _next(self) -> int:
        self._n += 1
        return self._n

    def partner(self, **fields) -> dict:
        body = {"name": f"Customer {self._next()}", "email": "billing@customer.example", "street": "1 rue de la Paix",
                "zip": "69001", "city": "Lyon", "country": "FR", **fields}
        return self._ok(self.office.post("/partners", json=body))

    def product(self, **fields) -> dict:
        tax = self.office.get("/taxes").get_json()["items"][0]
        body = {"code": f"P{self._next():04d}", "name": "Labour", "type": "labour", "unit": "h",
                "unit_price": "60.00", "tax_id": tax["id"], **fields}
        return self._ok(self.office.post("/products", json=body))

    def done_order(self, partner_id: int | None = None, hours: str = "2", **fields) -> dict:
        if not self.app.extensions["kontor"].has("field_service"):
            raise RuntimeError("done_order() needs the field_service addon installed")
        technician_id, _, _ = make_user(self.app, "technician")
        body = {"partner_id": partner_id or self.partner()["id"], "description": "Boiler service",
                "technician_id": technician_id, "scheduled_at": "2026-11-25T09:00:00+00:00", **fields}
        order = self._ok(self.office.post("/service-orders", json=body))
        path = f"/service-orders/{order['id']}"
        self._ok(self.office.post(f"{path}/schedule"), 200)
        self._ok(self.office.post(f"{path}/start"), 200)
        self._ok(self.office.post(f"{path}/time-entries", json={
            "hours": hours, "product_id": self.product()["id"], "date": "2026-11-25", "description": "Repair"}))
        self._ok(self.office.patch(path, json={"report": "Repaired and tested."}), 200)
        return self._ok(self.office.post(f"{path}/done"), 200)

    def posted_invoice(self, partner_id: int | None = None, quantity: str = "1", **fields) -> dict:
        body = {"partner_id": partner_id or self.partner()["id"], "invoice_date": "2026-11-25",
                "lines": [{"product_id": self.product()["id"], "quantity": quantity}], **fields}
        draft = self._ok(self.office.post("/invoices", json=body))
        return self._ok(self.office.post(f"/invoices/{draft['id']}/post"), 200)


@pytest.fixture
def factories(app, api) -> Factories:
    """``factories.partner()``, ``.product()``, ``.done_order()``, ``.posted_invoice()``: see Factories."""
    return Factories(app, api("back_office"))
