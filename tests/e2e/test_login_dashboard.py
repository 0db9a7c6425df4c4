"""A person logs in, lands on the dashboard, finds the menu, and logs out: on a desktop and on a phone."""
from __future__ import annotations

import re

from playwright.sync_api import expect

PHONE = {"width": 390, "height": 844}


def log_in(page, login: str, password: str) -> None:
    page.goto("/login")
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    page.fill("input[name=login]", login)
    page.fill("input[name=password]", password)
    page.get_by_role("button", name="Log in").click()


def test_log_in_see_the_dashboard_and_log_out(page, person, screenshot):
    login, password = person("back_office", name="Camille Martin")
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login"))  # anonymous: sent to the login page first
    screenshot(page, "login-desktop")

    log_in(page, login, password)

    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.get_by_role("heading", name="Good day, Camille Martin")).to_be_visible()
    nav = page.locator("nav.nav")
    expect(nav).to_be_visible()
    expect(nav.get_by_role("link", name="Customers")).to_be_visible()
    expect(nav).to_contain_text("back office")
    screenshot(page, "dashboard-desktop")

    nav.get_by_role("link", name="Customers").click()
    expect(page.get_by_role("heading", name="Customers")).to_be_visible()

    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(re.compile(r"/login"))
    expect(page.get_by_role("alert")).to_have_text("You are logged out.")
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login"))  # the session is gone


def test_wrong_password_says_so_and_stays_on_the_login_page(page, person):
    login, _ = person("back_office")
    log_in(page, login, "not-the-password")
    expect(page).to_have_url(re.compile(r"/login"))
    expect(page.locator(".field.has-error")).to_contain_text("Wrong login or password.")
    expect(page.locator("input[name=login]")).to_have_value(login)


def test_on_a_phone_the_menu_opens_from_its_button(open_page, person, screenshot):
    page = open_page(viewport=PHONE)
    login, password = person("technician", name="Sam Tech")
    log_in(page, login, password)
    screenshot(page, "login-then-dashboard-phone")
    expect(page.get_by_role("heading", name="Good day, Sam Tech")).to_be_visible()

    logout = page.get_by_role("button", name="Log out")
    expect(logout).to_be_hidden()  # folded away behind the menu button on a small screen
    page.get_by_text("Menu").click()
    expect(logout).to_be_visible()
    screenshot(page, "dashboard-phone-menu-open")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page scrolls sideways on a phone ({width}px wide)"

    logout.click()
    expect(page).to_have_url(re.compile(r"/login"))
    screenshot(page, "logged-out-phone")


def test_the_page_guard_catches_dialogs_tracebacks_and_server_errors(new_context, live_server, make_guard):
    """The guard every browser test relies on really notices what it is meant to notice."""
    page = new_context(base_url=live_server).new_page()  # not the guarded fixture: these problems are on purpose
    guard = make_guard()
    guard.watch(page)
    page.route("**/fake/traceback", lambda route: route.fulfill(
        status=200, content_type="text/html", body="<pre>Traceback (most recent call last):\n  File ...</pre>"))
    page.route("**/fake/crash", lambda route: route.fulfill(status=500, content_type="text/html", body="oops"))

    page.set_content("<p>hello</p><script>window.alert('boom')</script>")  # on about:blank: no CSP yet
    assert len(guard.problems) == 1
    page.goto("/login")
    assert len(guard.problems) == 1  # a healthy page adds nothing
    page.goto("/fake/traceback")
    for _ in range(50):  # the guard reads the body in its response listener; let it finish before navigating on
        if len(guard.problems) == 2:
            break
        page.wait_for_timeout(100)
    page.goto("/fake/crash")
    assert len(guard.problems) == 3, guard.problems
    assert "alert dialog" in guard.problems[0] and "boom" in guard.problems[0]
    assert "/fake/traceback shows a traceback" in guard.problems[1]
    assert "/fake/crash answered 500" in guard.problems[2]
