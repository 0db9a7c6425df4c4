"""Create, edit and delete draft invoices by hand, through the pages and the API; posted ones stay as they are."""
from __future__ import annotations

from datetime import date

from sqlalchemy import select


def _form(setup, partner_id=None, lines=None, **extra):
    data = {"partner_id": str(partner_id or setup.partner["id"]), "invoice_date": "2026-03-01",
            "payment_terms_days": "15", "notes": ""}
    data.update(extra)
    lines = lines if lines is not None else [
        {"product_id": setup.labour["id"], "description": "Labour", "quantity": "2", "unit_price": "60.00",
         "tax_id": setup.vat20["id"]}]
    for key in ("line_id", "product_id", "description", "quantity", "unit_price", "tax_id"):
        data[key] = [str(l.get(key, "") if l.get(key) is not None else "") for l in lines]
    return data


def test_new_invoice_page_has_the_form_and_its_script(setup, login):
    browser = login("back_office")
    page = browser.get("/invoices/new").get_data(as_text=True)
    assert 'name="partner_id"' in page and "Dupont SARL" in page
    assert "/static/invoicing/invoice_form.js" in page and "<template id=\"line-template\">" in page
    assert 'data-price="60.00"' in page  # the product's price, for the browser to fill in a line
    script = browser.get("/static/invoicing/invoice_form.js")
    assert script.status_code == 200 and b"recompute" in script.data


def test_create_a_draft_by_hand(setup, login):
    browser = login("back_office")
    r = browser.post("/invoices/new", data=_form(setup))
    assert r.status_code == 302, r.get_data(as_text=True)
    invoice_id = int(r.headers["Location"].rstrip("/").split("/")[-1])
    inv = setup.api.get(f"/invoices/{invoice_id}").json
    assert inv["state"] == "draft" and inv["invoice_date"] == "2026-03-01" and inv["due_date"] == "2026-03-16"
    assert inv["amount_total"] == "144.00" and len(inv["lines"]) == 1


def test_edit_every_field_add_and_remove_lines(setup, login):
    browser = login("back_office")
    inv = setup.draft()
    labour, part = inv["lines"]
    other = setup.api.post("/partners", json={"name": "Martin"}).json
    lines = [{"line_id": labour["id"], "product_id": setup.labour["id"], "description": "Labour (evening)",
              "quantity": "3", "unit_price": "70.00", "tax_id": setup.vat20["id"]},
             {"description": "Travel", "quantity": "1", "unit_price": "15.50", "tax_id": ""}]
    page = browser.get(f"/invoices/{inv['id']}/edit").get_data(as_text=True)
    assert "Valve" in page and 'value="2"' in page
    r = browser.post(f"/invoices/{inv['id']}/edit", data=_form(setup, partner_id=other["id"], lines=lines,
                                                              invoice_date="2026-04-01", payment_terms_days="0",
                                                              notes="Thanks"))
    assert r.status_code == 302, r.get_data(as_text=True)
    inv = setup.api.get(f"/invoices/{inv['id']}").json
    assert inv["partner_id"] == other["id"] and inv["invoice_date"] == "2026-04-01"
    assert inv["due_date"] == "2026-04-01"
    assert [l["description"] for l in inv["lines"]] == ["Labour (evening)", "Travel"]
    assert inv["lines"][0]["id"] == labour["id"]  # kept, changed; the valve line is gone
    assert inv["amount_untaxed"] == "225.50" and inv["amount_tax"] == "42.00" and inv["amount_total"] == "267.50"


def test_bad_values_in_the_form_say_what_to_do_and_keep_the_lines(setup, login):
    browser = login("back_office")
    lines = [{"description": "Labour", "quantity": "abc", "unit_price": "60"}]
    r = browser.post("/invoices/new", data=_form(setup, lines=lines))
    page = r.get_data(as_text=True)
    assert r.status_code == 200 and "must be a number" in page.lower() and 'value="abc"' in page
    r = browser.post("/invoices/new", data=_form(setup, lines=[{"description": "x", "quantity": "0",
                                                                    "unit_price": "1"}]))
    assert r.status_code == 200 and "more than 0" in r.get_data(as_text=True)
    r = browser.post("/invoices/new", data=_form(setup, partner_id="0"))
    assert r.status_code == 200 and "customer" in r.get_data(as_text=True).lower()
    assert setup.api.get("/invoices").json["total"] == 0


