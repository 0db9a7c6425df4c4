"""The few permissions that depend on what a request asks for, not on its route and method, so the access matrix
(one empty body per route) cannot show them: a role that holds the route's permission but not the extra one is
refused and nothing is written.

- ``POST /payments`` with ``direction: outbound`` is a refund: it needs ``payments.refund`` on top of
  ``payments.register`` (addons/payments/api.py).
- Batch invoicing with ``post`` needs ``invoicing.post`` on top of ``field_service.invoice`` and
  ``invoicing.write`` (addons/field_service/api.py and views.py).
- ``PATCH /service-orders/{id}`` by a technician (on their own order) may change the report only (409
  ``forbidden_fields``; addons/field_service/services.update_order).

For the first two no built-in role holds one permission without the other, so the test gives its own roles (a
cashier, a dispatcher) exactly the route's permissions, as an addon or an administrator could.
"""
from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from core.extensions import db


def _grant(app, role: str, *permissions: str) -> None:
    table = app.extensions["kontor"].permissions
    for permission in permissions:
        table[permission] = set(table[permission]) | {role}  # a new set: the addons' tables stay untouched


def _count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def test_a_refund_needs_payments_refund(app, shop, api):
    from addons.payments.models import Payment
    _grant(app, "cashier", "payments.read", "payments.register")
    cashier = api("cashier")
    invoice = shop.invoice("90.00")
    shop.pay(invoice["id"], "100.00")  # 10.00 over: customer credit, which a refund would pay back
    payments = _count(app, Payment)
    body = {"partner_id": shop.partner_id, "amount": "10.00", "date": date.today().isoformat(), "method": "cash",
            "reference": "cash back"}
    r = cashier.post("/payments", json={**body, "direction": "outbound"})
    assert r.status_code == 403 and r.json["error"]["code"] == "forbidden", r.json
    assert _count(app, Payment) == payments
    # the same role may take money in, and a role with payments.refund may pay the credit back
    assert cashier.post("/payments", json=body).status_code == 201
    assert shop.a.post("/payments", json={**body, "direction": "outbound"}).status_code == 201
    assert _count(app, Payment) == payments + 2


def _done_order(shop, technician_id: int) -> int:
    a = shop.a
    labour = a.post("/products", json={"code": "LAB", "name": "Labour", "type": "labour", "unit": "h",
                                       "unit_price": "60.00", "tax_id": shop.vat20}).json
    order = a.post("/service-orders", json={"partner_id": shop.partner_id, "description": "Boiler",
                                            "technician_id": technician_id,
                                            "scheduled_at": f"{date.today().isoformat()}T09:00:00+00:00"}).json
    for step in ("schedule", "start"):
        r = a.post(f"/service-orders/{order['id']}/{step}")
        assert r.status_code == 200, r.json
    r = a.post(f"/service-orders/{order['id']}/time-entries",
               json={"hours": "2", "product_id": labour["id"], "date": date.today().isoformat()})
    assert r.status_code == 201, r.json
    r = a.patch(f"/service-orders/{order['id']}", json={"report": "Replaced the valve."})
    assert r.status_code == 200, r.json
    r = a.post(f"/service-orders/{order['id']}/done")
    assert r.status_code == 200, r.json
    return order["id"]


def test_batch_invoicing_with_post_needs_invoicing_post(app, shop, api, login):
    from addons.invoicing.models import Invoice
    _grant(app, "dispatcher", "field_service.read", "field_service.invoice", "invoicing.read", "invoicing.write")
    order_id = _done_order(shop, api("technician").user_id)
    invoices = _count(app, Invoice)
    dispatcher = api("dispatcher")
    r = dispatcher.post("/service-orders/invoice", json={"ids": [order_id], "post": True})
    assert r.status_code == 403 and r.json["error"]["code"] == "forbidden", r.json
    page = login("dispatcher")
    r = page.post("/service-orders/invoice", data={"ids": str(order_id), "post": "1"}, follow_redirects=True)
    assert "may not post invoices" in r.get_data(as_text=True)
    assert _count(app, Invoice) == invoices
    # without post, the same role makes the draft; a role with invoicing.post may post it in the batch
    r = dispatcher.post("/service-orders/invoice", json={"ids": [order_id]})
    assert r.status_code == 200 and len(r.json["invoices"]) == 1 and r.json["posted"] == 0, r.json
    assert _count(app, Invoice) == invoices + 1


def test_a_technician_writes_only_the_report_of_an_order(app, shop, api):
    """PATCH /service-orders/{id} serves the back office (every field) and the technician (the report only)."""
    technician = api("technician")
    order = shop.a.post("/service-orders", json={"partner_id": shop.partner_id, "description": "Boiler",
                                                 "technician_id": technician.user_id,
                                                 "scheduled_at": f"{date.today().isoformat()}T09:00:00+00:00"}).json
    for field, value in (("description", "Nothing to do"), ("technician_id", None), ("partner_id", shop.customer("X"))):
        r = technician.patch(f"/service-orders/{order['id']}", json={field: value, "report": "Done."})
        assert r.status_code == 409 and r.json["error"]["code"] == "forbidden_fields", (field, r.json)
    after = shop.a.get(f"/service-orders/{order['id']}").json
    assert (after["description"], after["technician_id"], after["partner_id"], after["report"]) == \
        ("Boiler", technician.user_id, shop.partner_id, order["report"])
    r = technician.patch(f"/service-orders/{order['id']}", json={"report": "Replaced the valve."})
    assert r.status_code == 200 and r.json["report"] == "Replaced the valve.", r.json
