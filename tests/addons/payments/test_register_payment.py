"""Registering a payment on a posted invoice: partial, several, over-payment to credit; bad inputs; roles."""
from datetime import date, timedelta

from sqlalchemy import func, select

from addons.payments.models import Payment
from core.extensions import db
from core.models import company



def _count_payments(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Payment))


def test_full_payment_marks_invoice_paid(books):
    inv = books.invoice("120.00")
    r = books.a.post(f"/invoices/{inv['id']}/payments", json=books.body("120.00"))
    assert r.status_code == 201, r.json
    p = r.json
    assert p["partner_id"] == books.partner_id and p["direction"] == "inbound" and p["amount"] == "120.00"
    assert p["method"] == "bank_transfer" and p["reference"] == "VIR 1" and p["date"] == date.today().isoformat()
    assert p["allocations"] == [{"invoice_id": inv["id"], "amount": "120.00"}]
    assert p["unallocated"] == "0.00" and "journal_entry_id" in p
    after = books.get_invoice(inv["id"])
    assert after["payment_state"] == "paid" and after["amount_due"] == "0.00" and after["amount_paid"] == "120.00"
    assert after["payment_ids"] == [p["id"]]
    assert books.a.get(f"/payments/{p['id']}").json == p


def test_partial_payments_then_the_rest(books):
    inv = books.invoice("100.00")
    assert books.get_invoice(inv["id"])["payment_state"] == "not_paid"
    r1 = books.a.post(f"/invoices/{inv['id']}/payments", json=books.body("30.00", method="cash"))
    assert r1.status_code == 201
    mid = books.get_invoice(inv["id"])
    assert mid["payment_state"] == "partial" and mid["amount_due"] == "70.00"
    r2 = books.a.post(f"/invoices/{inv['id']}/payments", json=books.body("70.00", method="card"))
    assert r2.status_code == 201
    end = books.get_invoice(inv["id"])
    assert end["payment_state"] == "paid" and end["amount_due"] == "0.00"
    assert sorted(end["payment_ids"]) == sorted([r1.json["id"], r2.json["id"]])
    assert books.credit() == "0.00"


def test_over_payment_becomes_customer_credit(books):
    inv = books.invoice("80.00")
    r = books.a.post(f"/invoices/{inv['id']}/payments", json=books.body("100.00"))
    assert r.status_code == 201
    assert r.json["allocations"] == [{"invoice_id": inv["id"], "amount": "80.00"}]
    assert r.json["unallocated"] == "20.00"
    assert books.get_invoice(inv["id"])["payment_state"] == "paid"
    assert books.credit() == "20.00"
    # a payment on an invoice already paid goes wholly to credit
    r = books.a.post(f"/invoices/{inv['id']}/payments", json=books.body("5.00"))
    assert r.status_code == 201 and r.json["allocations"] == [] and r.json["unallocated"] == "5.00"
    assert books.credit() == "25.00"


def test_date_defaults_to_today(books):
    inv = books.invoice("10.00")
    r = books.a.post(f"/invoices/{inv['id']}/payments", json={"amount": 10, "method": "cash"})
    assert r.status_code == 201 and r.json["date"] == date.today().isoformat() and r.json["amount"] == "10.00"


def test_bad_amounts_are_refused_and_change_nothing(books, app):
    inv = books.invoice("50.00")
    url = f"/invoices/{inv['id']}/payments"
    for amount in ("0", 0, "-5.00", -5, "abc", "", 12.5, None, True, "1e400", "12.345"):
        r = books.a.post(url, json=books.body(amount))
        assert r.status_code == 422, (amount, r.json)
        assert "amount" in r.json["error"]["fields"], (amount, r.json)
    r = books.a.post(url, json={"date": date.today().isoformat(), "method": "cash"})
    assert r.status_code == 422 and "amount" in r.json["error"]["fields"]
    assert _count_payments(app) == 0
    assert books.get_invoice(inv["id"])["amount_due"] == "50.00"


def test_unknown_or_inactive_method(books, app):
    inv = books.invoice("50.00")
    url = f"/invoices/{inv['id']}/payments"
    r = books.a.post(url, json=books.body(method="bitcoin"))
    assert r.status_code == 422 and "method" in r.json["error"]["fields"]
    r = books.a.post(url, json=books.body(method=""))
    assert r.status_code == 422 and "method" in r.json["error"]["fields"]
    with app.app_context():
        from addons.payments import services
        services.set_method_active("card", False)
        db.session.commit()
    r = books.a.post(url, json=books.body(method="card"))
    assert r.status_code == 422 and "method" in r.json["error"]["fields"]
    assert _count_payments(app) == 0


def test_date_in_the_future(books, app):
    inv = books.invoice("50.00")
    url = f"/invoices/{inv['id']}/payments"
    tomorrow = (date.today() + timedelta(days=1)).isoformat()
    r = books.a.post(url, json=books.body("10.00", on=tomorrow))
    assert r.status_code == 422 and "date" in r.json["error"]["fields"]
    r = books.a.post(url, json=books.body("10.00", on="2026-02-30"))
    assert r.status_code == 422 and "date" in r.json["error"]["fields"]
    with app.app_context():
        company().max_payment_days_ahead = 3
        db.session.commit()
    assert books.a.post(url, json=books.body("10.00", on=tomorrow)).status_code == 201
    far = (date.today() + timedelta(days=4)).isoformat()
    assert books.a.post(url, json=books.body("10.00", on=far)).status_code == 422
    past = (date.today() - timedelta(days=40)).isoformat()
    assert books.a.post(url, json=books.body("10.00", on=past)).status_code == 201


