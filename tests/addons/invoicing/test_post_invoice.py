"""Posting a draft: the number, the state, refusals that keep the draft and the number."""
from decimal import Decimal


def _setup(a):
    partner = a.post("/partners", json={"name": "Dupont SARL"}).json
    tax = a.get("/taxes").json["items"][0]
    product = a.post("/products", json={"code": "LAB", "name": "Labour", "type": "labour", "unit": "h",
                                        "unit_price": "60.00", "tax_id": tax["id"]}).json
    return partner, product


def test_create_and_post_invoice(api):
    a = api("back_office")
    partner, product = _setup(a)
    r = a.post("/invoices", json={"partner_id": partner["id"], "invoice_date": "2026-03-01",
                                  "lines": [{"product_id": product["id"], "quantity": "2.5"}]})
    assert r.status_code == 201, r.json
    inv = r.json
    assert inv["state"] == "draft" and inv["number"] is None
    assert inv["amount_untaxed"] == "150.00" and inv["amount_tax"] == "30.00" and inv["amount_total"] == "180.00"
    r = a.post(f"/invoices/{inv['id']}/post")
    assert r.status_code == 200, r.json
    assert r.json["number"] == "INV/2026/00001"
    assert r.json["state"] == "posted" and r.json["amount_due"] == "180.00"
    assert a.post(f"/invoices/{inv['id']}/post").status_code == 409
    assert a.patch(f"/invoices/{inv['id']}", json={"notes": "x"}).status_code == 409
    assert a.delete(f"/invoices/{inv['id']}").status_code == 409


def test_line_rounding_is_per_line(api):
    a = api("back_office")
    partner, product = _setup(a)
    lines = [{"description": "a", "quantity": "1", "unit_price": "0.05", "tax_id": product["tax_id"]}] * 3
    inv = a.post("/invoices", json={"partner_id": partner["id"], "lines": lines}).json
    # 0.05 * 20 % = 0.01 per line, three lines: 0.03 (not 0.15 * 20 % rounded once)
    assert inv["amount_tax"] == "0.03"
    assert Decimal(inv["amount_total"]) == Decimal("0.18")


def test_posting_before_the_last_numbered_date_is_409_not_chronological(api, login):
    a = api("back_office")
    partner, product = _setup(a)
    later = a.post("/invoices", json={"partner_id": partner["id"], "invoice_date": "2026-05-10",
                                      "lines": [{"product_id": product["id"]}]}).json
    earlier = a.post("/invoices", json={"partner_id": partner["id"], "invoice_date": "2026-05-01",
                                        "lines": [{"product_id": product["id"]}]}).json
    assert a.post(f"/invoices/{later['id']}/post").status_code == 200
    r = a.post(f"/invoices/{earlier['id']}/post")
    assert r.status_code == 409 and r.json["error"]["code"] == "not_chronological"
    assert "2026-05-10" in r.json["error"]["message"]
    assert a.get(f"/invoices/{earlier['id']}").json["state"] == "draft"
    browser = login("back_office")
    r = browser.post(f"/invoices/{earlier['id']}/post", headers={"Referer": f"/invoices/{earlier['id']}"},
                     follow_redirects=True)
    page = r.get_data(as_text=True)
    assert "Date it 2026-05-10 or later" in page and "Draft invoice" in page
    # the number was not used: the next one posted gets 00002
    assert a.patch(f"/invoices/{earlier['id']}", json={"invoice_date": "2026-05-11"}).status_code == 200
    assert a.post(f"/invoices/{earlier['id']}/post").json["number"] == "INV/2026/00002"


def test_post_many_through_the_api(api):
    a = api("back_office")
    partner, product = _setup(a)
    ids = []
    for day in ("2026-06-03", "2026-06-01", "2026-06-02"):
        ids.append(a.post("/invoices", json={"partner_id": partner["id"], "invoice_date": day,
                                             "lines": [{"product_id": product["id"]}]}).json["id"])
    empty = a.post("/invoices", json={"partner_id": partner["id"], "invoice_date": "2026-06-04"}).json["id"]
    r = a.post("/invoices/post", json={"ids": ids + [empty, 99999]})
    assert r.status_code == 200, r.json
    assert r.json["posted"] == [ids[1], ids[2], ids[0]]  # in date order, so numbers follow dates
    refused = {x["id"]: x["message"] for x in r.json["refused"]}
    assert set(refused) == {empty, 99999} and "at least one line" in refused[empty]
    numbers = [a.get(f"/invoices/{i}").json["number"] for i in (ids[1], ids[2], ids[0])]
    assert numbers == ["INV/2026/00001", "INV/2026/00002", "INV/2026/00003"]
    r = a.post("/invoices/post", json={"ids": ids})
    assert r.json["posted"] == [] and len(r.json["refused"]) == 3
    assert a.post("/invoices/post", json={"ids": []}).status_code == 422
    assert a.post("/invoices/post", json={}).status_code == 422
    assert api("bookkeeper").post("/invoices/post", json={"ids": ids}).status_code == 403


def test_post_selected_from_the_list(api, login):
    a = api("back_office")
    partner, product = _setup(a)
    good = a.post("/invoices", json={"partner_id": partner["id"], "invoice_date": "2026-06-01",
                                     "lines": [{"product_id": product["id"]}]}).json["id"]
    empty = a.post("/invoices", json={"partner_id": partner["id"], "invoice_date": "2026-06-02"}).json["id"]
    browser = login("back_office")
    page = browser.get("/invoices?status=draft").get_data(as_text=True)
    assert "Post selected" in page and f'name="ids" value="{good}"' in page
    r = browser.post("/invoices/post-selected", data={"ids": [str(good), str(empty)]}, follow_redirects=True)
    page = r.get_data(as_text=True)
    assert "1 posted: INV/2026/00001" in page and f"Draft #{empty}" in page and "at least one line" in page
    r = browser.post("/invoices/post-selected", data={}, follow_redirects=True)
    assert "Select the drafts to post first" in r.get_data(as_text=True)
    assert login("bookkeeper").post("/invoices/post-selected", data={"ids": [str(empty)]}).status_code == 403


def test_post_from_the_page_and_wrong_states(api, login):
    a = api("back_office")
    partner, product = _setup(a)
    inv = a.post("/invoices", json={"partner_id": partner["id"], "lines": [{"product_id": product["id"]}]}).json
    browser = login("back_office")
    r = browser.post(f"/invoices/{inv['id']}/post", follow_redirects=True)
    assert "posted." in r.get_data(as_text=True)
    r = browser.post(f"/invoices/{inv['id']}/post", headers={"Referer": f"/invoices/{inv['id']}"},
                     follow_redirects=True)
    assert "already posted" in r.get_data(as_text=True)
    assert a.post("/invoices/9999/post").status_code == 404
    assert api("bookkeeper").post(f"/invoices/{inv['id']}/post").status_code == 403
