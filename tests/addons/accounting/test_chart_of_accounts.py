"""The chart of accounts loaded at install, edited by admins; journals; the mapping of documents to accounts."""


def test_chart_and_journals_loaded_on_install(api):
    a = api("bookkeeper")
    accounts = {x["code"]: x for x in a.get("/accounts?limit=500").json["items"]}
    for code, type_ in [("411000", "receivable"), ("706100", "income"), ("707000", "income"), ("706000", "income"),
                        ("445710", "tax"), ("512000", "bank"), ("530000", "cash"), ("401000", "payable"),
                        ("101000", "equity"), ("471000", "asset")]:
        assert accounts[code]["type"] == type_, code
    journals = {j["code"]: j for j in a.get("/journals").json["items"]}
    assert {c: journals[c]["type"] for c in journals} == {"INV": "sale", "CN": "sale", "BNK": "bank", "CSH": "cash",
                                                         "GEN": "general"}
    assert journals["BNK"]["account_code"] == "512000" and journals["CSH"]["account_code"] == "530000"
    assert api("back_office").get("/accounts").status_code == 200
    assert api("technician").get("/accounts").status_code == 403


def test_admin_edits_the_chart(api):
    admin = api("admin")
    r = admin.post("/accounts", json={"code": "706200", "name": "Travel income", "type": "income"})
    assert r.status_code == 201 and r.json["code"] == "706200"
    r = admin.patch("/accounts/706200", json={"name": "Travel fees"})
    assert r.status_code == 200 and r.json["name"] == "Travel fees"
    assert admin.post("/accounts", json={"code": "706200", "name": "x", "type": "income"}).status_code == 422
    assert admin.post("/accounts", json={"code": "7", "name": "x", "type": "nope"}).status_code == 422
    assert admin.post("/accounts", json={"code": "", "name": "x", "type": "income"}).status_code == 422
    assert admin.patch("/accounts/000000", json={"name": "x"}).status_code == 404
    assert api("bookkeeper").post("/accounts", json={"code": "1", "name": "x", "type": "asset"}).status_code == 403
    assert api("bookkeeper").patch("/accounts/706200", json={"name": "x"}).status_code == 403


def test_used_account_code_cannot_change(books, api):
    books.invoice()
    r = api("admin").patch("/accounts/706100", json={"code": "706199"})
    assert r.status_code == 409 and r.json["error"]["code"] == "account_used"


def test_mapping_page_product_override_and_tax(books, login, api):
    admin = login("admin")
    page = admin.get("/accounting/mapping")
    assert page.status_code == 200 and "Save mapping" in page.get_data(as_text=True)
    r = admin.post("/accounting/mapping", data={"pt_labour": "706000", f"tax_{books.tax20['id']}": "471000",
                                                "product_id": str(books.part["id"]), "product_account": "706100"})
    assert r.status_code == 302
    inv = books.invoice([{"product_id": books.labour["id"], "quantity": "1"},
                         {"product_id": books.part["id"], "quantity": "1"}])
    by = books.lines_by_account(books.entry(inv["journal_entry_id"]))
    assert set(by) == {"411000", "706000", "706100", "471000"}
    assert str(by["706000"][1]) == "60.00" and str(by["706100"][1]) == "25.00"
    # a bookkeeper sees the mapping but may not change it
    bookkeeper = login("bookkeeper")
    assert "Only an admin" in bookkeeper.get("/accounting/mapping").get_data(as_text=True)
    assert bookkeeper.post("/accounting/mapping", data={"pt_labour": "706100"}).status_code == 403
    r = admin.post("/accounting/mapping", data={"pt_labour": "999999"})
    assert r.status_code == 200 and "no account 999999" in r.get_data(as_text=True)


def test_accounts_page(login):
    admin = login("admin")
    r = admin.post("/accounting/accounts", data={"code": "580000", "name": "Internal transfers", "type": "asset"})
    assert r.status_code == 302
    assert "Internal transfers" in admin.get("/accounting/accounts").get_data(as_text=True)
    r = admin.post("/accounting/accounts/580000/edit", data={"code": "580000", "name": "Transfers", "type": "asset"})
    assert r.status_code == 302 and "Transfers" in admin.get("/accounting/accounts").get_data(as_text=True)
    books = login("bookkeeper")
    assert books.get("/accounting/accounts").status_code == 200
    assert books.post("/accounting/accounts", data={"code": "1", "name": "x", "type": "asset"}).status_code == 403
    assert books.get("/accounting/accounts/580000/edit").status_code == 403
