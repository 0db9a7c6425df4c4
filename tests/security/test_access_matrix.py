"""Who may do what: every route of app.url_map x method x role, against the table in access_matrix.csv.

Every request runs the real view, guard and all, with the ids of seeded objects (the technician's own order, the
customer's own invoice, a posted invoice, a webhook endpoint and its delivery) and an empty form or JSON body.
Requests that change state run inside a transaction that is rolled back after each one (the request's own
commits become savepoints, see _Isolated), so each sees the world as seeded and leaves it so; the browser's
cookie is put back too, so a logout or a flash message does not follow into the next request.

Outcomes: ``ok`` (the role got past every access check: 2xx, 3xx other than a login redirect, or a 400/409/422
that the view or its service gave to the empty body), ``login`` (redirect to /login or 401), ``forbidden``
(403), ``not_found`` (404: the object is not theirs or does not exist), ``csrf`` (the form token was refused:
the test's own fault, never expected), anything else ``status_<code>``. A route missing from the table, or an
outcome that differs, fails the test.

To rebuild the table after adding routes: ``KONTOR_WRITE_ACCESS_MATRIX=1 pytest tests/security/test_access_matrix.py``,
then review every changed line against the roles of docs/api.md and the permission table of docs/reference/api.md before committing it.
"""
from __future__ import annotations

import csv
import os
import re
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import select

from core import db as core_db
from core.extensions import db

TABLE = Path(__file__).with_name("access_matrix.csv")
ROLES = ["anonymous", "customer", "technician", "bookkeeper", "back_office", "admin"]


def _world(app, shop, technician_id):
    """Seeded objects: a webhook endpoint and the delivery of the invoice's posting; a posted, partly paid invoice;
    a draft; an order of this technician with hours and a part; a posted journal entry; a payment; users of every
    role (the customer tied to the invoice's partner)."""
    from addons.accounting.models import Account
    from addons.field_service.models import Part, TimeEntry
    from addons.webhooks.models import Delivery
    endpoint = shop.a.post("/webhooks", json={"url": "https://hooks.example/kontor", "events": ["invoice.posted"]})
    assert endpoint.status_code == 201, endpoint.json
    inv = shop.invoice("120.00")
    payment = shop.pay(inv["id"], "20.00")
    draft = shop.invoice("30.00", post=False)
    a = shop.a
    labour = a.post("/products", json={"code": f"LAB{technician_id}", "name": "Labour", "type": "labour", "unit": "h",
                                       "unit_price": "60.00", "tax_id": shop.vat20}).json
    order = a.post("/service-orders", json={"partner_id": shop.partner_id, "description": "Boiler",
                                            "technician_id": technician_id,
                                            "scheduled_at": "2026-11-25T09:00:00+00:00"}).json
    for step in ("schedule", "start"):
        r = a.post(f"/service-orders/{order['id']}/{step}")
        assert r.status_code == 200, r.json
    assert a.post(f"/service-orders/{order['id']}/time-entries",
                  json={"hours": "1", "product_id": labour["id"], "date": "2026-11-25"}).status_code == 201
    part = a.post("/products", json={"code": f"VALVE{technician_id}", "name": "Valve", "type": "part",
                                     "unit_price": "25.00",
                                     "tax_id": shop.vat20}).json
    r = a.post(f"/service-orders/{order['id']}/parts", json={"product_id": part["id"], "quantity": "1"})
    assert r.status_code == 201, r.json
    with app.app_context():
        time_entry = db.session.scalar(select(TimeEntry.id).where(TimeEntry.order_id == order["id"]))
        part = db.session.scalar(select(Part.id).where(Part.order_id == order["id"]))
        account = db.session.scalar(select(Account.code).where(Account.type == "receivable"))
        tax = a.get("/taxes").json["items"][0]["id"]
        delivery = db.session.scalar(select(Delivery.id))
    return {"endpoint_id": endpoint.json["id"], "delivery_id": delivery, "invoice_id": inv["id"],
            "draft_id": draft["id"], "payment_id": payment["id"],
            "entry_id": a.get(f"/invoices/{inv['id']}").json["journal_entry_id"], "order_id": order["id"],
            "time_entry_id": time_entry, "part_id": part, "partner_id": shop.partner_id,
            "product_id": labour["id"], "tax_id": tax, "account": account, "user_id": technician_id}


def _url(rule, world) -> str:
    values = {}
    for name in rule.arguments:
        if name == "entry_id":
            values[name] = world["time_entry_id"] if "time-entries" in rule.rule else world["entry_id"]
        elif name == "code":
            values[name] = "cash" if "payment-methods" in rule.rule else world["account"]
        elif name == "filename":
            values[name] = "kontor.css"
        elif name == "token":
            values[name] = "not-a-valid-token"
        elif name in world:
            values[name] = world[name]
        else:
            raise AssertionError(f"<{name}> in {rule.rule}: seed an object for it in _world()")
    return rule.build(values, append_unknown=False)[1]


def _outcome(response) -> str:
    status = response.status_code
    location = response.headers.get("Location", "")
    if status == 401 or (status in (301, 302, 303) and "/login" in location):
        return "login"
    if status == 403:
        return "forbidden"
    if status == 404:
        return "not_found"
    if status == 400 and b"This form expired or was sent from elsewhere" in response.data:
        return "csrf"
    if status < 400 or status in (400, 409, 422):
        return "ok"
    return f"status_{status}"


