"""Fixtures: ``app`` (a fresh, migrated database per test), ``client``, ``login`` (a role's browser session),
``api`` (a role's token client), ``ctx`` (an app context for calling services directly): from core/testing.py;
here the suite's own (``smtp``, the e2e marker).

The same suite runs on SQLite and, with ``KONTOR_TEST_DATABASE_URL=postgresql+psycopg://...``, on PostgreSQL.
Each test gets its own database, copied from a template that was migrated once per test session, so tests commit
for real (as requests do) and concurrency tests can use several connections.
"""
from __future__ import annotations

import pytest

from core.testing import (  # noqa: F401  (the suite's modules import these from here)
    PASSWORD,
    PG_URL,
    ApiClient,
    Browser,
    Databases,
    csrf_from,
    make_user,
)


# The fixtures (app, database_url, ctx, client, login, api) are Kontor's pytest plugin, core/testing.py, the same
# an addon outside the tree uses. Installed Kontor loads it through the pytest11 entry point "core.testing"; this
# line is then a no-op, and loads it where Kontor is not installed in the venv.
pytest_plugins = ["core.testing"]


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
