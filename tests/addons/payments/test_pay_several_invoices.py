"""One payment for several invoices: given allocations, or the oldest due first; the rest to customer credit."""
from datetime import date


def _pay(books, **body):
    base = {"partner_id": books.partner_id, "date": date.today().isoformat(), "method": "bank_transfer",
            "reference": "VIR 7"}
    return books.a.post("/payments", json={**base, **body})


def test_given_allocations(books):
    a = books.invoice("100.00")
    b = books.invoice("50.00")
    r = _pay(books, amount="130.00", allocations=[{"invoice_id": b["id"], "amount": "50.00"},
                                                  {"invoice_id": a["id"], "amount": "60.00"}])
    assert r.status_code == 201, r.json
    assert r.json["allocations"] == [{"invoice_id": b["id"], "amount": "50.00"},
                                     {"invoice_id": a["id"], "amount": "60.00"}]
    assert r.json["unallocated"] == "20.00" and books.credit() == "20.00"
    assert books.get_invoice(a["id"])["payment_state"] == "partial"
    assert books.get_invoice(a["id"])["amount_due"] == "40.00"
    assert books.get_invoice(b["id"])["payment_state"] == "paid"


def test_oldest_due_first_without_allocations(books):
    late = books.invoice("30.00", invoice_date="2026-01-05", due_date="2026-03-10")  # older, but due later
    early = books.invoice("40.00", invoice_date="2026-01-10", due_date="2026-01-20")
    newest = books.invoice("50.00", invoice_date="2026-03-01", due_date="2026-03-31")
    other = books.invoice("99.00", partner_id=books.customer("Martin"))
    books.invoice("10.00", post=False)  # drafts are not paid
    r = _pay(books, amount="90.00")
    assert r.status_code == 201, r.json
    assert r.json["allocations"] == [{"invoice_id": early["id"], "amount": "40.00"},
                                     {"invoice_id": late["id"], "amount": "30.00"},
                                     {"invoice_id": newest["id"], "amount": "20.00"}]
    assert r.json["unallocated"] == "0.00"
    assert books.get_invoice(newest["id"])["amount_due"] == "30.00"
    assert books.get_invoice(other["id"])["amount_due"] == "99.00"
    r = _pay(books, amount="50.00")
    assert r.json["allocations"] == [{"invoice_id": newest["id"], "amount": "30.00"}]
    assert r.json["unallocated"] == "20.00" and books.credit() == "20.00"


def test_nothing_open_all_becomes_credit(books):
    r = _pay(books, amount="25", allocations=None)
    assert r.status_code == 201 and r.json["allocations"] == [] and r.json["unallocated"] == "25.00"
    assert books.credit() == "25.00"


def test_refused_allocations_change_nothing(books):
    mine = books.invoice("100.00")
    theirs = books.invoice("100.00", partner_id=books.customer("Martin"))
    draft = books.invoice("100.00", post=False)
    cases = [
        {"amount": "50.00", "allocations": [{"invoice_id": theirs["id"], "amount": "50.00"}]},
        {"amount": "50.00", "allocations": [{"invoice_id": draft["id"], "amount": "50.00"}]},
        {"amount": "50.00", "allocations": [{"invoice_id": 999999, "amount": "50.00"}]},
        {"amount": "200.00", "allocations": [{"invoice_id": mine["id"], "amount": "150.00"}]},
        {"amount": "50.00", "allocations": [{"invoice_id": mine["id"], "amount": "60.00"}]},
        {"amount": "50.00", "allocations": [{"invoice_id": mine["id"], "amount": "0"}]},
        {"amount": "50.00", "allocations": [{"invoice_id": mine["id"], "amount": "-5"}]},
        {"amount": "50.00", "allocations": [{"invoice_id": mine["id"], "amount": 5.5}]},
        {"amount": "50.00", "allocations": [{"invoice_id": mine["id"], "amount": "10"},
                                            {"invoice_id": mine["id"], "amount": "10"}]},
        {"amount": "50.00", "allocations": [{"invoice_id": "x", "amount": "10"}]},
    ]
    for body in cases:
        r = _pay(books, **body)
        assert r.status_code == 422, (body, r.json)
        assert "allocations" in r.json["error"]["fields"], (body, r.json)
    assert books.get_invoice(mine["id"])["amount_due"] == "100.00"
    assert books.a.get("/payments").json["total"] == 0
    r = _pay(books, amount="10", partner_id=999999)
    assert r.status_code == 422 and "partner_id" in r.json["error"]["fields"]
    r = _pay(books, amount="10", direction="sideways")
    assert r.status_code == 422 and "direction" in r.json["error"]["fields"]
    r = _pay(books, amount="10", method="bitcoin")
    assert r.status_code == 422 and "method" in r.json["error"]["fields"]