class _Isolated:
    """Run one request inside a transaction that is rolled back afterwards, on SQLite and PostgreSQL alike.

    One connection begins the transaction (on SQLite core/db.py's listener makes it BEGIN IMMEDIATE, and pysqlite's
    own transaction handling is off, so SAVEPOINT works); the app's engine is swapped for that connection, and the
    session joins it with ``join_transaction_mode="create_savepoint"``: the request's commits release savepoints,
    its rollbacks go back to them, and nothing reaches the database once the outer transaction is rolled back.
    """

    def __init__(self, app):
        self.app = app

    @contextmanager
    def request(self):
        with self.app.app_context():
            engines = db.engines  # the app's own dict: Flask-SQLAlchemy's Session.get_bind looks the bind up here
            engine = engines[None]
        core_db.read_only.set(False)
        connection = engine.connect()
        outer = connection.begin()
        engines[None] = connection
        factory = db.session.session_factory
        factory.configure(join_transaction_mode="create_savepoint")
        try:
            yield
        finally:
            del factory.kw["join_transaction_mode"]  # back to SQLAlchemy's default for the next session
            engines[None] = engine
            outer.rollback()
            connection.close()


def _table() -> dict:
    if not TABLE.exists():
        return {}
    with TABLE.open(newline="") as f:
        return {(row["method"], row["rule"]): {r: row[r] for r in ROLES} for row in csv.DictReader(f)}


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', html) or \
        re.search(r'<meta name="csrf-token" content="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


class _Role:
    """A role's two doors: a logged-in browser for pages, a bearer token for the API."""

    def __init__(self, app, browser=None):
        from core.models import User
        from core.security import create_token
        self.browser = browser
        self.client = app.test_client()
        self.headers = {}
        if browser is not None:
            page = browser.client.get("/", follow_redirects=True).get_data(as_text=True)
            browser._token = _csrf(page)  # a customer's "/" is the portal: take the token where it lands
            with app.app_context():
                self.headers = {"Authorization": "Bearer " + create_token(db.session.get(User, browser.user_id))}
                db.session.commit()
        else:
            self.csrf = _csrf(self.client.get("/login").get_data(as_text=True))

    def request(self, method: str, url: str):
        if url.startswith("/api/"):
            return self.client.open(url, method=method, json=None if method == "GET" else {}, headers=self.headers)
        client = self.browser.client if self.browser else self.client
        if method == "GET":
            return client.get(url)
        cookie = client.get_cookie("session")
        try:
            if self.browser is not None:
                return self.browser.post(url, data={})
            return self.client.open(url, method=method, data={"csrf_token": self.csrf})
        finally:
            # The next request runs as this role again: not logged out, no flash messages piling up.
            if cookie is None:
                client.delete_cookie("session")
            else:
                client.set_cookie("session", cookie.value)


# Written by every authenticated API request (at most once a minute per token), outside the request's transaction.
BOOKKEEPING = {"core_api_tokens": {"last_used_at"}}


def _rows(app) -> dict:
    """Every row of every table, to show that the requests left the database as seeded."""
    with app.app_context():
        rows = {table.name: sorted(map(repr, db.session.execute(table.select().with_only_columns(
                    *[c for c in table.c if c.name not in BOOKKEEPING.get(table.name, ())])).all()))
                for table in db.metadata.sorted_tables}
        db.session.rollback()
    return rows


def _observe(app, shop, login) -> tuple[dict, dict]:
    """(method, rule) -> {role: outcome}, and the same with the status codes, for the failure messages."""
    roles = {"anonymous": _Role(app)}
    for role in ROLES[1:]:
        extra = {"partner_id": shop.partner_id} if role == "customer" else {}
        roles[role] = _Role(app, login(role, **extra))
    world = _world(app, shop, roles["technician"].browser.user_id)
    seeded = _rows(app)
    rules = sorted(app.url_map.iter_rules(), key=lambda r: (r.rule, r.endpoint))
    isolated = _Isolated(app)
    seen: dict = {}
    statuses: dict = {}
    for rule in rules:
        url = _url(rule, world)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            outcomes, codes = {}, {}
            for name, role in roles.items():
                if method == "GET":
                    response = role.request(method, url)
                else:
                    with isolated.request():
                        response = role.request(method, url)
                outcomes[name], codes[name] = _outcome(response), response.status_code
            seen[(method, rule.rule)], statuses[(method, rule.rule)] = outcomes, codes
    after = _rows(app)
    changed = sorted(name for name in seeded if seeded[name] != after[name])
    assert not changed, f"the requests were not isolated: these tables changed: {changed}"
    return seen, statuses


def test_every_route_and_role_matches_the_table(app, shop, login):
    seen, statuses = _observe(app, shop, login)
    if os.environ.get("KONTOR_WRITE_ACCESS_MATRIX"):
        with TABLE.open("w", newline="") as f:
            writer = csv.DictWriter(f, ["method", "rule", *ROLES])
            writer.writeheader()
            for (method, rule), outcomes in sorted(seen.items(), key=lambda kv: (kv[0][1], kv[0][0])):
                writer.writerow({"method": method, "rule": rule, **outcomes})
    table = _table()
    missing = sorted(f"{m} {r}" for m, r in seen if (m, r) not in table)
    assert not missing, "routes missing from access_matrix.csv (add them, reviewed):\n" + "\n".join(missing)
    gone = sorted(f"{m} {r}" for m, r in table if (m, r) not in seen)
    assert not gone, "routes in access_matrix.csv that no longer exist:\n" + "\n".join(gone)
    differ = [f"{m} {r} {role}: expected {table[(m, r)][role]}, got {got} ({statuses[(m, r)][role]})"
              for (m, r), outcomes in sorted(seen.items()) for role, got in outcomes.items()
              if table[(m, r)][role] != got]
    assert not differ, "\n".join(differ)
