"""A Factur-X needs the seller's identifiers (EN 16931 BR-S-02, BR-CO-26): without them it is refused, 409
seller_identifiers_missing naming the fields, in the API and on the page; the currency is fixed once posted."""
from __future__ import annotations

import pytest


@pytest.mark.parametrize("document", ["facturx", "ubl"])
@pytest.mark.parametrize("clear, missing", [({"vat_id": "", "siren": ""}, {"vat_id", "siren"}),
                                            ({"siren": ""}, {"siren"}), ({"vat_id": ""}, {"vat_id"})])
def test_einvoice_without_seller_identifiers_is_refused(setup, seller, api, clear, missing, document):
    inv = setup.posted()
    assert api("admin").patch("/company", json=clear).status_code == 200
    r = setup.api.get(f"/invoices/{inv['id']}/{document}")
    assert r.status_code == 409
    error = r.json["error"]
    assert error["code"] == "seller_identifiers_missing" and set(error["fields"]) == missing
    assert "Settings" in error["message"] and "EN 16931" in error["message"]
    assert setup.api.get(f"/invoices/{inv['id']}/pdf").status_code == 200  # the plain PDF is no e-invoice


def test_einvoice_of_a_seller_with_its_identifiers_is_served(setup, seller, api):
    inv = setup.posted()
    assert setup.api.get(f"/invoices/{inv['id']}/facturx").status_code == 200
    assert setup.api.get(f"/invoices/{inv['id']}/ubl").status_code == 200
    # a Belgian seller has no SIREN: its VAT ID is enough
    assert api("admin").patch("/company", json={"country": "BE", "siren": "",
                                                "vat_id": "BE0123456749"}).status_code == 200
    assert setup.api.get(f"/invoices/{inv['id']}/ubl").status_code == 200


def test_the_page_says_why_the_facturx_is_refused(setup, login):
    inv = setup.posted()
    browser = login("back_office")
    r = browser.get(f"/invoices/{inv['id']}/facturx", headers={"Referer": f"/invoices/{inv['id']}"})
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/invoices/{inv['id']}")
    page = browser.get(f"/invoices/{inv['id']}").get_data(as_text=True)
    assert "This e-invoice cannot be made: the company&#39;s VAT ID and SIREN are missing" in page


def test_the_currency_cannot_change_once_a_document_is_posted(setup, api, login):
    admin = api("admin")
    setup.posted()
    r = admin.patch("/company", json={"currency": "CHF", "city": "Genève"})
    assert r.status_code == 409 and r.json["error"]["code"] == "currency_locked"
    assert "currency" in r.json["error"]["fields"]
    assert admin.get("/company").json["currency"] == "EUR" and admin.get("/company").json["city"] != "Genève"
    assert admin.patch("/company", json={"currency": "EUR", "city": "Lyon"}).status_code == 200  # unchanged: fine
    browser = login("admin")
    form = {"name": "My Company", "country": "FR", "currency": "CHF", "payment_terms_days": "30",
            "document_date_window_days": "365"}
    page = browser.post("/settings", data=form).get_data(as_text=True)
    assert "Documents are posted in EUR." in page
    assert admin.get("/company").json["currency"] == "EUR"
