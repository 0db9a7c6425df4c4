"""Racing money over a real threaded server: 100 identical payment requests with one Idempotency-Key make one
payment. (Two different full payments racing on one invoice — the invoice takes its due once, the rest becomes
customer credit — is tests/addons/payments/test_idempotent_payments.py::test_two_full_payments_racing_on_one_invoice.)"""
from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from datetime import date

from sqlalchemy import func, select

from addons.payments.models import Payment
from core.extensions import db

CLIENTS = 100


def _send(url: str, data: bytes, headers: dict) -> tuple[int, bytes, dict]:
    request = urllib.request.Request(url, data=data, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, response.read(), dict(response.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(), dict(exc.headers)


def test_a_hundred_identical_requests_make_one_payment(shop, app, live):
    inv = shop.invoice("100.00")
    url = f"{live}/api/v1/invoices/{inv['id']}/payments"
    data = json.dumps({"amount": "100.00", "date": date.today().isoformat(), "method": "bank_transfer",
                       "reference": "same click"}).encode()
    headers = {"Authorization": f"Bearer {shop.a.token}", "Content-Type": "application/json",
               "Idempotency-Key": "hundred"}
    start = threading.Barrier(CLIENTS, timeout=60)
    results: list[tuple[int, bytes, dict]] = []
    lock = threading.Lock()

    def one():
        start.wait()
        result = _send(url, data, headers)
        with lock:
            results.append(result)

    threads = [threading.Thread(target=one) for _ in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=180)
    assert len(results) == CLIENTS
    statuses = {status for status, _, _ in results}
    assert statuses <= {201, 409}, statuses
    created = [json.loads(body) for status, body, _ in results if status == 201]
    assert created and all(c == created[0] for c in created)
    assert all(json.loads(body)["error"]["code"] == "idempotency_in_flight" for status, body, _ in results
               if status == 409)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Payment)) == 1
    status, body, head = _send(url, data, headers)  # after the storm: a replay of the first response
    assert status == 201 and json.loads(body) == created[0] and head.get("Idempotent-Replayed") == "true"
    invoice = shop.a.get(f"/invoices/{inv['id']}").json
    assert invoice["amount_paid"] == "100.00" and invoice["amount_due"] == "0.00"
    assert shop.a.get(f"/partners/{shop.partner_id}/balance").json["credit_available"] == "0.00"
