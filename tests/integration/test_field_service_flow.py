"""The everyday flow of our main users, through the API: the technician logs work on their order and marks it
done; the back office reviews it, creates the invoice, posts it, and registers the payment when it comes."""
from __future__ import annotations

from decimal import Decimal



def test_from_the_finished_job_to_the_paid_invoice(app, api):
    office, tech = api("back_office"), api("technician")
    partner = office.post("/partners", json={"name": "Pharmacie Girard", "street": "4 place du Marché",
                                             "zip": "35000", "city": "Rennes", "email": "compta@girard.example"}).json
    tax = office.get("/taxes").json["items"][0]
    labour = office.post("/products", json={"code": "LAB-STD", "name": "Labour", "type": "labour", "unit": "h",
                                            "unit_price": "65.00", "tax_id": tax["id"]}).json
    pump = office.post("/products", json={"code": "PRT-PUMP", "name": "Circulation pump", "type": "part",
                                          "unit_price": "214.00", "tax_id": tax["id"]}).json
    order = office.post("/service-orders", json={"partner_id": partner["id"], "description": "No hot water",
                                                 "technician_id": tech.user_id,
                                                 "scheduled_at": "2026-11-25T08:00:00+01:00"}).json
    oid = order["id"]
    assert office.post(f"/service-orders/{oid}/schedule").json["state"] == "scheduled"

    # The technician, on their phone.
    assert [o["id"] for o in tech.get("/service-orders").json["items"]] == [oid]
    assert tech.post(f"/service-orders/{oid}/start").json["state"] == "in_progress"
    assert tech.post(f"/service-orders/{oid}/time-entries", json={
        "hours": "2.5", "product_id": labour["id"], "date": "2026-11-25", "description": "Pump replaced"}).status_code == 201
    assert tech.post(f"/service-orders/{oid}/parts", json={"product_id": pump["id"], "quantity": "1"}).status_code == 201
    assert tech.patch(f"/service-orders/{oid}", json={"report": "Pump seized; replaced and tested."}).status_code == 200
    assert tech.post(f"/service-orders/{oid}/done").json["state"] == "done"

    # The back office reviews, corrects the hours, creates the invoice, reviews the draft and posts it.
    done = office.get(f"/service-orders/{oid}").json
    assert done["report"] == "Pump seized; replaced and tested." and done["parts"][0]["unit_price"] == "214.00"
    entry = done["time_entries"][0]
    assert office.patch(f"/service-orders/{oid}/time-entries/{entry['id']}", json={"hours": "2"}).status_code == 200
    draft = office.post(f"/service-orders/{oid}/invoice")
    assert draft.status_code == 201
    draft = draft.json
    assert draft["amount_untaxed"] == "344.00" and draft["amount_total"] == "412.80"
    posted = office.post(f"/invoices/{draft['id']}/post").json
    assert posted["state"] == "posted" and posted["number"].startswith("INV/")
    assert office.get(f"/service-orders/{oid}").json["state"] == "invoiced"
    assert office.post(f"/service-orders/{oid}/invoice").status_code == 409

    # The money comes in (payments addon).
    if app.extensions["kontor"].has("payments"):
        r = office.post(f"/invoices/{draft['id']}/payments", json={"amount": "412.80", "date": posted["invoice_date"],
                                                                    "method": "bank_transfer", "reference": "VIR 1234"})
        assert r.status_code == 201, r.json
        paid = office.get(f"/invoices/{draft['id']}").json
        assert paid["payment_state"] == "paid" and Decimal(paid["amount_due"]) == 0
    # The technician never saw a price or an invoice.
    seen = tech.get(f"/service-orders/{oid}").json
    assert "invoice_id" not in seen and all("unit_price" not in p for p in seen["parts"])
    assert tech.get(f"/invoices/{draft['id']}").status_code == 403