def test_draft_credit_note_and_unknown_invoice(books, app):
    draft = books.invoice("50.00", post=False)
    r = books.a.post(f"/invoices/{draft['id']}/payments", json=books.body("50.00"))
    assert r.status_code == 409 and r.json["error"]["code"] == "not_posted"
    assert books.a.post("/invoices/999999/payments", json=books.body()).status_code == 404
    assert _count_payments(app) == 0
    assert books.get_invoice(draft["id"])["state"] == "draft"


def test_roles(books, api, client):
    inv = books.invoice("90.00")
    url = f"/invoices/{inv['id']}/payments"
    assert api("technician").post(url, json=books.body("10.00")).status_code == 403
    assert api("technician").get("/payments").status_code == 403
    assert client.post("/api/v1" + url, json=books.body("10.00")).status_code == 401
    assert api("bookkeeper").post(url, json=books.body("10.00")).status_code == 201
    assert api("admin").post(url, json=books.body("10.00")).status_code == 201
    assert books.get_invoice(inv["id"])["amount_due"] == "70.00"


# -- the page -------------------------------------------------------------------------------------------------
def test_register_payment_from_the_invoice_page(books, login, app):
    inv = books.invoice("120.00")
    office = login("back_office")
    page = office.get(f"/invoices/{inv['id']}").get_data(as_text=True)
    assert "Register payment" in page and "No payment yet" in page
    form_url = f"/invoices/{inv['id']}/payments/new"
    assert form_url in page
    form = office.get(form_url).get_data(as_text=True)
    assert 'value="120.00"' in form and f'value="{date.today().isoformat()}"' in form
    assert "Bank transfer" in form and "Cash" in form and "Card" in form
    r = office.post(form_url, data={"amount": "20.00", "date": date.today().isoformat(), "method": "cash",
                                    "reference": "Cash at desk", "nonce": books.nonce(form)})
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/invoices/{inv['id']}")
    page = office.get(f"/invoices/{inv['id']}").get_data(as_text=True)
    assert "Payment of €20.00 registered." in page and "Cash at desk" in page and "/payments/" in page
    assert books.get_invoice(inv["id"])["payment_state"] == "partial"
    form = office.get(form_url).get_data(as_text=True)
    assert 'value="100.00"' in form  # the amount due now
    r = office.post(form_url, data={"amount": "150.00", "date": date.today().isoformat(), "method": "card",
                                    "reference": "", "nonce": books.nonce(form)})
    assert r.status_code == 302
    page = office.get(f"/invoices/{inv['id']}").get_data(as_text=True)
    assert "€50.00 became customer credit" in page
    assert "Register payment" not in page  # nothing due any more
    assert "Refund" in page  # the customer has credit
    assert books.get_invoice(inv["id"])["payment_state"] == "paid" and books.credit() == "50.00"


def test_form_errors_say_what_to_do(books, login, app):
    inv = books.invoice("60.00")
    office = login("back_office")
    form_url = f"/invoices/{inv['id']}/payments/new"
    nonce = books.nonce(office.get(form_url).get_data(as_text=True))
    for amount, message in (("0", "more than zero"), ("-3", "more than zero"), ("ten", "must be a number"),
                            ("", "Enter the amount")):
        r = office.post(form_url, data={"amount": amount, "date": date.today().isoformat(), "method": "cash",
                                        "nonce": nonce})
        assert r.status_code == 200 and message in r.get_data(as_text=True), amount
    future = (date.today() + timedelta(days=9)).isoformat()
    r = office.post(form_url, data={"amount": "5", "date": future, "method": "cash", "nonce": nonce})
    assert "cannot be dated after" in r.get_data(as_text=True)
    r = office.post(form_url, data={"amount": "5", "date": date.today().isoformat(), "method": "nope",
                                    "nonce": nonce})
    assert "Unknown payment method" in r.get_data(as_text=True)
    assert _count_payments(app) == 0
    # the same token still works once a valid amount is sent: a refused submit did not use it up
    r = office.post(form_url, data={"amount": "5", "date": date.today().isoformat(), "method": "cash",
                                    "nonce": nonce})
    assert r.status_code == 302 and _count_payments(app) == 1


def test_page_roles_and_states(books, login):
    inv = books.invoice("60.00")
    draft = books.invoice("10.00", post=False)
    tech = login("technician")
    assert tech.get(f"/invoices/{inv['id']}/payments/new").status_code == 403
    assert tech.post(f"/invoices/{inv['id']}/payments/new", data={"amount": "5"}).status_code == 403
    assert tech.get("/payments").status_code == 403
    books_user = login("bookkeeper")
    assert "Register payment" in books_user.get(f"/invoices/{inv['id']}").get_data(as_text=True)
    office = login("back_office")
    assert "Register payment" not in office.get(f"/invoices/{draft['id']}").get_data(as_text=True)
    r = office.get(f"/invoices/{draft['id']}/payments/new")
    assert r.status_code == 302
    assert "Post the invoice first" in office.get(r.headers["Location"]).get_data(as_text=True)
    assert office.get("/invoices/999999/payments/new").status_code == 404
