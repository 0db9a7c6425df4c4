"""The lock date: nothing dated on or before it is posted, by any path; the document stays draft, no number used."""

def _lock(books, day="2026-03-31"):
    r = books.books.put("/settings/lock-date", json={"lock_date": day})
    assert r.status_code == 200, r.json
    assert books.books.get("/settings/lock-date").json == {"lock_date": day}


def test_set_lock_date_roles_and_bad_input(books, api):
    assert books.books.get("/settings/lock-date").json == {"lock_date": None}
    assert books.office.put("/settings/lock-date", json={"lock_date": "2026-01-31"}).status_code == 403
    assert api("technician").get("/settings/lock-date").status_code == 403
    assert books.books.put("/settings/lock-date", json={"lock_date": "not a date"}).status_code == 422
    assert books.books.put("/settings/lock-date", json={}).status_code == 422
    assert books.books.put("/settings/lock-date", json={"lock_date": "2999-01-01"}).status_code == 422
    _lock(books, "2026-03-31")
    # a bookkeeper does not unlock; an admin may
    r = books.books.put("/settings/lock-date", json={"lock_date": "2026-01-31"})
    assert r.status_code == 409 and r.json["error"]["code"] == "lock_date_backwards"
    assert api("admin").put("/settings/lock-date", json={"lock_date": "2026-01-31"}).status_code == 200


def test_invoice_in_locked_period_stays_draft_and_keeps_its_number(books):
    inv = books.draft(on="2026-03-15")
    _lock(books)
    r = books.office.post(f"/invoices/{inv['id']}/post")
    assert r.status_code == 409 and r.json["error"]["code"] == "period_locked", r.json
    again = books.office.get(f"/invoices/{inv['id']}").json
    assert again["state"] == "draft" and again["number"] is None and again["journal_entry_id"] is None
    assert books.books.get("/journal-entries").json["total"] == 0
    # the number was not used: the next invoice, after the lock date, takes 00001
    later = books.invoice(on="2026-04-02")
    assert later["number"] == "INV/2026/00001"
    assert books.entry(later["journal_entry_id"])["number"] == "INV/2026/00001"


def test_credit_note_payment_refund_in_locked_period_refused(books):
    inv = books.invoice(on="2026-03-02")
    _lock(books)
    r = books.office.post(f"/invoices/{inv['id']}/credit-notes", json={"mode": "cancel", "date": "2026-03-20"})
    assert r.status_code == 409 and r.json["error"]["code"] == "period_locked", r.json
    r = books.office.post(f"/invoices/{inv['id']}/payments",
                          json={"amount": "10.00", "date": "2026-03-20", "method": "bank_transfer"})
    assert r.status_code == 409 and r.json["error"]["code"] == "period_locked"
    assert books.office.get(f"/invoices/{inv['id']}").json["amount_due"] == "144.00"
    assert books.office.get("/payments").json["total"] == 0
    # overpay after the lock, then refund dated into it
    books.pay(inv, "150.00", on="2026-04-02")
    r = books.office.post(f"/partners/{books.partner['id']}/refunds",
                          json={"amount": "6.00", "date": "2026-03-30", "method": "bank_transfer"})
    assert r.status_code == 409 and r.json["error"]["code"] == "period_locked"
    assert books.office.get(f"/partners/{books.partner['id']}/balance").json["credit_available"] == "6.00"


def test_manual_entry_and_reversal_in_locked_period_refused(books):
    lines = [{"account_code": "512000", "debit": "50.00"}, {"account_code": "101000", "credit": "50.00"}]
    early = books.books.post("/journal-entries", json={"date": "2026-03-05", "lines": lines}).json
    posted = books.books.post("/journal-entries", json={"date": "2026-03-06", "lines": lines}).json
    assert books.books.post(f"/journal-entries/{posted['id']}/post").status_code == 200
    _lock(books)
    r = books.books.post(f"/journal-entries/{early['id']}/post")
    assert r.status_code == 409 and r.json["error"]["code"] == "period_locked"
    assert books.entry(early["id"])["state"] == "draft"
    r = books.books.post(f"/journal-entries/{posted['id']}/reverse", json={"date": "2026-03-31"})
    assert r.status_code == 409 and r.json["error"]["code"] == "period_locked"
    r = books.books.post(f"/journal-entries/{posted['id']}/reverse", json={"date": "2026-04-01"})
    assert r.status_code == 201 and r.json["date"] == "2026-04-01"


def test_lock_date_page(books, login):
    browser = login("bookkeeper")
    page = browser.get("/accounting/close")
    assert page.status_code == 200 and "No lock date" in page.get_data(as_text=True)
    r = browser.post("/accounting/close", data={"lock_date": "2026-02-28"})
    assert r.status_code == 302
    page = browser.get("/accounting/close").get_data(as_text=True)
    assert "locked up to" in page and "Feb 28, 2026" in page
    assert books.books.get("/settings/lock-date").json["lock_date"] == "2026-02-28"
    office = login("back_office")
    assert office.get("/accounting/close").status_code == 403
    assert office.post("/accounting/close", data={"lock_date": "2026-03-31"}).status_code == 403