def test_list_filters(books):
    martin = books.customer("Martin")
    inv = books.invoice("100.00")
    books.a.post(f"/invoices/{inv['id']}/payments",
                 json={"amount": "60", "date": "2026-01-15", "method": "cash", "reference": "desk"})
    _pay(books, amount="40", allocations=[{"invoice_id": inv["id"], "amount": "40"}], date="2026-02-15")
    books.a.post("/payments", json={"partner_id": martin, "amount": "5", "date": "2026-03-01", "method": "card"})
    books.a.post(f"/partners/{martin}/refunds", json={"amount": "5", "date": "2026-03-02", "method": "card"})
    get = lambda q: books.a.get("/payments" + q).json  # noqa: E731
    assert get("")["total"] == 4
    assert [p["date"] for p in get("")["items"]] == ["2026-03-02", "2026-03-01", "2026-02-15", "2026-01-15"]
    assert get(f"?partner_id={martin}")["total"] == 2
    assert [p["reference"] for p in get("?method=cash")["items"]] == ["desk"]
    assert get("?date_from=2026-02-01&date_to=2026-03-01")["total"] == 2
    assert [p["amount"] for p in get("?direction=outbound")["items"]] == ["5.00"]
    assert get(f"?invoice_id={inv['id']}")["total"] == 2
    page = get("?limit=1&offset=1")
    assert page["total"] == 4 and len(page["items"]) == 1 and page["items"][0]["date"] == "2026-03-01"
    assert books.a.get("/payments?limit=0").status_code == 422
    assert books.a.get("/payments?date_from=yesterday").status_code == 422
    assert books.a.get("/payments/999999").status_code == 404


def test_pay_several_invoices_from_the_page(books, login):
    first = books.invoice("30.00", invoice_date="2026-01-05", due_date="2026-01-20")
    second = books.invoice("50.00", invoice_date="2026-01-10", due_date="2026-02-10")
    office = login("back_office")
    assert "/payments/new" in office.get("/payments").get_data(as_text=True)
    page = office.get(f"/payments/new?partner_id={books.partner_id}").get_data(as_text=True)
    assert first["number"] in page and second["number"] in page and 'value="80.00"' in page
    assert page.index(first["number"]) < page.index(second["number"])
    data = {"partner_id": books.partner_id, "amount": "100.00", "date": date.today().isoformat(),
            "method": "bank_transfer", "reference": "VIR GROUPED", "nonce": books.nonce(page)}
    r = office.post("/payments/new", data=data)
    assert r.status_code == 302 and "/payments/" in r.headers["Location"]
    shown = office.get(r.headers["Location"]).get_data(as_text=True)
    assert "registered on 2 invoice(s)" in shown and "€20.00 became customer credit" in shown
    assert first["number"] in shown and second["number"] in shown
    assert books.get_invoice(first["id"])["payment_state"] == "paid"
    assert books.get_invoice(second["id"])["payment_state"] == "paid" and books.credit() == "20.00"
    again = office.post("/payments/new", data=data)  # the same form sent twice
    assert "already registered" in office.get(again.headers["Location"]).get_data(as_text=True)
    assert books.a.get("/payments").json["total"] == 1
    listed = office.get(f"/payments?partner_id={books.partner_id}").get_data(as_text=True)
    assert "of credit with us" in listed and "/refunds/new" in listed


def test_pay_several_page_refusals(books, login):
    office = login("back_office")
    page = office.get("/payments/new").get_data(as_text=True)
    assert "Choose the customer who paid" in page
    page = office.get(f"/payments/new?partner_id={books.partner_id}").get_data(as_text=True)
    assert "Nothing is due" in page
    r = office.post("/payments/new", data={"partner_id": "0", "amount": "5", "date": date.today().isoformat(),
                                           "method": "cash", "nonce": books.nonce(page)})
    assert r.status_code == 200 and "Choose an existing customer" in r.get_data(as_text=True)
    r = office.post("/payments/new", data={"partner_id": str(books.partner_id), "amount": "-5",
                                           "date": date.today().isoformat(), "method": "cash",
                                           "nonce": books.nonce(page)})
    assert r.status_code == 200 and "more than zero" in r.get_data(as_text=True)
    assert books.a.get("/payments").json["total"] == 0
    assert login("technician").get("/payments/new").status_code == 403
