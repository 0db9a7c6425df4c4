"""Helpers for the payment tests: a customer and posted invoices of exact totals (a 0 % tax line)."""
from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest


class Books:
    """Makes customers and invoices through the API, as a back-office user would."""

    def __init__(self, api):
        self.a = api("back_office")
        taxes = self.a.get("/taxes").json["items"]
        self.tax_id = next(t["id"] for t in taxes if Decimal(t["rate"]) == 0)
        self.partner_id = self.customer("Dupont SARL")

    def customer(self, name: str) -> int:
        r = self.a.post("/partners", json={"name": name})
        assert r.status_code == 201, r.json
        return r.json["id"]

    def invoice(self, total: str, partner_id: int | None = None, post: bool = True,
                invoice_date: str | None = None, due_date: str | None = None) -> dict:
        body = {"partner_id": partner_id or self.partner_id,
                "lines": [{"description": "Repair", "quantity": "1", "unit_price": total, "tax_id": self.tax_id}]}
        if invoice_date:
            body["invoice_date"] = invoice_date
        if due_date:
            body["due_date"] = due_date
        r = self.a.post("/invoices", json=body)
        assert r.status_code == 201, r.json
        if post:
            r = self.a.post(f"/invoices/{r.json['id']}/post")
            assert r.status_code == 200, r.json
        return r.json

    def get_invoice(self, invoice_id: int) -> dict:
        return self.a.get(f"/invoices/{invoice_id}").json

    def credit(self, partner_id: int | None = None) -> str:
        return self.a.get(f"/partners/{partner_id or self.partner_id}/balance").json["credit_available"]

    @staticmethod
    def body(amount="120.00", method="bank_transfer", reference="VIR 1", on: str | None = None, **extra) -> dict:
        return {"amount": amount, "date": on or date.today().isoformat(), "method": method, "reference": reference,
                **extra}

    @staticmethod
    def nonce(html: str) -> str:
        match = re.search(r'name="nonce"[^>]*value="([^"]+)"', html) or \
            re.search(r'value="([^"]+)"[^>]*name="nonce"', html)
        assert match, "no one-time token on the form"
        return match.group(1)


@pytest.fixture
def books(api):
    return Books(api)
