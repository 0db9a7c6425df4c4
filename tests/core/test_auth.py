"""Logging in and out, and who may see what: sessions, throttling, CSRF, roles, security headers."""
from __future__ import annotations

import re

import pytest

from core.extensions import db
from core.security import create_user

PASSWORD = "correct-horse-battery"


def csrf_from(html: str) -> str:
    match = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def login_form(client) -> str:
    page = client.get("/login")
    assert page.status_code == 200
    return csrf_from(page.get_data(as_text=True))


def post_login(client, login: str, password: str):
    return client.post("/login", data={"login": login, "password": password, "csrf_token": login_form(client)})


def session_cookie(client) -> str | None:
    cookie = client.get_cookie("session")
    return cookie.value if cookie else None


@pytest.fixture
def user(app):
    with app.app_context():
        create_user("camille", "back_office", PASSWORD)
        db.session.commit()
    return "camille"


def test_logging_in_lands_on_the_dashboard(client, user):
    response = post_login(client, user, PASSWORD)
    assert response.status_code == 302 and response.headers["Location"] == "/"
    dashboard = client.get("/")
    assert dashboard.status_code == 200
    assert f"Good day, {user}" in dashboard.get_data(as_text=True)


def test_logging_in_returns_to_the_page_asked_for_but_never_elsewhere(client, user):
    response = client.post("/login?next=/partners", data={"login": user, "password": PASSWORD,
                                                          "csrf_token": login_form(client)})
    assert response.headers["Location"] == "/partners"
    client.post("/logout", data={"csrf_token": csrf_from(client.get("/").get_data(as_text=True))})
    response = client.post("/login?next=//evil.example/x", data={"login": user, "password": PASSWORD,
                                                                  "csrf_token": login_form(client)})
    assert response.headers["Location"] == "/"


def test_a_wrong_password_is_refused_with_a_message_and_no_session(client, user):
    response = post_login(client, user, "not-the-password")
    assert response.status_code == 401
    assert "Wrong login or password." in response.get_data(as_text=True)
    assert client.get("/").status_code == 302  # still anonymous
    unknown = post_login(client, "nobody-by-that-name", "whatever-it-is")
    assert unknown.status_code == 401
    assert "Wrong login or password." in unknown.get_data(as_text=True)  # same answer: logins are not revealed


def test_five_failures_then_even_the_right_password_waits(client, user, app):
    assert app.config["LOGIN_THROTTLE_ATTEMPTS"] == 5
    for _ in range(5):
        assert post_login(client, user, "guess-again-and-again").status_code == 401
    throttled = post_login(client, user, PASSWORD)
    assert throttled.status_code == 429
    assert "Too many failed attempts" in throttled.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_a_success_before_the_limit_clears_the_failures(client, user):
    for _ in range(4):
        assert post_login(client, user, "guess-again-and-again").status_code == 401
    assert post_login(client, user, PASSWORD).status_code == 302
    client.post("/logout", data={"csrf_token": csrf_from(client.get("/").get_data(as_text=True))})
    for _ in range(4):
        assert post_login(client, user, "guess-again-and-again").status_code == 401
    assert post_login(client, user, PASSWORD).status_code == 302


def test_the_session_cookie_is_httponly_and_samesite_lax(client, user):
    login_form(client)
    response = client.post("/login", data={"login": user, "password": PASSWORD,
                                           "csrf_token": csrf_from(client.get("/login").get_data(as_text=True))})
    cookies = [h for h in response.headers.getlist("Set-Cookie") if h.startswith("session=")]
    assert cookies, response.headers
    attributes = {part.strip().split("=")[0].lower(): part for part in cookies[-1].split(";")}
    assert "httponly" in attributes
    assert attributes["samesite"].strip().lower() == "samesite=lax"


def test_the_session_is_replaced_at_login(client, user):
    token = login_form(client)
    before = session_cookie(client)
    assert before
    client.post("/login", data={"login": user, "password": PASSWORD, "csrf_token": token})
    after = session_cookie(client)
    assert after and after != before
    client.set_cookie("session", before)  # the pre-login cookie grants nothing
    assert client.get("/").status_code == 302


