"""Customer credit: a credit note on a paid invoice becomes credit, used by the next invoice automatically (oldest
first) or by hand with "Apply credit"; the balance shows on the customer page, the invoice and its PDF."""
from __future__ import annotations

from sqlalchemy import select

from addons.invoicing import services
from core.extensions import db
from core.models import company


def _pay(app, invoice_id, amount, source_id=1):
    with app.app_context():
        applied = services.settle(services.get_invoice(invoice_id), amount, kind="payment", source_type="payment",
                                  source_id=source_id)
        db.session.commit()
        return applied


def _auto_apply(app, on: bool):
    with app.app_context():
        company().auto_apply_credit = on
        db.session.commit()


def test_credit_note_on_a_paid_invoice_becomes_credit_used_by_the_next(setup, app):
    a = setup.api
    inv = setup.posted()
    _pay(app, inv["id"], "254.00")
    assert a.get(f"/invoices/{inv['id']}").json["payment_state"] == "paid"
    note = a.post(f"/invoices/{inv['id']}/credit-notes",
                  json={"lines": [{"line_id": inv["lines"][0]["id"], "quantity": "1"}]}).json
    a.post(f"/invoices/{note['id']}/post")
    assert a.get(f"/partners/{setup.partner['id']}/balance").json == {"receivable": "0.00",
                                                                     "credit_available": "72.00"}
    nxt = setup.posted(invoice_date="2026-03-05")
    assert nxt["amount_paid"] == "72.00" and nxt["credit_applied"] == "72.00" and nxt["amount_due"] == "182.00"
    assert nxt["payment_state"] == "partial"
    assert a.get(f"/partners/{setup.partner['id']}/balance").json == {"receivable": "182.00",
                                                                     "credit_available": "0.00"}


def test_oldest_credit_first_and_by_hand_when_auto_apply_is_off(setup, app):
    a = setup.api
    _auto_apply(app, False)
    with app.app_context():
        first = services.add_credit(setup.partner["id"], "30", "payment", 11)
        second = services.add_credit(setup.partner["id"], "50", "payment", 12)
        db.session.commit()
        first_id, second_id = first.id, second.id
    inv = setup.posted()
    assert inv["amount_due"] == "254.00"  # not applied automatically
    r = a.post(f"/invoices/{inv['id']}/apply-credit", json={"amount": "40"})
    assert r.status_code == 200 and r.json["amount_due"] == "214.00" and r.json["credit_applied"] == "40.00"
    with app.app_context():
        from addons.invoicing.models import CustomerCredit
        used = dict(db.session.execute(select(CustomerCredit.id, CustomerCredit.amount_used)).all())
        assert str(used[first_id]) == "30.00" and str(used[second_id]) == "10.00"
    assert a.post(f"/invoices/{inv['id']}/apply-credit", json={"amount": "100"}).status_code == 422
    assert a.post(f"/invoices/{inv['id']}/apply-credit", json={"amount": "0"}).status_code == 422
    assert a.post(f"/invoices/{inv['id']}/apply-credit", json={"amount": "abc"}).status_code == 422
    r = a.post(f"/invoices/{inv['id']}/apply-credit", json={})
    assert r.json["amount_due"] == "174.00"
    r = a.post(f"/invoices/{inv['id']}/apply-credit", json={})
    assert r.status_code == 409 and r.json["error"]["code"] == "no_credit"


def test_apply_credit_refusals(setup, app, api):
    a = setup.api
    draft = setup.draft()
    assert a.post(f"/invoices/{draft['id']}/apply-credit", json={}).status_code == 409
    inv = setup.posted(invoice_date="2026-03-02")
    _pay(app, inv["id"], "254.00")
    with app.app_context():
        services.add_credit(setup.partner["id"], "30", "payment", 11)
        db.session.commit()
    r = a.post(f"/invoices/{inv['id']}/apply-credit", json={})
    assert r.status_code == 409 and r.json["error"]["code"] == "nothing_due"
    assert api("bookkeeper").post(f"/invoices/{inv['id']}/apply-credit", json={}).status_code == 403
    assert a.post("/invoices/9999/apply-credit", json={}).status_code == 404


def test_apply_credit_button_invoice_page_and_customer_page(setup, app, login):
    _auto_apply(app, False)
    inv = setup.posted()
    browser = login("back_office")
    assert "Apply credit" not in browser.get(f"/invoices/{inv['id']}").get_data(as_text=True)
    with app.app_context():
        services.add_credit(setup.partner["id"], "25.50", "payment", 11)
        db.session.commit()
    page = browser.get(f"/invoices/{inv['id']}").get_data(as_text=True)
    assert "Apply credit (€25.50 available)" in page
    r = browser.post(f"/invoices/{inv['id']}/apply-credit", follow_redirects=True)
    page = r.get_data(as_text=True)
    assert "25.50 of credit applied" in page and "Credit applied" in page and "€228.50" in page
    customer = browser.get(f"/partners/{setup.partner['id']}").get_data(as_text=True)
    assert "Balance due" in customer and "€228.50" in customer and "Credit available" in customer
    assert "INV/2026/00001" in customer


def test_customer_page_escapes_the_name(setup, login):
    partner = setup.api.post("/partners", json={"name": "<script>x</script>"}).json
    setup.posted(partner_id=partner["id"])
    page = login("back_office").get(f"/partners/{partner['id']}").get_data(as_text=True)
    assert "<script>x</script>" not in page and "&lt;script&gt;" in page


def test_pdf_shows_credit_applied_and_available_credit(setup, app):
    a = setup.api
    with app.app_context():
        services.add_credit(setup.partner["id"], "300", "payment", 11)
        db.session.commit()
    inv = setup.posted()
    assert inv["amount_due"] == "0.00" and inv["payment_state"] == "paid"
    from pypdf import PdfReader
    import io
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(a.get(f"/invoices/{inv['id']}/pdf").data)).pages)
    assert "Credit applied" in text and "254.00" in text and "46.00 of credit" in text
