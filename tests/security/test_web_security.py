"""Web security: CSRF refused on every state-changing HTML form (generated from app.url_map), technicians see
only their own orders (pages and API), cookies Secure when KONTOR_HTTPS=1.

Already proven elsewhere (not repeated): session replaced at login and voided at logout, cookies HttpOnly and
SameSite=Lax, login throttling, security headers, no inline script: tests/core/test_auth.py."""
from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from core.extensions import db

_spec = importlib.util.spec_from_file_location("kontor_access_matrix",
                                               Path(__file__).with_name("test_access_matrix.py"))
matrix = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(matrix)

TABLES = ["core_partners", "core_users", "invoicing_invoices", "invoicing_invoice_lines", "invoicing_products",
          "invoicing_taxes", "payments_payments", "accounting_entries", "field_service_orders"]


def _counts(app) -> dict:
    with app.app_context():
        existing = set(db.inspect(db.engine).get_table_names())
        counts = {t: db.session.scalar(select(func.count()).select_from(text(t))) for t in TABLES if t in existing}
        counts["states"] = [tuple(r) for r in db.session.execute(text(
            "SELECT id, state, payment_state, amount_due FROM invoicing_invoices ORDER BY id"))]
        counts["orders"] = [tuple(r) for r in db.session.execute(text(
            "SELECT id, state FROM field_service_orders ORDER BY id"))]
        db.session.rollback()
        return counts


def test_every_html_form_refuses_a_post_without_its_csrf_token(app, shop, login):
    admin = login("admin")
    tech = login("technician")
    world = matrix._world(app, shop, tech.user_id)
    before = _counts(app)
    checked = []
    for rule in app.url_map.iter_rules():
        if "POST" not in rule.methods or rule.rule.startswith("/api/"):
            continue
        url = matrix._url(rule, world)
        r = admin.client.post(url, data={"name": "Evil", "amount": "1000.00", "login": "x", "password": "y"})
        assert r.status_code == 400, (rule.rule, r.status_code)
        assert "security token" in r.get_data(as_text=True).lower() or r.status_code == 400
        # the technician's session too (a forged form on another site, aimed at their own orders)
        assert tech.client.post(url, data={"hours": "9"}).status_code == 400, rule.rule
        checked.append(rule.rule)
    assert len(checked) > 50 and "/logout" in checked and "/login" in checked
    assert _counts(app) == before


def test_technicians_see_only_their_own_orders(app, shop, login, api):
    mine, theirs = login("technician"), login("technician")
    world = matrix._world(app, shop, mine.user_id)
    other = matrix._world(app, shop, theirs.user_id)
    own, foreign = world["order_id"], other["order_id"]
    assert mine.get(f"/service-orders/{own}").status_code == 200
    for url in [f"/service-orders/{foreign}", f"/service-orders/{foreign}/time-entries/{other['time_entry_id']}/edit",
                f"/service-orders/{foreign}/parts/{other['part_id']}/edit"]:
        assert mine.get(url).status_code == 404, url
    for url, data in [(f"/service-orders/{foreign}/report", {"report": "x"}), (f"/service-orders/{foreign}/done", {}),
                      (f"/service-orders/{foreign}/time-entries", {"hours": "1"})]:
        assert mine.post(url, data=data).status_code == 404, url
    for page in ["/service-orders", "/my-orders", "/service-orders/board"]:
        html = mine.get(page).get_data(as_text=True)
        assert f"/service-orders/{foreign}\"" not in html, page
    # the API, with the same technician's token
    from core.models import User
    from core.security import create_token
    with app.app_context():
        token = create_token(db.session.get(User, mine.user_id))
        db.session.commit()
    headers = {"Authorization": f"Bearer {token}"}
    client = app.test_client()
    assert client.get(f"/api/v1/service-orders/{own}", headers=headers).status_code == 200
    assert client.get(f"/api/v1/service-orders/{foreign}", headers=headers).status_code == 404
    assert client.patch(f"/api/v1/service-orders/{foreign}", json={"report": "x"}, headers=headers).status_code == 404
    assert client.post(f"/api/v1/service-orders/{foreign}/start", headers=headers).status_code == 404
    ids = [o["id"] for o in client.get("/api/v1/service-orders", headers=headers).get_json()["items"]]
    assert own in ids and foreign not in ids
    # and no money: invoices, payments and the customer list stay closed
    for url in ["/api/v1/invoices", "/api/v1/payments", "/api/v1/partners"]:
        assert client.get(url, headers=headers).status_code == 403


