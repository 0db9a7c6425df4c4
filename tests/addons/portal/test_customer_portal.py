"""A customer logs in and sees their own invoices, credit notes, balance and credit; downloads the PDFs."""
from __future__ import annotations

import re


def _numbers(html: str) -> set[str]:
    return set(re.findall(r"(?:INV|CN)/\d{4}/\d{5}", html))


def test_customer_lands_on_their_portal_after_login(shop):
    b = shop.browser(shop.alice)
    r = b.get("/")
    assert r.status_code == 302 and r.headers["Location"].endswith("/portal")
    page = b.get("/portal").get_data(as_text=True)
    assert "Alice Plumbing" in page and "My invoices" in page
    assert "Invoices</a>" not in page  # no back-office menu entries


def test_portal_lists_only_the_customers_posted_documents(shop):
    a1 = shop.invoice(shop.alice, "100.00")
    a2 = shop.invoice(shop.alice, "40.00")
    cn = shop.credit_note(a2["id"])
    draft = shop.invoice(shop.alice, "7.00", post=False)
    b1 = shop.invoice(shop.bob, "999.00")
    page = shop.browser(shop.alice).get("/portal").get_data(as_text=True)
    assert _numbers(page) == {a1["number"], a2["number"], cn["number"]}
    assert b1["number"] not in page and f"Draft #{draft['id']}" not in page
    assert "100.00" in page and "Not paid" in page and "Credited" in page

    api = shop.token_client(shop.alice)
    r = api.get("/portal/invoices")
    assert r.status_code == 200 and r.json["total"] == 3
    by_number = {i["number"]: i for i in r.json["items"]}
    assert by_number[a1["number"]]["amount_due"] == "100.00" and by_number[a1["number"]]["payment_state"] == "not_paid"
    assert by_number[a2["number"]]["amount_due"] == "0.00" and by_number[cn["number"]]["type"] == "credit_note"
    r = api.get("/portal/invoices?open=true")
    assert [i["number"] for i in r.json["items"]] == [a1["number"]]
    r = api.get("/portal/invoices?type=credit_note")
    assert [i["number"] for i in r.json["items"]] == [cn["number"]]
    assert api.get("/portal/invoices?type=bogus").status_code == 422
    assert api.get("/portal/invoices?limit=0").status_code == 422


def test_balance_and_credit(shop):
    shop.invoice(shop.alice, "50.00")  # open (posted before the credit exists, so not settled by it)
    inv = shop.invoice(shop.alice, "100.00")
    shop.overpay(inv["id"], "130.00")  # 30.00 becomes credit
    shop.invoice(shop.bob, "500.00")
    api = shop.token_client(shop.alice)
    assert api.get("/portal/balance").json == {"receivable": "50.00", "credit_available": "30.00"}
    page = shop.browser(shop.alice).get("/portal").get_data(as_text=True)
    assert "50.00" in page and "30.00" in page and "500.00" not in page


def test_download_own_pdf_and_never_another_customers(shop):
    mine = shop.invoice(shop.alice, "100.00")
    theirs = shop.invoice(shop.bob, "200.00")
    draft = shop.invoice(shop.alice, "5.00", post=False)
    b = shop.browser(shop.alice)
    r = b.get(f"/portal/invoices/{mine['id']}/pdf")
    assert r.status_code == 200 and r.mimetype == "application/pdf" and r.data.startswith(b"%PDF")
    assert b.get(f"/portal/invoices/{theirs['id']}/pdf").status_code == 404
    assert b.get(f"/portal/invoices/{draft['id']}/pdf").status_code == 404
    assert b.get("/portal/invoices/999999/pdf").status_code == 404
    page = b.get(f"/portal/invoices/{mine['id']}").get_data(as_text=True)
    assert mine["number"] in page and "Boiler repair" in page and "Download PDF" in page


def test_a_customer_without_a_partner_is_told_so(shop):
    api = shop.token_client(None)
    r = api.get("/portal/invoices")
    assert r.status_code == 403 and r.json["error"]["code"] == "no_customer"
    b = shop.browser(None)
    r = b.get("/portal")
    assert r.status_code == 403 and "not tied to a customer" in r.get_data(as_text=True)