def test_logout_is_a_post_with_csrf_and_voids_the_old_cookie(client, user):
    post_login(client, user, PASSWORD)
    stolen = session_cookie(client)
    token = csrf_from(client.get("/").get_data(as_text=True))

    assert client.get("/logout").status_code == 405  # a link or an image cannot log anyone out
    refused = client.post("/logout")
    assert refused.status_code == 400  # no CSRF token
    assert client.get("/").status_code == 200  # still logged in

    response = client.post("/logout", data={"csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert client.get("/").status_code == 302

    replay = client.application.test_client()
    replay.set_cookie("session", stolen)
    again = replay.get("/")
    assert again.status_code == 302 and again.headers["Location"].startswith("/login")


def test_a_form_posted_without_its_csrf_token_gets_a_friendly_400(login):
    browser = login("back_office")
    response = browser.client.post("/partners/new", data={"name": "Acme", "country": "FR"})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "This form expired or was sent from elsewhere. Reload the page and try again." in html
    assert "Traceback" not in html and "<nav" in html  # the usual layout, not a bare error
    assert "Acme" not in browser.get("/partners").get_data(as_text=True)  # nothing was saved


def test_a_technician_may_not_see_customers(login):
    browser = login("technician")
    response = browser.get("/partners")
    assert response.status_code == 403
    assert "Not allowed" in response.get_data(as_text=True)
    assert browser.get("/settings").status_code == 403
    assert browser.get("/users").status_code == 403


@pytest.mark.parametrize("role, allowed", [("admin", True), ("back_office", True), ("bookkeeper", True)])
def test_office_roles_see_customers(login, role, allowed):
    assert (login(role).get("/partners").status_code == 200) is allowed


def test_only_an_admin_manages_users_and_addons(login):
    admin, office = login("admin"), login("back_office")
    assert admin.get("/users").status_code == 200 and admin.get("/addons").status_code == 200
    assert office.get("/users").status_code == 403 and office.get("/addons").status_code == 403


def test_anonymous_visitors_are_sent_to_the_login_page(client):
    for path in ("/", "/partners", "/partners/new", "/settings", "/users", "/addons"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response.headers["Location"].startswith("/login"), path
    assert "next=/partners" in client.get("/partners").headers["Location"]


def test_security_headers_are_on_every_page(client, login):
    for response in (client.get("/login"), login("admin").get("/"), client.get("/no-such-page")):
        csp = response.headers["Content-Security-Policy"]
        script_src = re.search(r"script-src ([^;]+)", csp).group(1)
        assert "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src
        assert "frame-ancestors 'none'" in csp
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["X-Frame-Options"] == "DENY"


def test_pages_carry_no_inline_script(client, login):
    """The CSP forbids inline script: a page that relied on one would silently break in the browser."""
    for html in (client.get("/login").get_data(as_text=True), login("admin").get("/").get_data(as_text=True)):
        for tag in re.findall(r"<script[^>]*>", html):
            assert "src=" in tag, tag
        assert not re.search(r"\son[a-z]+=\"", html)  # no onclick= and friends


# Each value as the view reads it (request.args, decoded once); the test sends it percent-encoded.
NASTY_NEXT = ["//evil.example", "/\\evil.example", "/\t/evil.example/phish", "\t//evil.example", "\n//evil.example",
              "/\r\n/evil.example", " //evil.example", "https://evil.example", "http:/evil.example",
              "/%2F%2Fevil.example", "/%252F%252Fevil.example", "/%5Cevil.example", "/%09/evil.example",
              "javascript:alert(1)", "JaVaScRiPt:alert(1)", "\x00/evil", "/\x00/evil.example", "///evil.example",
              "evil.example", "\\\\evil.example", "/\u3000/evil.example", "", "x" * 3000]
GOOD_NEXT = ["/invoices?page=2", "/partners", "/invoices/12?tab=lines#top", "/partners?q=Caf%C3%A9&sort=name",
             "/"]


@pytest.mark.parametrize("target", NASTY_NEXT)
def test_safe_next_refuses_what_a_browser_would_read_as_another_site(target):
    from core.security import safe_next
    assert safe_next(target) is None


@pytest.mark.parametrize("target", GOOD_NEXT)
def test_safe_next_keeps_a_path_on_this_site(target):
    from core.security import safe_next
    assert safe_next(target) == target


@pytest.mark.parametrize("target", NASTY_NEXT + ["RAW:/%09/evil.example/phish", "RAW:/%5C/evil.example"])
def test_logging_in_never_redirects_off_site(client, user, target):
    from urllib.parse import quote
    query = target[4:] if target.startswith("RAW:") else quote(target, safe="")
    response = client.post(f"/login?next={query}", data={"login": user, "password": PASSWORD,
                                                         "csrf_token": login_form(client)})
    assert response.status_code == 302 and response.headers["Location"] == "/", (target, response.headers)


@pytest.mark.parametrize("target", GOOD_NEXT)
def test_logging_in_follows_a_good_next(client, user, target):
    from urllib.parse import quote
    response = client.post(f"/login?next={quote(target, safe='')}", data={"login": user, "password": PASSWORD,
                                                                          "csrf_token": login_form(client)})
    assert response.status_code == 302 and response.headers["Location"] == target


def test_a_form_token_expires_after_eight_hours_with_the_forms_message(client, user, app, monkeypatch):
    """A CSRF token has a lifetime (KONTOR_CSRF_TIME_LIMIT, default 8 hours): after it the form is refused with
    the usual message (400), not a 500, and nothing happens; a fresh page works again."""
    from itsdangerous.timed import TimestampSigner
    assert app.config["WTF_CSRF_TIME_LIMIT"] == 8 * 3600
    token = login_form(client)
    issued = TimestampSigner.get_timestamp(None)
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: issued + 8 * 3600 - 60)
    nearly = client.post("/login", data={"login": user, "password": PASSWORD, "csrf_token": token})
    assert nearly.status_code == 302  # still good just before the limit
    client.post("/logout", data={"csrf_token": csrf_from(client.get("/").get_data(as_text=True))})
    token = login_form(client)
    issued = TimestampSigner.get_timestamp(None)
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: issued + 8 * 3600 + 60)
    expired = client.post("/login", data={"login": user, "password": PASSWORD, "csrf_token": token})
    html = expired.get_data(as_text=True)
    assert expired.status_code == 400, html
    assert "This form expired or was sent from elsewhere. Reload the page and try again." in html
    assert session_cookie(client) is None or client.get("/").status_code == 302  # not logged in
    assert post_login(client, user, PASSWORD).status_code == 302  # a fresh page's token works


def test_the_users_page_cannot_make_a_customer_login_without_its_customer(app, login):
    """A customer login stands for one customer (the portal shows that customer's documents): the page asks for
    it, and refuses a login without one or with an unknown one, on the field, with nothing written."""
    from sqlalchemy import func, select

    from core.models import User
    from core.partners import create_partner
    with app.app_context():
        partner_id = create_partner(name="Alice Plumbing").id
        db.session.commit()
    admin = login("admin")
    page = admin.get("/users").get_data(as_text=True)
    assert "Customer (for a customer login)" in page and "Alice Plumbing" in page

    def count():
        with app.app_context():
            return db.session.scalar(select(func.count()).select_from(User))
    before = count()
    form = {"login": "alice", "name": "Alice", "role": "customer", "password": "tulip-harbour-93"}
    for partner in (None, "0", "999999", "abc"):
        data = dict(form) if partner is None else {**form, "partner_id": partner}
        r = admin.post("/users", data=data)
        html = r.get_data(as_text=True)
        assert r.status_code == 200, (partner, r.status_code)
        assert any(m in html for m in ("Choose the customer this login stands for.", "Not a valid choice",
                                       "Invalid Choice")), partner
        assert count() == before, partner
    r = admin.post("/users", data={**form, "partner_id": str(partner_id)}, follow_redirects=True)
    assert r.status_code == 200 and "User alice created." in r.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(User.partner_id).where(User.login == "alice")) == partner_id
    # the other roles need no customer
    r = admin.post("/users", data={**form, "login": "ben", "role": "back_office"}, follow_redirects=True)
    assert "User ben created." in r.get_data(as_text=True)


def test_create_user_refuses_a_customer_login_without_an_existing_customer(ctx):
    from core.errors import ValidationError
    for partner_id in (None, 999999):
        with pytest.raises(ValidationError) as refused:
            create_user("nobody", "customer", PASSWORD, partner_id=partner_id)
        assert "partner_id" in refused.value.fields
