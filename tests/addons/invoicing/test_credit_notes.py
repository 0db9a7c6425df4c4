"""Add a credit note to a posted invoice: whole, some lines or part of their quantity, an amount off a line;
modes draft / cancel / modify; never more than is left; through the API and the pages."""
from __future__ import annotations

from decimal import Decimal


def _note(a, invoice_id, body=None, status=201):
    r = a.post(f"/invoices/{invoice_id}/credit-notes", json=body or {})
    assert r.status_code == status, r.json
    return r.json


def test_whole_invoice_as_draft_then_post(setup):
    a = setup.api
    inv = setup.posted()
    note = _note(a, inv["id"], {"reason": "Wrong customer"})
    assert note["type"] == "credit_note" and note["state"] == "draft" and note["mode"] == "draft"
    assert note["credited_invoice_id"] == inv["id"] and note["new_draft_id"] is None
    assert note["reason"] == "Wrong customer" and note["amount_total"] == "254.00"
    assert {l["credited_line_id"] for l in note["lines"]} == {l["id"] for l in inv["lines"]}
    original = a.get(f"/invoices/{inv['id']}").json
    assert original["credit_note_ids"] == [note["id"]]
    assert [l["quantity_credited"] for l in original["lines"]] == ["2.0000", "4.0000"] or \
        [Decimal(l["quantity_credited"]) for l in original["lines"]] == [2, 4]
    assert original["amount_due"] == "254.00"  # a draft credit note settles nothing yet
    posted = a.post(f"/invoices/{note['id']}/post").json
    assert posted["number"] == "CN/2026/00001" and posted["state"] == "posted"
    original = a.get(f"/invoices/{inv['id']}").json
    assert original["amount_credited"] == "254.00" and original["amount_due"] == "0.00"
    assert original["payment_state"] == "credited"


def test_part_of_a_line_by_quantity(setup):
    a = setup.api
    inv = setup.posted()
    labour = inv["lines"][0]
    note = _note(a, inv["id"], {"lines": [{"line_id": labour["id"], "quantity": "0.5"}]})
    assert len(note["lines"]) == 1 and note["lines"][0]["quantity"] == "0.5"
    assert note["amount_untaxed"] == "30.00" and note["amount_total"] == "36.00"
    a.post(f"/invoices/{note['id']}/post")
    original = a.get(f"/invoices/{inv['id']}").json
    assert original["amount_due"] == "218.00" and original["payment_state"] == "partial"
    assert Decimal(original["lines"][0]["quantity_credited"]) == Decimal("0.5")
    assert Decimal(original["lines"][1]["quantity_credited"]) == 0


def test_amount_off_a_line(setup):
    a = setup.api
    inv = setup.posted()
    part = inv["lines"][1]
    note = _note(a, inv["id"], {"lines": [{"line_id": part["id"], "amount": "20.00"}], "reason": "Goodwill"})
    assert note["amount_untaxed"] == "20.00" and note["amount_tax"] == "2.00"  # the line's 10 % VAT
    line = note["lines"][0]
    assert line["credited_line_id"] is None and line["amount_off_line_id"] == part["id"]
    original = a.get(f"/invoices/{inv['id']}").json
    assert Decimal(original["lines"][1]["quantity_credited"]) == 0  # money off, not quantity back


def test_never_more_than_is_left_drafts_included(setup):
    a = setup.api
    inv = setup.posted()
    labour, part = inv["lines"]
    r = a.post(f"/invoices/{inv['id']}/credit-notes", json={"lines": [{"line_id": labour["id"], "quantity": "3"}]})
    assert r.status_code == 422 and r.json["error"]["code"] == "exceeds_creditable"
    _note(a, inv["id"], {"lines": [{"line_id": labour["id"], "quantity": "1.5"}]})  # a draft: it counts
    r = a.post(f"/invoices/{inv['id']}/credit-notes", json={"lines": [{"line_id": labour["id"], "quantity": "1"}]})
    assert r.status_code == 422
    r = a.post(f"/invoices/{inv['id']}/credit-notes", json={"lines": [{"line_id": part["id"], "amount": "100.01"}]})
    assert r.status_code == 422
    _note(a, inv["id"], {"lines": [{"line_id": part["id"], "amount": "40"}]})
    r = a.post(f"/invoices/{inv['id']}/credit-notes", json={"lines": [{"line_id": part["id"], "quantity": "3"}]})
    assert r.status_code == 422  # 3 × 25 = 75 > the 60 of this line left after 40 off
    # the whole of what is left: 0.5 h of labour and 60.00 off the valves
    rest = _note(a, inv["id"])
    assert Decimal(rest["amount_untaxed"]) == Decimal("90.00")
    assert a.post(f"/invoices/{inv['id']}/credit-notes", json={}).status_code == 422  # nothing left