def test_api_patch_replaces_lines_and_recomputes(setup):
    a = setup.api
    inv = setup.draft()
    labour = inv["lines"][0]
    r = a.patch(f"/invoices/{inv['id']}", json={"lines": [{"id": labour["id"], "quantity": "1"},
                                                         {"description": "Extra", "unit_price": "10"}],
                                                "payment_terms_days": 10})
    assert r.status_code == 200, r.json
    assert [l["description"] for l in r.json["lines"]] == ["Labour", "Extra"]
    assert r.json["amount_total"] == "82.00" and r.json["due_date"] == "2026-03-11"
    for bad in ({"lines": [{"id": 99999}]}, {"lines": [{"quantity": "1"}]}, {"partner_id": 9999},
                {"lines": [{"id": labour["id"], "quantity": "-2"}]}, {"lines": [{"description": "x", "tax_id": 999}]},
                {"payment_terms_days": -1}, {"due_date": "2026-01-01"}, {"lines": [{"description": "x",
                                                                                     "unit_price": 1.5}]}):
        r = a.patch(f"/invoices/{inv['id']}", json=bad)
        assert r.status_code == 422, (bad, r.json)
    assert a.get(f"/invoices/{inv['id']}").json["amount_total"] == "82.00"  # nothing half-written
    assert a.patch("/invoices/9999", json={}).status_code == 404


def test_posted_invoices_cannot_be_edited_or_deleted(setup, login):
    inv = setup.posted()
    a = setup.api
    r = a.patch(f"/invoices/{inv['id']}", json={"notes": "x"})
    assert r.status_code == 409 and r.json["error"]["code"] == "not_draft"
    assert a.delete(f"/invoices/{inv['id']}").status_code == 409
    browser = login("back_office")
    r = browser.get(f"/invoices/{inv['id']}/edit", follow_redirects=True)
    assert "can no longer be changed" in r.get_data(as_text=True)
    r = browser.post(f"/invoices/{inv['id']}/edit", data=_form(setup), follow_redirects=True)
    assert "can no longer be changed" in r.get_data(as_text=True)
    r = browser.post(f"/invoices/{inv['id']}/delete", follow_redirects=True)
    assert "can no longer be changed or deleted" in r.get_data(as_text=True)
    assert a.get(f"/invoices/{inv['id']}").json["state"] == "posted"


def test_delete_a_draft_from_its_page(setup, login):
    browser = login("back_office")
    inv = setup.draft()
    page = browser.get(f"/invoices/{inv['id']}").get_data(as_text=True)
    assert "Delete" in page and "Cancel the service order too" not in page  # no origin, no checkbox
    r = browser.post(f"/invoices/{inv['id']}/delete", follow_redirects=True)
    assert "Draft deleted." in r.get_data(as_text=True)
    assert setup.api.get(f"/invoices/{inv['id']}").status_code == 404


def test_delete_a_draft_with_origin_can_cancel_the_origin(setup, app, login):
    from addons.invoicing import services
    from core.extensions import db
    from core.models import AuditLog
    with app.app_context():
        inv = services.create_invoice(setup.partner["id"], lines=[{"description": "Repair", "unit_price": "80"}],
                                      origin=("service_order", 42))
        db.session.commit()
        invoice_id = inv.id
    browser = login("back_office")
    page = browser.get(f"/invoices/{invoice_id}").get_data(as_text=True)
    assert "Cancel the service order too" in page and "Invoice externally" in page
    r = browser.post(f"/invoices/{invoice_id}/delete", data={"cancel_origin": "y"}, follow_redirects=True)
    assert "service order cancelled" in r.get_data(as_text=True)
    with app.app_context():
        log = db.session.scalars(select(AuditLog).where(AuditLog.document_id == invoice_id,
                                                        AuditLog.action == "deleted")).one()
        assert log.details == "origin cancelled" and log.user_id == browser.user_id


def test_api_delete_with_cancel_origin_and_wrong_roles(setup, api):
    inv = setup.draft()
    assert api("bookkeeper").delete(f"/invoices/{inv['id']}").status_code == 403
    assert api("technician").post("/invoices", json={"partner_id": setup.partner["id"]}).status_code == 403
    assert setup.api.delete(f"/invoices/{inv['id']}?cancel_origin=true").status_code == 204
    assert setup.api.delete(f"/invoices/{inv['id']}").status_code == 404


def test_new_invoice_defaults_to_today_and_company_terms(setup, login):
    page = login("back_office").get("/invoices/new").get_data(as_text=True)
    assert date.today().isoformat() in page and 'value="30"' in page
