"""Shared set-up for the field service tests: a customer, labour and part products, orders in a given state."""
from __future__ import annotations

import pytest


class Shop:
    def __init__(self, office):
        self.office = office
        self.partner = office.post("/partners", json={"name": "Boulangerie Dupont", "street": "12 rue Pasteur",
                                                      "zip": "69003", "city": "Lyon"}).json
        tax = office.get("/taxes").json["items"][0]
        assert tax["rate"] in ("20", "20.0000", "20.00") or tax["name"].startswith("VAT 20")
        self.tax = tax
        self.labour = office.post("/products", json={"code": "LAB-STD", "name": "Labour", "type": "labour",
                                                     "unit": "h", "unit_price": "65.00", "tax_id": tax["id"]}).json
        self.urgent = office.post("/products", json={"code": "LAB-URG", "name": "Urgent labour", "type": "labour",
                                                     "unit": "h", "unit_price": "95.00", "tax_id": tax["id"]}).json
        self.part = office.post("/products", json={"code": "PRT-VALVE", "name": "Thermostatic valve",
                                                   "type": "part", "unit_price": "38.50", "tax_id": tax["id"]}).json

    def order(self, technician_id, state="scheduled", **extra):
        body = {"partner_id": self.partner["id"], "description": "Boiler service", "technician_id": technician_id,
                "scheduled_at": "2026-11-25T09:00:00+00:00", **extra}
        r = self.office.post("/service-orders", json=body)
        assert r.status_code == 201, r.json
        order = r.json
        steps = {"draft": [], "scheduled": ["schedule"], "in_progress": ["schedule", "start"],
                 "done": ["schedule", "start", "work", "done"]}[state]
        for step in steps:
            if step == "work":
                self.work(order["id"])
                continue
            r = self.office.post(f"/service-orders/{order['id']}/{step}")
            assert r.status_code == 200, r.json
            order = r.json
        return self.office.get(f"/service-orders/{order['id']}").json

    def work(self, order_id, client=None):
        client = client or self.office
        assert client.post(f"/service-orders/{order_id}/time-entries",
                           json={"hours": "2", "product_id": self.labour["id"], "date": "2026-11-25",
                                 "description": "Diagnosis"}).status_code == 201
        assert client.post(f"/service-orders/{order_id}/time-entries",
                           json={"hours": "1.5", "product_id": self.urgent["id"], "date": "2026-11-25",
                                 "description": "Repair"}).status_code == 201
        assert client.post(f"/service-orders/{order_id}/parts",
                           json={"product_id": self.part["id"], "quantity": "2"}).status_code == 201
        assert client.patch(f"/service-orders/{order_id}", json={"report": "Valve replaced, tested."}).status_code == 200


@pytest.fixture
def shop(api):
    return Shop(api("back_office"))