def test_deleted_draft_credit_note_frees_its_quantity(setup):
    a = setup.api
    inv = setup.posted()
    note = _note(a, inv["id"])
    assert a.post(f"/invoices/{inv['id']}/credit-notes", json={}).status_code == 422
    assert a.delete(f"/invoices/{note['id']}").status_code == 204
    _note(a, inv["id"])


def test_editing_a_draft_credit_note_beyond_the_invoice_is_refused(setup):
    a = setup.api
    inv = setup.posted()
    note = _note(a, inv["id"], {"lines": [{"line_id": inv["lines"][0]["id"], "quantity": "1"}]})
    line = note["lines"][0]
    r = a.patch(f"/invoices/{note['id']}", json={"lines": [{"id": line["id"], "quantity": "2.5"}]})
    assert r.status_code == 422
    r = a.patch(f"/invoices/{note['id']}", json={"lines": [{"id": line["id"], "quantity": "2"}]})
    assert r.status_code == 200 and r.json["amount_untaxed"] == "120.00"


def test_cancel_mode_posts_and_matches_at_once(setup):
    a = setup.api
    inv = setup.posted()
    note = _note(a, inv["id"], {"mode": "cancel", "reason": "Duplicate"})
    assert note["state"] == "posted" and note["number"] == "CN/2026/00001" and note["mode"] == "cancel"
    original = a.get(f"/invoices/{inv['id']}").json
    assert original["payment_state"] == "credited" and original["amount_due"] == "0.00"
    r = a.post(f"/invoices/{inv['id']}/credit-notes", json={"mode": "cancel", "lines": [
        {"line_id": inv["lines"][0]["id"], "quantity": "1"}]})
    assert r.status_code == 422  # cancel is for the whole invoice


def test_modify_mode_makes_a_new_draft_copy(setup):
    a = setup.api
    inv = setup.posted()
    note = _note(a, inv["id"], {"mode": "modify"})
    assert note["state"] == "posted" and note["new_draft_id"]
    draft = a.get(f"/invoices/{note['new_draft_id']}").json
    assert draft["state"] == "draft" and draft["redraft_of_id"] == inv["id"]
    assert draft["partner_id"] == inv["partner_id"] and draft["amount_total"] == inv["amount_total"]
    assert [(l["product_id"], l["quantity"]) for l in draft["lines"]] == \
        [(l["product_id"], l["quantity"]) for l in inv["lines"]]
    r = a.patch(f"/invoices/{draft['id']}", json={"lines": [{"id": draft["lines"][0]["id"], "unit_price": "55.00"},
                                                          {"id": draft["lines"][1]["id"]}]})
    assert r.status_code == 200 and r.json["amount_total"] == "242.00"
    posted = a.post(f"/invoices/{draft['id']}/post").json
    assert posted["number"] == "INV/2026/00002"


def test_refusals(setup, api):
    a = setup.api
    draft = setup.draft()
    r = a.post(f"/invoices/{draft['id']}/credit-notes", json={})
    assert r.status_code == 409 and r.json["error"]["code"] == "not_posted"
    inv = setup.posted()
    note = _note(a, inv["id"], {"mode": "cancel"})
    r = a.post(f"/invoices/{note['id']}/credit-notes", json={})
    assert r.status_code == 409 and r.json["error"]["code"] == "not_creditable"
    assert a.post("/invoices/9999/credit-notes", json={}).status_code == 404
    other = setup.posted(invoice_date="2026-03-02")
    bad = [{"line_id": 99999, "quantity": "1"}], [{"line_id": other["lines"][0]["id"], "quantity": "0"}], \
        [{"line_id": other["lines"][0]["id"], "quantity": "-1"}], [{"line_id": other["lines"][0]["id"]}], \
        [{"line_id": other["lines"][0]["id"], "quantity": "abc"}], \
        [{"line_id": other["lines"][0]["id"], "quantity": "1", "amount": "5"}]
    for lines in bad:
        r = a.post(f"/invoices/{other['id']}/credit-notes", json={"lines": lines})
        assert r.status_code == 422, (lines, r.json)
    assert a.post(f"/invoices/{other['id']}/credit-notes", json={"mode": "nope"}).status_code == 422
    assert a.post(f"/invoices/{other['id']}/credit-notes", json={"lines": [
        {"line_id": inv["lines"][0]["id"], "quantity": "1"}]}).status_code == 422  # a line of another invoice
    assert api("technician").post(f"/invoices/{other['id']}/credit-notes", json={}).status_code == 403
    # the bookkeeper may credit (the roles of docs/api.md)
    assert api("bookkeeper").post(f"/invoices/{other['id']}/credit-notes", json={}).status_code == 201


