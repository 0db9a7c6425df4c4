"""Manage products and taxes: pages to list, search, create and edit; the API twins; bad input and roles."""
from __future__ import annotations

import pytest


def test_api_products_and_taxes(api):
    a = api("back_office")
    tax = a.post("/taxes", json={"name": "VAT 8.5%", "rate": "8.5"})
    assert tax.status_code == 201 and tax.json["rate"].startswith("8.5")
    assert any(t["id"] == tax.json["id"] for t in a.get("/taxes").json["items"])
    r = a.post("/products", json={"code": "P1", "name": "Pump", "type": "part", "unit": "unit",
                                  "unit_price": "120.00", "tax_id": tax.json["id"]})
    assert r.status_code == 201 and r.json["unit_price"] == "120.00"
    pid = r.json["id"]
    r = a.patch(f"/products/{pid}", json={"unit_price": "130", "name": "Big pump"})
    assert r.status_code == 200 and r.json["unit_price"] == "130.00" and r.json["name"] == "Big pump"
    assert a.get(f"/products/{pid}").json["code"] == "P1"
    for bad in ({"code": "P1", "name": "dup", "unit_price": "1"}, {"code": "P2", "name": "x", "unit_price": "-1"},
                {"code": "P3", "name": "x", "unit_price": 1.5}, {"code": "P4", "name": "x", "unit_price": "abc"},
                {"code": "P5", "name": "x", "unit_price": "1", "type": "robot"},
                {"code": "P6", "name": "x", "unit_price": "1", "tax_id": 9999}, {"name": "no code", "unit_price": "1"}):
        assert a.post("/products", json=bad).status_code == 422, bad
    for bad in ({"name": "x", "rate": "101"}, {"name": "x", "rate": "-1"}, {"name": "", "rate": "5"},
                {"name": "x", "rate": "abc"}):
        assert a.post("/taxes", json=bad).status_code == 422, bad
    assert a.get("/products/9999").status_code == 404
    assert api("bookkeeper").post("/products", json={"code": "B", "name": "b", "unit_price": "1"}).status_code == 403
    assert api("bookkeeper").get("/products").status_code == 200
    assert api("technician").post("/taxes", json={"name": "t", "rate": "1"}).status_code == 403


def test_product_pages(login, api):
    a = api("back_office")
    tax = a.get("/taxes").json["items"][0]
    browser = login("back_office")
    page = browser.get("/products/new").get_data(as_text=True)
    assert 'name="code"' in page and tax["name"] in page
    r = browser.post("/products/new", data={"code": "LAB", "name": "Labour <b>", "type": "labour", "unit": "h",
                                            "unit_price": "55.50", "tax_id": str(tax["id"])}, follow_redirects=True)
    page = r.get_data(as_text=True)
    assert "Product LAB saved" in page and "Labour &lt;b&gt;" in page and "€55.50" in page
    product = a.get("/products").json["items"][0]
    assert product["tax_id"] == tax["id"] and product["type"] == "labour"
    r = browser.post("/products/new", data={"code": "LAB", "name": "again", "type": "part", "unit": "u",
                                            "unit_price": "1", "tax_id": "0"})
    assert r.status_code == 200 and "already used" in r.get_data(as_text=True)
    r = browser.post("/products/new", data={"code": "X", "name": "x", "type": "part", "unit": "u",
                                            "unit_price": "-3", "tax_id": "0"})
    assert r.status_code == 200 and "at least 0" in r.get_data(as_text=True)
    r = browser.post(f"/products/{product['id']}/edit", data={"code": "LAB", "name": "Labour", "type": "labour",
                                                              "unit": "h", "unit_price": "60", "tax_id": "0"},
                     follow_redirects=True)
    assert "Product LAB saved" in r.get_data(as_text=True)
    assert a.get(f"/products/{product['id']}").json["tax_id"] is None
    assert "LAB" in browser.get("/products?q=lab").get_data(as_text=True)
    assert "No products match" in browser.get("/products?q=zzz").get_data(as_text=True)
    assert browser.get("/products/9999/edit").status_code == 404
    assert login("bookkeeper").get("/products/new").status_code == 403
    assert login("technician").get("/products").status_code == 403


