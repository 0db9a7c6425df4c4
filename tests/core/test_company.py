"""GET/PATCH /api/v1/company (docs/api.md) and the settings page: one service, the same checks, what is missing for
an e-invoice shown before the first one is refused."""
from __future__ import annotations

import pytest

from core.extensions import db
from core.models import AuditLog


def test_admin_reads_and_changes_the_company(api):
    a = api("admin")
    r = a.get("/company")
    assert r.status_code == 200
    assert set(r.json) == {"name", "email", "vat_id", "siren", "street", "zip", "city", "country", "currency",
                           "iban", "missing_for_einvoice"}
    assert set(r.json["missing_for_einvoice"]) == {"vat_id", "siren"}
    r = a.patch("/company", json={"name": "Atelier Rhône", "vat_id": "fr 40 303 265 045", "siren": "303 265 045",
                                  "iban": "fr76 3000 6000 0112 3456 7890 189", "city": "Lyon"})
    assert r.status_code == 200, r.json
    assert r.json["vat_id"] == "FR40303265045" and r.json["siren"] == "303265045"
    assert r.json["iban"] == "FR7630006000011234567890189" and r.json["missing_for_einvoice"] == {}
    assert a.get("/company").json["name"] == "Atelier Rhône"


def test_the_change_is_in_the_history(api, app):
    api("admin").patch("/company", json={"vat_id": "FR40303265045"})
    with app.app_context():
        row = db.session.query(AuditLog).filter_by(document_type="core_company", action="updated").one()
        assert row.details == "vat_id"


@pytest.mark.parametrize("body, field", [
    ({"country": "XX"}, "country"), ({"currency": "ABC"}, "currency"), ({"currency": "EURO"}, "currency"),
    ({"siren": "12345"}, "siren"), ({"vat_id": "303265045"}, "vat_id"), ({"name": ""}, "name"),
    ({"email": "nobody"}, "email"), ({"iban": "12"}, "iban"), ({"colour": "red"}, "colour"),
])
def test_bad_values_are_refused_and_nothing_is_written(api, body, field):
    a = api("admin")
    before = a.get("/company").json
    r = a.patch("/company", json={"city": "Grenoble", **body})
    assert r.status_code == 422, r.json
    assert field in r.json["error"]["fields"] or field in str(r.json["error"]["fields"])
    assert a.get("/company").json == before


def test_roles(api, client):
    assert client.get("/api/v1/company").status_code == 401
    assert api("bookkeeper").get("/company").status_code == 200  # reads the settings page too
    for role in ("bookkeeper", "back_office", "technician"):
        assert api(role).patch("/company", json={"name": "Mine"}).status_code == 403
    for role in ("back_office", "technician"):
        assert api(role).get("/company").status_code == 403


def test_the_currency_changes_while_nothing_is_posted(api):
    a = api("admin")
    assert a.patch("/company", json={"currency": "chf"}).json["currency"] == "CHF"


def test_the_settings_page_saves_through_the_same_checks(login, api):
    browser = login("admin")
    page = browser.get("/settings").get_data(as_text=True)
    assert "E-invoices cannot go out yet" in page and "VAT ID and SIREN" in page
    form = {"name": "Atelier Rhône", "email": "", "vat_id": "FR40303265045", "siren": "12", "street": "",
            "zip": "", "city": "", "country": "FR", "currency": "EUR", "iban": "", "payment_terms_days": "30",
            "document_date_window_days": "365", "auto_apply_credit": "y"}
    r = browser.post("/settings", data=form)
    assert r.status_code == 200 and "A SIREN is 9 digits" in r.get_data(as_text=True)
    assert api("admin").get("/company").json["name"] != "Atelier Rhône"  # refused whole
    r = browser.post("/settings", data={**form, "siren": "303265045"})
    assert r.status_code == 302
    assert api("admin").get("/company").json["siren"] == "303265045"
    page = browser.get("/settings").get_data(as_text=True)
    assert "E-invoices cannot go out yet" not in page


def test_the_dashboard_says_what_is_missing_with_a_link_to_settings(login, api):
    admin = login("admin")
    page = admin.get("/").get_data(as_text=True)
    assert "E-invoices cannot go out yet" in page and 'href="/settings#vat_id"' in page
    office = login("back_office")
    page = office.get("/").get_data(as_text=True)
    assert "E-invoices cannot go out yet" in page and "Ask an administrator" in page
    assert "E-invoices cannot go out yet" not in login("technician").get("/").get_data(as_text=True)
    api("admin").patch("/company", json={"vat_id": "FR40303265045"})
    page = " ".join(admin.get("/").get_data(as_text=True).split())
    assert "the company's SIREN is missing" in page and "VAT ID" not in page
    api("admin").patch("/company", json={"country": "BE"})  # a SIREN is French; a Belgian seller needs only the VAT ID
    assert "E-invoices cannot go out yet" not in admin.get("/").get_data(as_text=True)
