"""Paying customer credit back: never more than is available; from the API and from the invoice's page."""
from datetime import date

from sqlalchemy import func, select

from addons.payments.models import Payment
from core.extensions import db


def _overpay(books, total="80.00", paid="100.00"):
    inv = books.invoice(total)
    r = books.a.post(f"/invoices/{inv['id']}/payments",
                     json={"amount": paid, "date": date.today().isoformat(), "method": "bank_transfer"})
    assert r.status_code == 201
    return inv


def test_refund_through_partner_endpoint(books):
    _overpay(books)
    assert books.credit() == "20.00"
    r = books.a.post(f"/partners/{books.partner_id}/refunds",
                     json={"amount": "15.00", "date": date.today().isoformat(), "method": "bank_transfer",
                           "reference": "REFUND 1"})
    assert r.status_code == 201, r.json
    assert r.json["direction"] == "outbound" and r.json["amount"] == "15.00" and r.json["allocations"] == []
    assert r.json["unallocated"] == "0.00" and r.json["reference"] == "REFUND 1"
    assert books.credit() == "5.00"


def test_refund_as_outbound_payment(books):
    _overpay(books)
    r = books.a.post("/payments", json={"partner_id": books.partner_id, "direction": "outbound", "amount": "20",
                                        "method": "cash"})
    assert r.status_code == 201 and r.json["direction"] == "outbound"
    assert books.credit() == "0.00"
    r = books.a.post("/payments", json={"partner_id": books.partner_id, "direction": "outbound", "amount": "1",
                                        "method": "cash", "allocations": [{"invoice_id": 1, "amount": "1"}]})
    assert r.status_code == 422 and "allocations" in r.json["error"]["fields"]


def test_over_refund_is_refused(books, app):
    _overpay(books)
    for url, extra in ((f"/partners/{books.partner_id}/refunds", {}),
                       ("/payments", {"partner_id": books.partner_id, "direction": "outbound"})):
        r = books.a.post(url, json={"amount": "20.01", "method": "bank_transfer", **extra})
        assert r.status_code == 422 and r.json["error"]["code"] == "refund_exceeds_credit"
        assert "amount" in r.json["error"]["fields"]
    nobody = books.customer("No credit")
    r = books.a.post(f"/partners/{nobody}/refunds", json={"amount": "1", "method": "cash"})
    assert r.status_code == 422 and r.json["error"]["code"] == "refund_exceeds_credit"
    for amount in ("0", "-1", "x", 2.5):
        r = books.a.post(f"/partners/{books.partner_id}/refunds", json={"amount": amount, "method": "cash"})
        assert r.status_code == 422 and "amount" in r.json["error"]["fields"], amount
    assert books.a.post("/partners/999999/refunds", json={"amount": "1", "method": "cash"}).status_code == 404
    assert books.credit() == "20.00"
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Payment)
                                 .where(Payment.direction == "outbound")) == 0


def test_refund_roles(books, api, client):
    _overpay(books)
    url = f"/partners/{books.partner_id}/refunds"
    assert api("technician").post(url, json={"amount": "1", "method": "cash"}).status_code == 403
    assert client.post("/api/v1" + url, json={"amount": "1", "method": "cash"}).status_code == 401
    assert api("bookkeeper").post(url, json={"amount": "1", "method": "cash"}).status_code == 201


def test_refund_from_the_invoice_page(books, login):
    inv = _overpay(books, "80.00", "130.00")
    office = login("back_office")
    page = office.get(f"/invoices/{inv['id']}").get_data(as_text=True)
    assert "Refund" in page and "50.00" in page
    refund_url = f"/partners/{books.partner_id}/refunds/new?invoice_id={inv['id']}"
    assert refund_url.replace("?", "?") in page.replace("&amp;", "&")
    form = office.get(refund_url).get_data(as_text=True)
    assert 'value="50.00"' in form  # pre-filled with the available credit
    r = office.post(refund_url, data={"amount": "60.00", "date": date.today().isoformat(), "method": "bank_transfer",
                                      "nonce": books.nonce(form)})
    assert r.status_code == 200 and "a refund cannot be more" in r.get_data(as_text=True)
    r = office.post(refund_url, data={"amount": "50.00", "date": date.today().isoformat(),
                                      "method": "bank_transfer", "reference": "IBAN FR76", "nonce": books.nonce(form)})
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/invoices/{inv['id']}")
    assert books.credit() == "0.00"
    page = office.get(f"/invoices/{inv['id']}").get_data(as_text=True)
    assert "Refund of €50.00" in page and "Refund it" not in page
    # double submit of the same form: nothing more
    r = office.post(refund_url, data={"amount": "50.00", "date": date.today().isoformat(),
                                      "method": "bank_transfer", "nonce": books.nonce(form)})
    assert r.status_code == 302
    assert "already registered" in office.get(r.headers["Location"]).get_data(as_text=True)
    assert books.a.get("/payments?direction=outbound").json["total"] == 1
    empty = office.get(f"/partners/{books.partner_id}/refunds/new").get_data(as_text=True)
    assert "has no credit to refund" in empty
    assert login("technician").get(f"/partners/{books.partner_id}/refunds/new").status_code == 403


def test_client_should_get_a_refund_after_a_paid_invoice_is_credited(books, login):
    """The everyday case: the invoice was paid, then credited in full; the customer gets the money back."""
    inv = books.invoice("120.00")
    books.a.post(f"/invoices/{inv['id']}/payments", json={"amount": "120.00", "method": "bank_transfer"})
    office = login("back_office")
    assert "Refund" not in office.get(f"/invoices/{inv['id']}").get_data(as_text=True)
    r = books.a.post(f"/invoices/{inv['id']}/credit-notes", json={"mode": "cancel", "reason": "Wrong customer"})
    assert r.status_code == 201, r.json
    assert books.credit() == "120.00"
    page = office.get(f"/invoices/{inv['id']}").get_data(as_text=True)
    assert "Refund" in page
    refund_url = f"/partners/{books.partner_id}/refunds/new?invoice_id={inv['id']}"
    form = office.get(refund_url).get_data(as_text=True)
    assert 'value="120.00"' in form
    r = office.post(refund_url, data={"amount": "120.00", "date": date.today().isoformat(),
                                      "method": "bank_transfer", "reference": "Back to FR76", "nonce": books.nonce(form)})
    assert r.status_code == 302
    assert books.credit() == "0.00"
    refunds = books.a.get("/payments?direction=outbound").json["items"]
    assert [(p["amount"], p["reference"]) for p in refunds] == [("120.00", "Back to FR76")]