def test_tax_pages(login, api):
    browser = login("back_office")
    r = browser.post("/taxes", data={"name": "VAT 2.1%", "rate": "2.1"}, follow_redirects=True)
    assert "Tax VAT 2.1% added" in r.get_data(as_text=True)
    r = browser.post("/taxes", data={"name": "Bad", "rate": "150"})
    assert r.status_code == 200 and "between 0 and 100" in r.get_data(as_text=True)
    tax = next(t for t in api("admin").get("/taxes").json["items"] if t["name"] == "VAT 2.1%")
    r = browser.post(f"/taxes/{tax['id']}/edit", data={"name": "VAT 2.1 %", "rate": "2.10"}, follow_redirects=True)
    assert "Tax VAT 2.1 % saved" in r.get_data(as_text=True)
    bookkeeper = login("bookkeeper")
    assert "VAT 2.1 %" in bookkeeper.get("/taxes").get_data(as_text=True)
    assert bookkeeper.post("/taxes", data={"name": "t", "rate": "1"}).status_code == 403


def test_vat_categories_and_what_each_needs(api):
    a = api("back_office")
    refused = [
        ({"name": "x", "rate": "0", "vat_category": "E"}, "exemption_reason"),  # BR-E-10
        ({"name": "x", "rate": "5", "vat_category": "E", "exemption_reason": "Art. 261"}, "rate"),  # BR-E-05
        ({"name": "x", "rate": "0", "vat_category": "S"}, "vat_category"),  # BR-S-05
        ({"name": "x", "rate": "20", "vat_category": "Z"}, "rate"),  # BR-Z-05
        ({"name": "x", "rate": "0", "exemption_reason": "Because"}, "exemption_reason"),  # BR-Z-10
        ({"name": "x", "rate": "0", "vat_category": "AE"}, "vat_category"),
    ]
    for body, field in refused:
        r = a.post("/taxes", json=body)
        assert r.status_code == 422 and field in r.json["error"]["fields"], (body, r.json)
    ok = a.post("/taxes", json={"name": "Exempt", "rate": "0", "vat_category": "E",
                                "exemption_reason": "  TVA non applicable,  art. 293 B du CGI "}).json
    assert ok["vat_category"] == "E" and ok["exemption_reason"] == "TVA non applicable, art. 293 B du CGI"
    listed = {t["name"]: t["vat_category"] for t in a.get("/taxes").json["items"]}
    assert listed["VAT 20%"] == "S" and listed["No VAT"] == "Z" and listed["Exempt"] == "E"


def test_the_category_of_a_tax_on_posted_documents_cannot_change(setup, login, app):
    from addons.invoicing import services
    from addons.invoicing.models import Tax
    from core.errors import DomainError
    from core.extensions import db
    exempt = setup.api.post("/taxes", json={"name": "Exempt", "rate": "0", "vat_category": "E",
                                            "exemption_reason": "Art. 261 CGI"}).json
    browser = login("back_office")
    r = browser.post(f"/taxes/{exempt['id']}/edit", data={"name": "Exempt", "rate": "0", "vat_category": "E",
                                                         "exemption_reason": "Art. 261-4 CGI"})
    assert r.status_code == 302  # not used yet: free to change
    setup.posted(lines=[{"description": "Course", "quantity": "1", "unit_price": "50", "tax_id": exempt["id"]}])
    r = browser.post(f"/taxes/{exempt['id']}/edit", data={"name": "Exempt", "rate": "0", "vat_category": "Z",
                                                         "exemption_reason": ""})
    assert r.status_code == 200 and "cannot change any more" in r.get_data(as_text=True)
    with app.app_context():
        tax = db.session.get(Tax, exempt["id"])
        assert (tax.vat_category, tax.exemption_reason) == ("E", "Art. 261-4 CGI")
        services.update_tax(tax, "Exempt (training)", "0")  # a new name is fine
        with pytest.raises(DomainError):
            services.update_tax(tax, "Exempt", "0", exemption_reason="Other")
        db.session.rollback()
