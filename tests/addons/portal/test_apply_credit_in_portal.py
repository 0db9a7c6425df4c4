"""A customer applies their own credit to one of their open invoices, on the page and through the API."""
from __future__ import annotations


def test_apply_all_possible_credit_on_the_page(shop):
    inv = shop.invoice(shop.alice, "100.00")
    shop.overpay(shop.invoice(shop.alice, "10.00")["id"], "70.00")  # 60.00 credit
    b = shop.browser(shop.alice)
    page = b.get(f"/portal/invoices/{inv['id']}").get_data(as_text=True)
    assert "Apply my credit" in page
    r = b.post(f"/portal/invoices/{inv['id']}/apply-credit", data={"amount": ""}, follow_redirects=True)
    assert r.status_code == 200 and "60.00 EUR of your credit applied" in r.get_data(as_text=True)
    after = shop.get(inv["id"])
    assert after["amount_due"] == "40.00" and after["payment_state"] == "partial"
    api = shop.token_client(shop.alice)
    assert api.get("/portal/balance").json == {"receivable": "40.00", "credit_available": "0.00"}
    page = b.get(f"/portal/invoices/{inv['id']}").get_data(as_text=True)
    assert "Apply my credit" not in page  # no credit left


def test_apply_part_of_the_credit_through_the_api(shop):
    inv = shop.invoice(shop.alice, "100.00")
    shop.overpay(shop.invoice(shop.alice, "10.00")["id"], "70.00")
    api = shop.token_client(shop.alice)
    r = api.post(f"/portal/invoices/{inv['id']}/apply-credit", json={"amount": "25.00"})
    assert r.status_code == 200, r.json
    assert r.json["applied"] == "25.00" and r.json["invoice"]["amount_due"] == "75.00"
    assert r.json["balance"] == {"receivable": "75.00", "credit_available": "35.00"}
    # the rest, with no amount: as much as possible
    r = api.post(f"/portal/invoices/{inv['id']}/apply-credit", json={})
    assert r.status_code == 200 and r.json["applied"] == "35.00" and r.json["invoice"]["amount_due"] == "40.00"


def test_bad_amounts_and_wrong_states_are_refused_and_change_nothing(shop):
    inv = shop.invoice(shop.alice, "100.00")
    paid = shop.invoice(shop.alice, "10.00")
    shop.overpay(paid["id"], "30.00")  # paid, 20.00 credit
    cn = shop.credit_note(shop.invoice(shop.alice, "5.00")["id"])
    api = shop.token_client(shop.alice)
    for amount, status in [("abc", 422), ("0", 422), ("-5", 422), ("1.234", 422), (1.5, 422), ("50.00", 422)]:
        r = api.post(f"/invoices/{inv['id']}/apply-credit".replace("/invoices", "/portal/invoices"),
                     json={"amount": amount})
        assert r.status_code == status, (amount, r.json)
        assert r.json["error"]["fields"] or r.json["error"]["code"] == "not_enough_credit"
    r = api.post(f"/portal/invoices/{paid['id']}/apply-credit", json={})
    assert r.status_code == 409 and r.json["error"]["code"] == "nothing_due"
    r = api.post(f"/portal/invoices/{cn['id']}/apply-credit", json={})
    assert r.status_code == 409 and r.json["error"]["code"] == "not_an_invoice"
    r = api.post("/portal/invoices/999999/apply-credit", json={})
    assert r.status_code == 404
    assert shop.get(inv["id"])["amount_due"] == "100.00"
    assert api.get("/portal/balance").json["credit_available"] == "20.00"
    # on the page: a clear message, nothing applied
    b = shop.browser(shop.alice)
    r = b.post(f"/portal/invoices/{inv['id']}/apply-credit", data={"amount": "abc"}, follow_redirects=True)
    assert r.status_code == 200 and "must be a number" in r.get_data(as_text=True).lower()
    r = b.post(f"/portal/invoices/{inv['id']}/apply-credit", data={"amount": "999"}, follow_redirects=True)
    assert "only 20.00 of credit" in r.get_data(as_text=True)
    assert shop.get(inv["id"])["amount_due"] == "100.00"


def test_no_credit_says_so(shop):
    inv = shop.invoice(shop.alice, "100.00")
    api = shop.token_client(shop.alice)
    r = api.post(f"/portal/invoices/{inv['id']}/apply-credit", json={})
    assert r.status_code == 409 and r.json["error"]["code"] == "no_credit"
