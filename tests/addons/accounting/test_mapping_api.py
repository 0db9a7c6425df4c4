"""The account mapping through the API: read it whole, change parts of it (admin only), refuse unknown codes."""


def test_read_the_mapping(api):
    r = api("bookkeeper").get("/accounting/mapping")
    assert r.status_code == 200, r.json
    body = r.json
    assert body["product_types"] == {"labour": "706100", "part": "707000", "service": "706000"}
    assert {j["code"] for j in body["journals"]} >= {"INV", "BNK", "CSH", "GEN"}
    assert {"code": "cash", "journal": "CSH"} in body["payment_methods"]
    assert all(t["account_code"] == "445710" for t in body["taxes"])  # taxes without a row book to 445710


def test_a_tax_books_to_the_account_it_is_mapped_to(api):
    admin = api("admin")
    admin.post("/accounts", json={"code": "445711", "name": "VAT collected 10 %", "type": "tax"})
    tax = next(t for t in admin.get("/taxes").json["items"] if t["rate"].startswith("10"))
    r = admin.put("/accounting/mapping", json={"taxes": [{"tax_id": tax["id"], "account_code": "445711"}]})
    assert r.status_code == 200, r.json
    partner = admin.post("/partners", json={"name": "Taxed SA"}).json
    inv = admin.post("/invoices", json={"partner_id": partner["id"], "lines": [
        {"description": "Job", "quantity": "1", "unit_price": "100.00", "tax_id": tax["id"]}]}).json
    posted = admin.post(f"/invoices/{inv['id']}/post").json
    entry = admin.get(f"/journal-entries/{posted['journal_entry_id']}").json
    assert any(l["account_code"] == "445711" and l["credit"] == "10.00" for l in entry["lines"])


def test_admin_changes_an_income_account_and_a_product_override(api):
    admin = api("admin")
    assert admin.post("/accounts", json={"code": "706200", "name": "Urgent labour", "type": "income"}).status_code == 201
    product = admin.post("/products", json={"code": "URG", "name": "Urgent", "type": "labour",
                                            "unit_price": "95.00"}).json
    r = admin.put("/accounting/mapping", json={"product_types": {"service": "706100"},
                                               "products": [{"product_id": product["id"], "account_code": "706200"}]})
    assert r.status_code == 200, r.json
    assert r.json["product_types"]["service"] == "706100"
    assert {"product_id": product["id"], "account_code": "706200"} in r.json["products"]
    # and an invoice for that product books its income to the override
    partner = admin.post("/partners", json={"name": "Override SA"}).json
    inv = admin.post("/invoices", json={"partner_id": partner["id"],
                                        "lines": [{"product_id": product["id"], "quantity": "1"}]}).json
    posted = admin.post(f"/invoices/{inv['id']}/post").json
    entry = admin.get(f"/journal-entries/{posted['journal_entry_id']}").json
    assert any(l["account_code"] == "706200" and l["credit"] == "95.00" for l in entry["lines"])


def test_unknown_account_is_refused_and_nothing_changes(api):
    admin = api("admin")
    before = admin.get("/accounting/mapping").json
    r = admin.put("/accounting/mapping", json={"product_types": {"labour": "706000", "part": "999999"}})
    assert r.status_code == 422, r.json
    assert admin.get("/accounting/mapping").json == before


def test_only_admins_change_the_mapping(api):
    assert api("bookkeeper").put("/accounting/mapping", json={"product_types": {"labour": "706000"}}).status_code == 403
    assert api("technician").get("/accounting/mapping").status_code == 403


def test_one_invoice_mixing_every_kind_of_mapping_books_as_the_one_at_a_time_lookups_say(api, app):
    """Posting reads all its mappings in one statement (documents._accounts_of): a product override, a product type,
    a free line (the service type), a mapped tax and an unmapped one (445710) still book where income_account /
    tax_account / receivable_account, asked line by line, say they go."""
    admin = api("admin")
    admin.post("/accounts", json={"code": "706200", "name": "Urgent labour", "type": "income"})
    admin.post("/accounts", json={"code": "445711", "name": "VAT collected 10 %", "type": "tax"})
    taxes = admin.get("/taxes").json["items"]
    mapped_tax = next(t for t in taxes if t["rate"].startswith("10"))
    other_tax = next(t for t in taxes if t["id"] != mapped_tax["id"] and t["rate"] != "0.00")
    override = admin.post("/products", json={"code": "URG", "name": "Urgent", "type": "labour",
                                             "unit_price": "95.00"}).json
    part = admin.post("/products", json={"code": "P1", "name": "Part", "type": "part", "unit_price": "8.00"}).json
    assert admin.put("/accounting/mapping", json={
        "products": [{"product_id": override["id"], "account_code": "706200"}],
        "taxes": [{"tax_id": mapped_tax["id"], "account_code": "445711"}]}).status_code == 200
    partner = admin.post("/partners", json={"name": "Mixed SA"}).json
    inv = admin.post("/invoices", json={"partner_id": partner["id"], "lines": [
        {"product_id": override["id"], "quantity": "1", "tax_id": mapped_tax["id"]},
        {"product_id": part["id"], "quantity": "2", "tax_id": other_tax["id"]},
        {"description": "Call-out", "quantity": "1", "unit_price": "30.00", "tax_id": other_tax["id"]},
        {"description": "No tax", "quantity": "1", "unit_price": "5.00"}]}).json
    posted = admin.post(f"/invoices/{inv['id']}/post").json
    assert posted["state"] == "posted", posted
    entry = admin.get(f"/journal-entries/{posted['journal_entry_id']}").json
    booked = {(l["account_code"], l["debit"], l["credit"]) for l in entry["lines"]}

    from decimal import Decimal

    from addons.accounting import documents, services
    from addons.invoicing.models import Invoice
    from core.extensions import db
    with app.app_context():
        invoice = db.session.get(Invoice, inv["id"])
        expected: dict[tuple[str, str], Decimal] = {}
        for line in invoice.lines:
            code = documents.income_account(line).code
            expected[(code, "credit")] = expected.get((code, "credit"), Decimal(0)) + line.amount_untaxed
            if line.amount_tax:
                code = documents.tax_account(line.tax_id).code
                expected[(code, "credit")] = expected.get((code, "credit"), Decimal(0)) + line.amount_tax
        expected[(services.receivable_account().code, "debit")] = invoice.amount_total
    assert booked == {(code, f"{amount:.2f}" if side == "debit" else "0.00",
                       f"{amount:.2f}" if side == "credit" else "0.00") for (code, side), amount in expected.items()}
    assert {code for code, _, _ in booked} == {"411000", "706200", "707000", "706000", "445711", "445710"}
