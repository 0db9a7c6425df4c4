"""Posting a draft: the number, the state, refusals that keep the draft and the number."""
from decimal import Decimal


def _setup(a):
    partner = a.post("/partners", json={"name": "Dupont SARL"}).json
    tax = a.get("/taxes").json["items"][0]
    product = a.post("/products", json={"code": "LAB", "name": "Labour", "type": "labour", "unit": "h",
                                        "unit_price": "60.00", "tax_id": tax["id"]}).json
    return partner, product


def test_create_and_post_invoice(api):
    a = api("back_office")
    partner, product = _setup(a)
    r = a.post("/invoices", json={"partner_id": partner["id"], "invoice_date": "2026-03-01",
                                  "lines": [{"product_id": product["id"], "quantity": "2.5"}]})
    assert r.status_code == 201, r.json
    inv = r.json
    assert inv["state"] == "draft" and inv["number"] is None
    assert inv["amount_untaxed"] == "150.00" and inv["amount_tax"] == "30.00" and inv["amount_total"] == "180.00"
    r = a.post(f"/invoices/{inv['id']}/post")
    assert r.status_code == 200, r.json
    assert r.json["number"] == "INV/2026/00001"
    assert r.json["state"] == "posted" and r.json["amount_due"] == "180.00"
    assert a.post(f"/invoices/{inv['id']}/post").status_code == 409
    assert a.patch(f"/invoices/{inv['id']}", json={"notes": "x"}).status_code == 409
    assert a.delete(f"/invoices/{inv['id']}").status_code == 409


def test_line_rounding_is_per_line(api):
    a = api("back_office")
    partner, product = _setup(a)
    lines = [{"description": "a", "quantity": "1", "unit_price": "0.05", "tax_id": product["tax_id"]}] * 3
    inv = a.post("/invoices", json={"partner_id": partner["id"], "lines": lines}).json
    # 0.05 * 20 % = 0.01 per line, three lines: 0.03 (not 0.15 * 20 % rounded once)
    assert inv["amount_tax"] == "0.03"
    assert Decimal(inv["amount_total"]) == Decimal("0.18")
