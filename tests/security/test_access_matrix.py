"""Who may do what: every route of app.url_map x method x role, against the table in access_matrix.csv.

Outcomes: ``ok`` (2xx/3xx other than a login redirect), ``login`` (redirect to /login or 401), ``forbidden``
(403), ``not_found`` (404: the object is not theirs or does not exist). GET requests are real, with the ids of
seeded objects (the technician's own order, the customer's own invoice). Requests that change state are checked
at the guard: the view behind core.security.require is swapped for a stub for the length of the test, so the
table holds what each role may *attempt* and the database stays as seeded; the addons' own tests prove what
the actions do. A route missing from the table, or an outcome that differs, fails the test.

To rebuild the table after adding routes: ``KONTOR_WRITE_ACCESS_MATRIX=1 pytest tests/security/test_access_matrix.py``,
then review every new line against API.md's role table before committing it.
"""
from __future__ import annotations

import csv
import os
import re
from pathlib import Path

import pytest
from sqlalchemy import select

from core.extensions import db

TABLE = Path(__file__).with_name("access_matrix.csv")
ROLES = ["anonymous", "customer", "technician", "bookkeeper", "back_office", "admin"]
STUB_STATUS = 299


def _world(app, shop, technician_id):
    """Seeded objects: a posted, partly paid invoice; a draft; an order of this technician with hours and a part;
    a posted journal entry; a payment; users of every role (the customer tied to the invoice's partner)."""
    from addons.accounting.models import Account
    from addons.field_service.models import Part, TimeEntry
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
    return {"invoice_id": inv["id"], "draft_id": draft["id"], "payment_id": payment["id"],
            "entry_id": a.get(f"/invoices/{inv['id']}").json["journal_entry_id"], "order_id": order["id"],
            "time_entry_id": time_entry, "part_id": part, "partner_id": shop.partner_id,
            "product_id": labour["id"], "tax_id": tax, "account": account}


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
            values[name] = 1  # endpoint_id, delivery_id...: whatever id 1 is (none is seeded)
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
    if status < 400:
        return "ok"
    return f"status_{status}"


def _guarded(view):
    """The require() wrapper of a view (function or MethodView method), if any."""
    return view if getattr(view, "kontor_permissions", None) is not None else None


class _Stubbed:
    """Swap the view behind every require() wrapper for a stub (restored on exit: the wrappers are shared)."""

    def __init__(self, app):
        self.app, self.cells = app, []

    def __enter__(self):
        seen = set()
        for view in self.app.view_functions.values():
            targets = [view]
            view_class = getattr(view, "view_class", None)
            if view_class is not None:
                targets = [getattr(view_class, m, None) for m in ("get", "post", "put", "patch", "delete")]
            for target in targets:
                if target is None or _guarded(target) is None or id(target) in seen:
                    continue
                seen.add(id(target))
                index = target.__code__.co_freevars.index("view")
                cell = target.__closure__[index]
                self.cells.append((cell, cell.cell_contents))
        return self

    def stub(self):
        for cell, _ in self.cells:
            cell.cell_contents = lambda *a, **k: ("guard passed", STUB_STATUS)

    def restore(self):
        for cell, original in self.cells:
            cell.cell_contents = original

    def __exit__(self, *exc):
        self.restore()


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
        if method == "GET":
            return (self.browser.client if self.browser else self.client).get(url)
        if self.browser is not None:
            return self.browser.post(url, data={})
        return self.client.open(url, method=method, data={"csrf_token": self.csrf})


def _observe(app, shop, login) -> dict:
    roles = {"anonymous": _Role(app)}
    for role in ROLES[1:]:
        extra = {"partner_id": shop.partner_id} if role == "customer" else {}
        roles[role] = _Role(app, login(role, **extra))
    world = _world(app, shop, roles["technician"].browser.user_id)
    # logging out ends the sessions the other requests use: last
    rules = sorted(app.url_map.iter_rules(), key=lambda r: (r.endpoint == "core.logout", r.rule, r.endpoint))
    seen: dict = {}
    with _Stubbed(app) as stubs:
        for changing in (False, True):
            if changing:
                stubs.stub()
            for rule in rules:
                url = _url(rule, world)
                for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                    if (method != "GET") != changing:
                        continue
                    seen[(method, rule.rule)] = {name: _outcome(role.request(method, url))
                                                 for name, role in roles.items()}
    return seen


def test_every_route_and_role_matches_the_table(app, shop, login):
    seen = _observe(app, shop, login)
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
    differ = [f"{m} {r} {role}: expected {table[(m, r)][role]}, got {got}"
              for (m, r), outcomes in sorted(seen.items()) for role, got in outcomes.items()
              if table[(m, r)][role] != got]
    assert not differ, "\n".join(differ)
