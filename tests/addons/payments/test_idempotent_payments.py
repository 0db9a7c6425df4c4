"""Registering a payment once: Idempotency-Key replay, one-time form tokens, and races on one invoice."""
from __future__ import annotations

import json
import threading
import urllib.error
import urllib.parse
import urllib.request
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from werkzeug.serving import make_server

from addons.invoicing import services as invoicing
from addons.payments.models import Payment
from core.app import create_app
from core.config import TestConfig
from core.extensions import db
from core.hookspecs import hookimpl


def _payments(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Payment))


@pytest.fixture
def live(app):
    """The app served by a real threaded server on 127.0.0.1 (a random port)."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


def _send(url: str, data: bytes, headers: dict) -> tuple[int, bytes, dict]:
    request = urllib.request.Request(url, data=data, headers=headers, method="POST")
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(request, timeout=60) as response:
            return response.status, response.read(), dict(response.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(), dict(exc.headers)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def test_same_key_same_body_replays_the_first_response(books, app):
    inv = books.invoice("100.00")
    url = f"/invoices/{inv['id']}/payments"
    body = books.body("40.00")
    first = books.a.post(url, json=body, headers={"Idempotency-Key": "pay-1"})
    again = books.a.post(url, json=body, headers={"Idempotency-Key": "pay-1"})
    assert first.status_code == again.status_code == 201
    assert again.json == first.json and again.headers.get("Idempotent-Replayed") == "true"
    assert _payments(app) == 1 and books.get_invoice(inv["id"])["amount_due"] == "60.00"
    reused = books.a.post(url, json=books.body("41.00"), headers={"Idempotency-Key": "pay-1"})
    assert reused.status_code == 422 and reused.json["error"]["code"] == "idempotency_key_reused"
    assert _payments(app) == 1
    # a new key is a new payment; the same key on /payments is another request (another path)
    assert books.a.post(url, json=body, headers={"Idempotency-Key": "pay-2"}).status_code == 201
    assert _payments(app) == 2 and books.get_invoice(inv["id"])["amount_due"] == "20.00"


def test_a_refused_request_is_replayed_as_refused(books, app):
    inv = books.invoice("100.00")
    url = f"/invoices/{inv['id']}/payments"
    bad = books.body("10.00", method="bitcoin")
    r1 = books.a.post(url, json=bad, headers={"Idempotency-Key": "bad-1"})
    r2 = books.a.post(url, json=bad, headers={"Idempotency-Key": "bad-1"})
    assert r1.status_code == r2.status_code == 422 and r1.json == r2.json
    assert _payments(app) == 0


def test_twenty_concurrent_identical_requests_make_one_payment(books, app, live):
    inv = books.invoice("100.00")
    url = f"{live}/api/v1/invoices/{inv['id']}/payments"
    data = json.dumps(books.body("100.00", reference="same click")).encode()
    headers = {"Authorization": f"Bearer {books.a.token}", "Content-Type": "application/json",
               "Idempotency-Key": "twenty"}
    start = threading.Barrier(20, timeout=30)
    results: list[tuple[int, bytes, dict]] = []
    lock = threading.Lock()

    def one():
        start.wait()
        result = _send(url, data, headers)
        with lock:
            results.append(result)

    threads = [threading.Thread(target=one) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert len(results) == 20
    statuses = sorted(status for status, _, _ in results)
    assert set(statuses) <= {201, 409}, statuses
    created = [json.loads(body) for status, body, _ in results if status == 201]
    assert created and all(c == created[0] for c in created)
    for status, body, _ in results:
        if status == 409:
            assert json.loads(body)["error"]["code"] == "idempotency_in_flight"
    assert _payments(app) == 1
    status, body, head = _send(url, data, headers)  # after the storm: a replay
    assert status == 201 and json.loads(body) == created[0] and head.get("Idempotent-Replayed") == "true"
    invoice = books.get_invoice(inv["id"])
    assert invoice["amount_paid"] == "100.00" and books.credit() == "0.00"


def test_double_submit_of_the_form_registers_one_payment(books, login, app):
    inv = books.invoice("100.00")
    office = login("back_office")
    form_url = f"/invoices/{inv['id']}/payments/new"
    nonce = books.nonce(office.get(form_url).get_data(as_text=True))
    data = {"amount": "100.00", "date": date.today().isoformat(), "method": "cash", "nonce": nonce}
    first = office.post(form_url, data=data)
    second = office.post(form_url, data=data)
    assert first.status_code == second.status_code == 302
    assert _payments(app) == 1
    page = office.get(second.headers["Location"]).get_data(as_text=True)
    assert "This payment was already registered" in page and "Payment #" in page  # sent to that payment
    assert books.get_invoice(inv["id"])["amount_paid"] == "100.00" and books.credit() == "0.00"
    # a fresh form is a fresh token
    assert books.nonce(office.get(form_url).get_data(as_text=True)) != nonce


def test_concurrent_double_click_over_a_real_server(books, login, app, live):
    inv = books.invoice("100.00")
    office = login("back_office")
    form_url = f"/invoices/{inv['id']}/payments/new"
    nonce = books.nonce(office.get(form_url).get_data(as_text=True))
    cookie = office.client.get_cookie("session")
    data = urllib.parse.urlencode({"amount": "100.00", "date": date.today().isoformat(), "method": "cash",
                                   "nonce": nonce, "csrf_token": office.token()}).encode()
    headers = {"Cookie": f"session={cookie.value}", "Content-Type": "application/x-www-form-urlencoded"}
    start = threading.Barrier(2, timeout=30)
    results = []

    def click():
        start.wait()
        results.append(_send(live + form_url, data, headers)[0])

    threads = [threading.Thread(target=click) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert results == [302, 302]
    assert _payments(app) == 1 and books.credit() == "0.00"


class _Rendezvous:
    """Holds each payment inside its transaction until both have flushed their row, so they truly overlap."""

    def __init__(self, barrier: threading.Barrier):
        self.barrier = barrier

    @hookimpl
    def payments_payment_registered(self, payment):
        self.barrier.wait()


def test_two_full_payments_racing_on_one_invoice(books, app, database_url):
    """Two app instances (two connection pools) pay the same invoice in full at the same moment: the invoice
    takes its total once (settle() locks its row: SELECT ... FOR UPDATE on PostgreSQL) and the second
    payment becomes customer credit. On PostgreSQL both transactions are held open side by side until both
    have written their payment; on SQLite writers queue (BEGIN IMMEDIATE), so they only start together."""
    inv = books.invoice("100.00")
    other = create_app(TestConfig(database_url))
    apps = [app, other]
    overlap = database_url.startswith("postgresql")
    plugins = []
    if overlap:
        inside = threading.Barrier(2, timeout=30)
        for a in apps:
            plugin = _Rendezvous(inside)
            a.extensions["kontor"].pm.register(plugin)
            plugins.append((a, plugin))
    start = threading.Barrier(2, timeout=30)
    results = []

    def pay(a, reference):
        client = a.test_client()
        start.wait()
        r = client.post(f"/api/v1/invoices/{inv['id']}/payments", json=books.body("100.00", reference=reference),
                        headers={"Authorization": f"Bearer {books.a.token}"})
        results.append((r.status_code, r.get_json()))

    try:
        threads = [threading.Thread(target=pay, args=(a, f"race {i}")) for i, a in enumerate(apps)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
    finally:
        for a, plugin in plugins:
            a.extensions["kontor"].pm.unregister(plugin)
        with other.app_context():
            db.session.remove()
            db.engine.dispose()
    assert [s for s, _ in results] == [201, 201], results
    allocated = sorted(Decimal(b["allocations"][0]["amount"]) if b["allocations"] else Decimal(0)
                       for _, b in results)
    assert allocated == [Decimal(0), Decimal("100.00")]
    assert sorted(b["unallocated"] for _, b in results) == ["0.00", "100.00"]
    with app.app_context():
        invoice = invoicing.get_invoice(inv["id"])
        assert invoice.amount_paid == invoice.amount_total == Decimal("100.00") and invoice.amount_due == 0
        assert invoicing.available_credit(books.partner_id) == Decimal("100.00")


def test_two_refunds_racing_for_the_same_credit(books, app, database_url):
    """Two app instances refund the customer's whole credit at once: the credit rows are locked, so one refund
    pays it back and the other is refused (422 refund_exceeds_credit); the credit never goes below zero."""
    inv = books.invoice("10.00")
    books.a.post(f"/invoices/{inv['id']}/payments", json=books.body("60.00"))
    assert books.credit() == "50.00"
    other = create_app(TestConfig(database_url))
    start = threading.Barrier(2, timeout=30)
    results = []

    def refund(a):
        client = a.test_client()
        start.wait()
        r = client.post(f"/api/v1/partners/{books.partner_id}/refunds",
                        json={"amount": "50.00", "method": "bank_transfer"},
                        headers={"Authorization": f"Bearer {books.a.token}"})
        results.append((r.status_code, r.get_json()))

    try:
        threads = [threading.Thread(target=refund, args=(a,)) for a in (app, other)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
    finally:
        with other.app_context():
            db.session.remove()
            db.engine.dispose()
    assert sorted(s for s, _ in results) == [201, 422], results
    refused = next(body for s, body in results if s == 422)
    assert refused["error"]["code"] == "refund_exceeds_credit"
    assert books.credit() == "0.00"
    assert books.a.get("/payments?direction=outbound").json["total"] == 1


def test_idempotency_key_on_payments_and_refunds(books, app):
    inv = books.invoice("10.00")
    body = {"partner_id": books.partner_id, "amount": "30.00", "method": "cash"}
    first = books.a.post("/payments", json=body, headers={"Idempotency-Key": "multi-1"})
    second = books.a.post("/payments", json=body, headers={"Idempotency-Key": "multi-1"})
    assert first.status_code == second.status_code == 201 and first.json == second.json
    assert books.get_invoice(inv["id"])["payment_state"] == "paid" and books.credit() == "20.00"
    url = f"/partners/{books.partner_id}/refunds"
    r1 = books.a.post(url, json={"amount": "20.00", "method": "cash"}, headers={"Idempotency-Key": "refund-1"})
    r2 = books.a.post(url, json={"amount": "20.00", "method": "cash"}, headers={"Idempotency-Key": "refund-1"})
    assert r1.status_code == r2.status_code == 201 and r1.json == r2.json
    assert books.credit() == "0.00" and _payments(app) == 2
    r3 = books.a.post(url, json={"amount": "19.00", "method": "cash"}, headers={"Idempotency-Key": "refund-1"})
    assert r3.status_code == 422 and r3.json["error"]["code"] == "idempotency_key_reused"
