"""The everyday corrections of invoices, end to end through the API with every addon installed:
full credit of an unpaid invoice, partial credit by quantity, credit on a paid invoice becoming account credit
used by the next invoice, credit-and-redraft with a changed price, invoice externally, cancel the booking."""
from __future__ import annotations

from datetime import date

import pytest


@pytest.fixture
def office(api):
    a = api("back_office")
    tech_user = api("technician")
    partner = a.post("/partners", json={"name": "Hôtel du Parc", "email": "compta@parc.example"}).json
    tax = next(t for t in a.get("/taxes").json["items"] if t["rate"].startswith("20"))
    labour = a.post("/products", json={"code": "LAB", "name": "Labour", "type": "labour", "unit": "h",
                                       "unit_price": "60.00", "tax_id": tax["id"]}).json
    part = a.post("/products", json={"code": "VALVE", "name": "Valve", "type": "part", "unit": "unit",
                                      "unit_price": "25.00", "tax_id": tax["id"]}).json
    return {"api": a, "partner": partner, "labour": labour, "part": part, "technician_id": tech_user.user_id}


def _today() -> str:
    return date.today().isoformat()


def _invoice(o, lines=None) -> dict:
    a = o["api"]
    r = a.post("/invoices", json={"partner_id": o["partner"]["id"], "invoice_date": _today(), "lines": lines or [
        {"product_id": o["labour"]["id"], "quantity": "2"}, {"product_id": o["part"]["id"], "quantity": "2"}]})
    assert r.status_code == 201, r.json
    r = a.post(f"/invoices/{r.json['id']}/post")
    assert r.status_code == 200, r.json
    return r.json  # 2 × 60 + 2 × 25 = 170.00 + 20 % = 204.00


def _done_order(o) -> dict:
    """A service order worked and done: 2 h of labour and one valve."""
    a = o["api"]
    order = a.post("/service-orders", json={"partner_id": o["partner"]["id"], "description": "Leak in room 12",
                                            "technician_id": o["technician_id"],
                                            "scheduled_at": f"{_today()}T09:00:00+00:00"})
    assert order.status_code == 201, order.json
    oid = order.json["id"]
    for step in ("schedule", "start"):
        r = a.post(f"/service-orders/{oid}/{step}", json={})
        assert r.status_code == 200, (step, r.json)
    for path, body in ((f"/service-orders/{oid}/time-entries", {"hours": "2", "product_id": o["labour"]["id"],
                                                                  "date": _today()}),
                       (f"/service-orders/{oid}/parts", {"product_id": o["part"]["id"], "quantity": "1"})):
        r = a.post(path, json=body)
        assert r.status_code == 201, r.json
    assert a.patch(f"/service-orders/{oid}", json={"report": "Replaced the valve."}).status_code == 200
    r = a.post(f"/service-orders/{oid}/done", json={})
    assert r.status_code == 200, r.json
    return a.get(f"/service-orders/{oid}").json


def test_full_credit_of_an_unpaid_invoice(office):
    a = office["api"]
    inv = _invoice(office)
    note = a.post(f"/invoices/{inv['id']}/credit-notes", json={"reason": "Sent to the wrong hotel"}).json
    assert note["state"] == "draft"
    a.post(f"/invoices/{note['id']}/post")
    inv = a.get(f"/invoices/{inv['id']}").json
    assert inv["payment_state"] == "credited" and inv["amount_due"] == "0.00" and inv["amount_credited"] == "204.00"
    assert a.get(f"/partners/{office['partner']['id']}/balance").json == {"receivable": "0.00",
                                                                         "credit_available": "0.00"}


def test_partial_credit_by_quantity_reduces_the_unpaid_amount(office):
    a = office["api"]
    inv = _invoice(office)
    part_line = inv["lines"][1]
    note = a.post(f"/invoices/{inv['id']}/credit-notes", json={
        "lines": [{"line_id": part_line["id"], "quantity": "1"}], "reason": "One valve returned"}).json
    a.post(f"/invoices/{note['id']}/post")
    inv = a.get(f"/invoices/{inv['id']}").json
    assert inv["amount_due"] == "174.00" and inv["payment_state"] == "partial"
    assert inv["lines"][1]["quantity_credited"] in ("1", "1.0000", "1.00")