def test_cookies_are_secure_when_served_over_https(database_url):
    """The setting is read at start-up: a fresh interpreter with KONTOR_HTTPS=1 logs in and reads Set-Cookie."""
    script = f"""
import re
from core.app import create_app
from core.config import TestConfig
from core.extensions import db
from core.security import create_user
app = create_app(TestConfig({database_url!r}))
with app.app_context():
    create_user("secure_cookie", "admin", "correct-horse-battery"); db.session.commit()
client = app.test_client()
page = client.get("/login").get_data(as_text=True)
token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page).group(1)
r = client.post("/login", data={{"login": "secure_cookie", "password": "correct-horse-battery", "csrf_token": token}})
print("|".join(r.headers.getlist("Set-Cookie")))
"""
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "KONTOR_HTTPS": "1"}
    out = subprocess.run([sys.executable, "-c", script], cwd=root, env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    cookie = next(c for c in out.stdout.strip().splitlines()[-1].split("|") if c.startswith("session="))
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_csv_exports_neutralise_formulas(app, shop, login):
    """A customer named like a spreadsheet formula is exported as text: = + - @ get a leading apostrophe."""
    names = ["=HYPERLINK(\"http://evil.example\",\"x\")", "+1+2", "-3+4", "@SUM(A1)"]
    for name in names:
        shop.invoice("10.00", partner_id=shop.customer(name))
    csv_text = login("admin").get("/invoices.csv").get_data(as_text=True)
    for name in names:
        cell = "'" + name
        assert cell.replace('"', '""') in csv_text or cell in csv_text, name
        assert f",{name}," not in csv_text and f"\n{name}," not in csv_text


# Responses of every kind: a page, a static file, a redirect, a 404, a refused form (CSRF), the API's 401.
HSTS_PROBES = [("GET", "/login"), ("GET", "/static/kontor.css"), ("GET", "/"), ("GET", "/no-such-page"),
               ("POST", "/login"), ("GET", "/api/v1/invoices")]


def test_hsts_on_every_response_when_served_over_https(database_url):
    """KONTOR_HTTPS=1 is read at start-up: a fresh interpreter with it set gets HSTS on every kind of response."""
    script = f"""
from core.app import create_app
from core.config import TestConfig
client = create_app(TestConfig({database_url!r})).test_client()
for method, url in {HSTS_PROBES!r}:
    r = client.open(url, method=method)
    print(r.status_code, r.headers.get("Strict-Transport-Security"))
"""
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "KONTOR_HTTPS": "1"}
    out = subprocess.run([sys.executable, "-c", script], cwd=root, env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    lines = out.stdout.strip().splitlines()[-len(HSTS_PROBES):]
    assert [line.split(" ", 1)[0] for line in lines] == ["200", "200", "302", "404", "400", "401"]
    assert all(line.split(" ", 1)[1] == "max-age=31536000; includeSubDomains" for line in lines), lines


def test_no_hsts_when_not_served_over_https(app):
    assert app.config["HTTPS"] is False  # the test run does not set KONTOR_HTTPS
    client = app.test_client()
    for method, url in HSTS_PROBES:
        assert "Strict-Transport-Security" not in client.open(url, method=method).headers, url


@pytest.mark.parametrize("value, cell", [
    ("=1+1", "'=1+1"), ("+1+2", "'+1+2"), ("-3+4", "'-3+4"), ("@SUM(A1)", "'@SUM(A1)"), ("\t=1", "'\t=1"),
    ("\r=1", "'\r=1"), ("  =1", "'  =1"), ("-", "'-"), ("+33 6 12", "'+33 6 12"),
    (Decimal("-12.50"), "-12.50"), (-3, "-3"), ("-12.50", "-12.50"), ("-12,50", "-12,50"), ("12,50", "12,50"),
    ("Dupont SARL", "Dupont SARL"), (None, "")])
def test_one_rule_for_every_exported_cell(value, cell):
    """core.listing.safe_cell, used by every CSV export and the FEC: formula text neutralised, numbers kept."""
    from core.listing import safe_cell
    assert safe_cell(value) == cell
