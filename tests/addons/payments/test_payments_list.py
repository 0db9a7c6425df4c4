"""The payments list page (filters, search, sort, pages, allocations), a payment's page, menu and tile."""
from __future__ import annotations

from datetime import date

from addons.payments import services
from core.extensions import db


def _seed(books):
    martin = books.customer("Martin Plomberie")
    inv = books.invoice("100.00")
    books.a.post(f"/invoices/{inv['id']}/payments",
                 json={"amount": "60", "date": "2026-01-15", "method": "cash", "reference": "DESK-001"})
    books.a.post(f"/invoices/{inv['id']}/payments",
                 json={"amount": "50", "date": "2026-02-15", "method": "bank_transfer", "reference": "VIR-XYZ"})
    books.a.post(f"/partners/{books.partner_id}/refunds",
                 json={"amount": "10", "date": "2026-02-20", "method": "bank_transfer", "reference": "RB-1"})
    books.a.post("/payments", json={"partner_id": martin, "amount": "7", "date": "2026-03-01", "method": "card",
                                    "reference": "CB-77"})
    return inv, martin


def test_list_filters_search_and_sort(books, login):
    inv, martin = _seed(books)
    office = login("back_office")
    page = office.get("/payments").get_data(as_text=True)
    for text in ("DESK-001", "VIR-XYZ", "RB-1", "CB-77", "Refund", inv["number"], "4 records"):
        assert text in page, text
    assert page.index("CB-77") < page.index("DESK-001")  # newest first
    page = office.get("/payments?sort=date").get_data(as_text=True)
    assert page.index("DESK-001") < page.index("CB-77")
    page = office.get("/payments?sort=-amount").get_data(as_text=True)
    assert page.index("DESK-001") < page.index("VIR-XYZ") < page.index("CB-77")
    only = lambda q: office.get("/payments" + q).get_data(as_text=True)  # noqa: E731
    assert "CB-77" in only(f"?partner_id={martin}") and "DESK-001" not in only(f"?partner_id={martin}")
    assert "DESK-001" in only("?method=cash") and "VIR-XYZ" not in only("?method=cash")
    assert "RB-1" in only("?direction=outbound") and "VIR-XYZ" not in only("?direction=outbound")
    body = only("?date_from=2026-02-01&date_to=2026-02-28")
    assert "VIR-XYZ" in body and "RB-1" in body and "DESK-001" not in body and "CB-77" not in body
    assert "VIR-XYZ" in only("?q=xyz") and "DESK-001" not in only("?q=xyz")
    assert "CB-77" in only("?q=plomberie")
    body = only("?date_from=soon&partner_id=abc&direction=up")
    assert "not a date" in body and "4 records" in body  # bad filters are ignored, never a 500
    assert "No payments match" in only("?q=nothing-like-this")


def test_list_pages(books, login, app):
    with app.app_context():
        for i in range(55):
            services.register_payment(books.partner_id, "1", date(2026, 1, 1), "cash", f"P{i:03d}")
        db.session.commit()
    office = login("bookkeeper")
    first = office.get("/payments").get_data(as_text=True)
    assert "55 records" in first and "page 1 of 2" in first and "Next" in first
    second = office.get("/payments?page=2").get_data(as_text=True)
    assert "page 2 of 2" in second and second.count("P0") == 5


def test_payment_page_links_to_its_invoices(books, login, app):
    inv = books.invoice("100.00")
    other = books.invoice("20.00")
    pid = books.a.post("/payments", json={"partner_id": books.partner_id, "amount": "130", "method": "card",
                                          "reference": "CB-1"}).json["id"]
    office = login("back_office")
    page = office.get(f"/payments/{pid}").get_data(as_text=True)
    assert f"/invoices/{inv['id']}" in page and f"/invoices/{other['id']}" in page
    assert inv["number"] in page and "CB-1" in page and "10.00" in page  # 10 to credit
    assert "Refund" in page  # the customer has credit
    entry = books.a.get(f"/payments/{pid}").json["journal_entry_id"]
    if "accounting.entry" in app.view_functions:  # the accounting addon wrote the payment's entry
        assert entry is not None and f'href="/accounting/entries/{entry}"' in page
    else:
        assert entry is None
        with app.app_context():
            services.get_payment(pid).journal_entry_id = 77
            db.session.commit()
        page = office.get(f"/payments/{pid}").get_data(as_text=True)
        assert "#77" in page and "Entry #77" not in page  # no link to a page that does not exist
    assert office.get("/payments/999999").status_code == 404
    inv_page = office.get(f"/invoices/{inv['id']}").get_data(as_text=True)
    assert f"/payments/{pid}" in inv_page


def test_menu_and_dashboard_tile(books, login):
    inv = books.invoice("100.00")
    books.a.post(f"/invoices/{inv['id']}/payments", json={"amount": "45.50", "method": "cash",
                                                          "date": date.today().isoformat()})
    office = login("back_office")
    home = office.get("/").get_data(as_text=True)
    assert 'href="/payments"' in home and "Payments received" in home and "45.50" in home
    assert "1 payment this month" in home
    tech = login("technician").get("/").get_data(as_text=True)
    assert "Payments received" not in tech and 'href="/payments"' not in tech
