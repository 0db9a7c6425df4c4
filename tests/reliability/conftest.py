"""Shared set-up for the reliability tests: a shop (customer, taxes, products, invoices) through the API, and the
app served by a real threaded server."""
from __future__ import annotations

import threading
from datetime import date
from decimal import Decimal

import pytest
from werkzeug.serving import make_server


class Shop:
    """Customers and invoices made through the API, as a back-office user would."""

    def __init__(self, api):
        self.a = api("admin")
        taxes = self.a.get("/taxes").json["items"]
        self.no_tax = next(t["id"] for t in taxes if Decimal(t["rate"]) == 0)
        self.vat20 = next(t["id"] for t in taxes if Decimal(t["rate"]) == 20)
        self.partner_id = self.customer("Dupont SARL")

    def customer(self, name: str) -> int:
        r = self.a.post("/partners", json={"name": name, "email": "compta@dupont.example"})
        assert r.status_code == 201, r.json
        return r.json["id"]

    def invoice(self, total: str = "100.00", partner_id: int | None = None, post: bool = True,
                lines: list | None = None) -> dict:
        body = {"partner_id": partner_id or self.partner_id, "invoice_date": date.today().isoformat(),
                "lines": lines or [{"description": "Repair", "quantity": "1", "unit_price": total,
                                    "tax_id": self.no_tax}]}
        r = self.a.post("/invoices", json=body)
        assert r.status_code == 201, r.json
        if post:
            r = self.a.post(f"/invoices/{r.json['id']}/post")
            assert r.status_code == 200, r.json
        return r.json

    def pay(self, invoice_id: int, amount: str, **extra) -> dict:
        r = self.a.post(f"/invoices/{invoice_id}/payments",
                        json={"amount": amount, "date": date.today().isoformat(), "method": "bank_transfer",
                              "reference": "VIR", **extra})
        assert r.status_code == 201, r.json
        return r.json


@pytest.fixture
def shop(api):
    return Shop(api)


@pytest.fixture
def live(app):
    """The app served by a real threaded server on 127.0.0.1 (a random port)."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)