def test_credit_note_pages(setup, login):
    inv = setup.posted()
    browser = login("back_office")
    page = browser.get(f"/invoices/{inv['id']}").get_data(as_text=True)
    assert "Add credit note" in page and "Credit and re-draft" in page
    form = browser.get(f"/invoices/{inv['id']}/credit-notes/new").get_data(as_text=True)
    assert "Quantity to credit" in form
    labour, part = inv["lines"]
    r = browser.post(f"/invoices/{inv['id']}/credit-notes/new",
                     data={"kind": "lines", f"qty_{labour['id']}": "5", "reason": "x"})
    assert r.status_code == 200 and "left to credit" in r.get_data(as_text=True)
    r = browser.post(f"/invoices/{inv['id']}/credit-notes/new", data={"kind": "full", f"qty_{labour['id']}": "1"})
    assert r.status_code == 200 and "You chose the whole invoice" in r.get_data(as_text=True)
    r = browser.post(f"/invoices/{inv['id']}/credit-notes/new",
                     data={"kind": "lines", f"qty_{labour['id']}": "1", "reason": "One hour too many"})
    assert r.status_code == 302
    note_url = r.headers["Location"]
    note_page = browser.get(note_url).get_data(as_text=True)
    assert "Draft credit note" in note_page and "One hour too many" in note_page and "Post" in note_page
    r = browser.post(f"/invoices/{inv['id']}/credit-notes/new",
                     data={"kind": "amount", "amount_line": str(part["id"]), "amount": "10", "post_now": "y"},
                     follow_redirects=True)
    assert "Credit note CN/2026/00001 posted" in r.get_data(as_text=True)
    page = browser.get(f"/invoices/{inv['id']}").get_data(as_text=True)
    assert "CN/2026/00001" in page and "One hour too many" in page
    assert setup.api.get(f"/invoices/{inv['id']}").json["amount_due"] == "243.00"


def test_credit_and_redraft_page_then_go_to_draft(setup, login):
    inv = setup.posted()
    browser = login("back_office")
    r = browser.post(f"/invoices/{inv['id']}/credit-and-redraft", follow_redirects=True)
    page = r.get_data(as_text=True)
    assert "fully credited by CN/2026/00001" in page and "Go to draft" in page
    original = setup.api.get(f"/invoices/{inv['id']}").json
    assert original["payment_state"] == "credited"
    drafts = setup.api.get("/invoices?state=draft").json["items"]
    assert len(drafts) == 1 and drafts[0]["redraft_of_id"] == inv["id"]
    draft_page = browser.get(f"/invoices/{drafts[0]['id']}").get_data(as_text=True)
    assert "Invoice externally" in draft_page and "Delete" in draft_page
    # a credit note has no "Add credit note"
    note_page = browser.get(f"/invoices/{original['credit_note_ids'][0]}").get_data(as_text=True)
    assert "Add credit note" not in note_page
    r = browser.get(f"/invoices/{original['credit_note_ids'][0]}/credit-notes/new", follow_redirects=True)
    assert "cannot be credited" in r.get_data(as_text=True)


def test_bookkeeper_sees_no_draft_buttons_and_technician_no_page(setup, login):
    inv = setup.posted()
    assert login("technician").get(f"/invoices/{inv['id']}").status_code == 403
    page = login("bookkeeper").get(f"/invoices/{inv['id']}").get_data(as_text=True)
    assert "Add credit note" in page and ">Send<" not in page


def test_credit_note_date(setup):
    a = setup.api
    inv = setup.posted()
    r = a.post(f"/invoices/{inv['id']}/credit-notes", json={"date": "2026-02-01"})
    assert r.status_code == 422 and "date" in r.json["error"]["fields"]
    note = _note(a, inv["id"], {"date": "2026-03-15"})
    assert note["invoice_date"] == "2026-03-15"
    assert a.post(f"/invoices/{inv['id']}/credit-notes", json={"date": "15/03/2026"}).status_code == 422
