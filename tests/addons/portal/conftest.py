"""Helpers for the portal tests: two customers with posted invoices, a customer's browser and token client."""
from __future__ import annotations

from decimal import Decimal

import pytest

from tests.conftest import ApiClient, Browser, PASSWORD, csrf_from, make_user


class Shop:
    """A back office making customers, invoices and payments through the API; customers logging in."""

    def __init__(self, app, api):
        self.app = app
        self.office = api("back_office")
        taxes = self.office.get("/taxes").json["items"]
        self.tax_id = next(t["id"] for t in taxes if Decimal(t["rate"]) == 0)
        self.alice = self.customer("Alice Plumbing", "alice@example.com")
        self.bob = self.customer("Bob Heating", "bob@example.com")

    def customer(self, name: str, email: str = "") -> int:
        r = self.office.post("/partners", json={"name": name, "email": email})
        assert r.status_code == 201, r.json
        return r.json["id"]

    def invoice(self, partner_id: int, total: str, post: bool = True) -> dict:
        body = {"partner_id": partner_id,
                "lines": [{"description": "Boiler repair", "quantity": "1", "unit_price": total, "tax_id": self.tax_id}]}
        r = self.office.post("/invoices", json=body)
        assert r.status_code == 201, r.json
        if post:
            r = self.office.post(f"/invoices/{r.json['id']}/post")
            assert r.status_code == 200, r.json
        return r.json

    def credit_note(self, invoice_id: int) -> dict:
        r = self.office.post(f"/invoices/{invoice_id}/credit-notes", json={"mode": "cancel"})
        assert r.status_code == 201, r.json
        return r.json

    def overpay(self, invoice_id: int, amount: str) -> dict:
        from datetime import date
        r = self.office.post(f"/invoices/{invoice_id}/payments",
                             json={"amount": amount, "date": date.today().isoformat(), "method": "bank_transfer",
                                   "reference": "VIR"})
        assert r.status_code == 201, r.json
        return r.json

    def customer_user(self, partner_id: int | None):
        if partner_id is not None:
            return make_user(self.app, "customer", partner_id=partner_id)
        # A customer login tied to no customer: create_user refuses to make one now; one made before that (or
        # by hand in the database) must still be told what is wrong.
        from sqlalchemy import update

        from core.extensions import db
        from core.models import User
        made = make_user(self.app, "customer", partner_id=self.alice)
        with self.app.app_context():
            db.session.execute(update(User).where(User.id == made[0]).values(partner_id=None))
            db.session.commit()
        return made

    def browser(self, partner_id: int | None) -> Browser:
        """A customer logged in through /login (the same form as everyone)."""
        user_id, name, _ = self.customer_user(partner_id)
        client = self.app.test_client()
        page = client.get("/login").get_data(as_text=True)
        r = client.post("/login", data={"login": name, "password": PASSWORD, "csrf_token": csrf_from(page)})
        assert r.status_code == 302, r.get_data(as_text=True)
        browser = Browser(client, user_id, name)
        browser._token = csrf_from(client.get("/login" if partner_id is None else "/portal",
                                              follow_redirects=True).get_data(as_text=True))
        return browser

    def token_client(self, partner_id: int | None) -> ApiClient:
        user_id, _, token = self.customer_user(partner_id)
        return ApiClient(self.app.test_client(), token, user_id)

    def get(self, invoice_id: int) -> dict:
        return self.office.get(f"/invoices/{invoice_id}").json


@pytest.fixture
def shop(app, api):
    return Shop(app, api)