def test_credit_on_a_paid_invoice_becomes_credit_for_the_next_invoice(office):
    a = office["api"]
    inv = _invoice(office)
    r = a.post(f"/invoices/{inv['id']}/payments", json={"amount": "204.00", "date": _today(),
                                                        "method": "bank_transfer", "reference": "VIR 1"})
    assert r.status_code == 201, r.json
    assert a.get(f"/invoices/{inv['id']}").json["payment_state"] == "paid"
    note = a.post(f"/invoices/{inv['id']}/credit-notes", json={
        "lines": [{"line_id": inv["lines"][0]["id"], "quantity": "1"}]}).json
    a.post(f"/invoices/{note['id']}/post")
    assert a.get(f"/partners/{office['partner']['id']}/balance").json["credit_available"] == "72.00"
    nxt = _invoice(office)  # auto_apply_credit is on by default
    assert nxt["credit_applied"] == "72.00" and nxt["amount_due"] == "132.00" and nxt["payment_state"] == "partial"
    assert a.get(f"/partners/{office['partner']['id']}/balance").json == {"receivable": "132.00",
                                                                         "credit_available": "0.00"}


def test_credit_and_redraft_with_a_changed_price_then_post(office):
    a = office["api"]
    order = _done_order(office)
    draft = a.post(f"/service-orders/{order['id']}/invoice", json={}).json
    inv = a.post(f"/invoices/{draft['id']}/post").json
    assert a.get(f"/service-orders/{order['id']}").json["state"] == "invoiced"
    result = a.post(f"/invoices/{inv['id']}/credit-notes", json={"mode": "modify", "reason": "Wrong rate"}).json
    assert result["state"] == "posted" and result["number"].startswith("CN/")
    redraft = a.get(f"/invoices/{result['new_draft_id']}").json
    assert redraft["origin"] == {"type": "service_order", "id": order["id"]}
    assert redraft["redraft_of_id"] == inv["id"]
    lines = [{"id": l["id"], "unit_price": "50.00"} if l["product_id"] == office["labour"]["id"] else {"id": l["id"]}
             for l in redraft["lines"]]
    r = a.patch(f"/invoices/{redraft['id']}", json={"lines": lines})
    assert r.status_code == 200 and r.json["amount_untaxed"] == "125.00"
    posted = a.post(f"/invoices/{redraft['id']}/post").json
    assert posted["state"] == "posted" and posted["amount_due"] == "150.00"
    assert a.get(f"/invoices/{inv['id']}").json["payment_state"] == "credited"
    order = a.get(f"/service-orders/{order['id']}").json
    assert order["state"] == "invoiced" and order["invoice_id"] == posted["id"]


def test_invoice_a_redraft_externally(office):
    a = office["api"]
    order = _done_order(office)
    draft = a.post(f"/service-orders/{order['id']}/invoice", json={}).json
    inv = a.post(f"/invoices/{draft['id']}/post").json
    redraft_id = a.post(f"/invoices/{inv['id']}/credit-notes", json={"mode": "modify"}).json["new_draft_id"]
    r = a.post(f"/invoices/{redraft_id}/invoice-externally")
    assert r.status_code == 200 and r.json["state"] == "cancelled" and r.json["number"] is None
    assert a.get(f"/service-orders/{order['id']}").json["state"] == "invoiced"
    assert a.post(f"/invoices/{redraft_id}/post").status_code == 409


def test_cancel_the_booking_by_deleting_the_redraft(office):
    a = office["api"]
    order = _done_order(office)
    draft = a.post(f"/service-orders/{order['id']}/invoice", json={}).json
    inv = a.post(f"/invoices/{draft['id']}/post").json
    redraft_id = a.post(f"/invoices/{inv['id']}/credit-notes", json={"mode": "modify"}).json["new_draft_id"]
    assert a.delete(f"/invoices/{redraft_id}?cancel_origin=true").status_code == 204
    assert a.get(f"/invoices/{redraft_id}").status_code == 404
    assert a.get(f"/service-orders/{order['id']}").json["state"] == "cancelled"
    assert a.get(f"/invoices/{inv['id']}").json["payment_state"] == "credited"
    assert a.get(f"/partners/{office['partner']['id']}/balance").json == {"receivable": "0.00",
                                                                         "credit_available": "0.00"}
