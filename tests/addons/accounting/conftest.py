"""Helpers for the accounting tests: a customer, products of each type, a posted invoice, entries by document."""
from __future__ import annotations

from decimal import Decimal

import pytest


class Books:
    """Drives the documents through the API (as back office) and reads the ledger (as bookkeeper)."""

    def __init__(self, api):
        self.office = api("back_office")
        self.books = api("bookkeeper")
        self.partner = self.office.post("/partners", json={"name": "Dupont SARL"}).json
        taxes = self.office.get("/taxes").json["items"]
        self.tax20 = next(t for t in taxes if Decimal(t["rate"]) == 20)
        self.tax10 = next(t for t in taxes if Decimal(t["rate"]) == 10)
        self.labour = self._product("LAB", "labour", "60.00", self.tax20)
        self.part = self._product("PART", "part", "25.00", self.tax20)
        self.service = self._product("SRV", "service", "100.00", self.tax10)

    def _product(self, code, type_, price, tax):
        r = self.office.post("/products", json={"code": code, "name": code.title(), "type": type_, "unit": "u",
                                                "unit_price": price, "tax_id": tax["id"]})
        assert r.status_code == 201, r.json
        return r.json

    def draft(self, lines=None, on="2026-03-02", partner=None):
        lines = lines or [{"product_id": self.labour["id"], "quantity": "2"}]
        r = self.office.post("/invoices", json={"partner_id": (partner or self.partner)["id"], "invoice_date": on,
                                                "lines": lines})
        assert r.status_code == 201, r.json
        return r.json

    def invoice(self, lines=None, on="2026-03-02", partner=None):
        inv = self.draft(lines, on, partner)
        r = self.office.post(f"/invoices/{inv['id']}/post")
        assert r.status_code == 200, r.json
        return r.json

    def pay(self, invoice, amount, on="2026-03-10", method="bank_transfer"):
        r = self.office.post(f"/invoices/{invoice['id']}/payments",
                             json={"amount": amount, "date": on, "method": method, "reference": "T1"})
        assert r.status_code == 201, r.json
        return r.json

    def entry(self, entry_id):
        r = self.books.get(f"/journal-entries/{entry_id}")
        assert r.status_code == 200, r.json
        return r.json

    @staticmethod
    def balanced(entry) -> bool:
        return sum(Decimal(l["debit"]) for l in entry["lines"]) == sum(Decimal(l["credit"]) for l in entry["lines"])

    def lines_by_account(self, entry):
        out = {}
        for l in entry["lines"]:
            d, c = out.get(l["account_code"], (Decimal(0), Decimal(0)))
            out[l["account_code"]] = (d + Decimal(l["debit"]), c + Decimal(l["credit"]))
        return out


@pytest.fixture
def books(api):
    return Books(api)
