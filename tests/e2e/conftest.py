"""Browser tests: Playwright driving Debian's Chromium against the test ``app`` served from a thread.

Never ``playwright install``: the browser is ``/usr/bin/chromium`` (apt). Without it the tests skip with a
reason on a workstation and fail in CI (``CI`` set), so CI can never go green without running them.
Every page a test opens is guarded: a server error, a Python traceback on the page, an uncaught script error or
a JavaScript dialog (alert/confirm/prompt) fails the test.
"""
from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
SHOTS = Path("/tmp/shots")
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not CHROMIUM.exists():
        message = (f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium); "
                   "never `playwright install`.")
        if os.environ.get("CI"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return {**browser_type_launch_args, "executable_path": str(CHROMIUM), "args": CHROMIUM_ARGS}


@pytest.fixture
def live_server(app):
    """The test ``app`` on a real socket (random port), served from a thread; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


class PageGuard:
    """Collects what must never happen on a page; ``check()`` fails the test if anything did."""

    def __init__(self):
        self.problems: list[str] = []

    def watch(self, page) -> None:
        page.on("dialog", self._dialog)
        page.on("pageerror", lambda error: self.problems.append(f"uncaught script error: {error}"))
        page.on("response", self._response)

    def _dialog(self, dialog) -> None:
        self.problems.append(f"a JavaScript {dialog.type} dialog opened: {dialog.message!r}")
        try:
            dialog.dismiss()
        except Exception:  # noqa: BLE001 - another listener dismissed it already
            pass

    def _response(self, response) -> None:
        where = f"{response.request.method} {response.url}"
        if response.status >= 500:
            self.problems.append(f"{where} answered {response.status}")
        if response.request.resource_type != "document" or 300 <= response.status < 400:
            return
        try:
            html = response.text()
        except Exception:  # noqa: BLE001 - the page navigated on before the body was read
            return
        if "Traceback (most recent call last)" in html or "werkzeug.debug" in html:
            self.problems.append(f"{where} shows a traceback")

    def check(self) -> None:
        if self.problems:
            pytest.fail("The browser saw problems:\n  " + "\n  ".join(self.problems), pytrace=False)


@pytest.fixture
def page_guard():
    guard = PageGuard()
    yield guard
    guard.check()


@pytest.fixture
def make_guard():
    """A PageGuard that checks nothing by itself (for testing the guard)."""
    return PageGuard


@pytest.fixture
def open_page(new_context, live_server, page_guard):
    """``open_page(viewport=PHONE)`` → a new guarded page in its own context, relative URLs on the live server."""
    def _open(viewport: dict | None = None):
        context = new_context(base_url=live_server, viewport=viewport or DESKTOP)
        context.set_default_timeout(10_000)
        page = context.new_page()
        page_guard.watch(page)
        return page
    return _open


@pytest.fixture
def page(open_page):
    """pytest-playwright's ``page``, on the live server and guarded."""
    return open_page()


@pytest.fixture
def screenshot():
    """``screenshot(page, "login-phone")`` → /tmp/shots/login-phone.png (full page), to look at by eye."""
    def _shot(page, name: str) -> Path:
        SHOTS.mkdir(parents=True, exist_ok=True)
        path = SHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path
    return _shot


PASSWORD = "correct-horse-battery"


@pytest.fixture
def person(app):
    """``person("back_office")`` → ``(login, password)`` of a new user with that role."""
    from core.extensions import db
    from core.security import create_user

    made = []

    def _person(role: str = "back_office", name: str = "Camille Martin") -> tuple[str, str]:
        login = f"{role.replace('_', '')}{len(made) + 1}"
        with app.app_context():
            create_user(login, role, PASSWORD, name=name)
            db.session.commit()
        made.append(login)
        return login, PASSWORD
    return _person
