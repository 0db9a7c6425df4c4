"""What becomes of credited work (docs/api.md, ``work``): a credit note no longer puts the order's hours and parts
back on "to invoice" unless it says so.

Before: crediting an invoice made from a service order (whole, ``mode: cancel``, or some lines) gave its work back
to the order, so *Invoice all Done orders* + *Post* billed credited jobs again (a job paid then credited "job
cancelled" was re-billed), and the single call billed what the batch left alone."""
from __future__ import annotations

import pytest


def _invoiced_order(shop, tech_id) -> tuple[dict, dict]:
    """A Done order (2 h + 1.5 h + 2 valves = 300.50 untaxed), invoiced by itself and posted."""
    order = shop.order(tech_id, state="done")
    r = shop.office.post(f"/service-orders/{order['id']}/invoice")
    assert r.status_code == 201, r.json
    invoice = shop.office.post(f"/invoices/{r.json['id']}/post").json
    assert invoice["state"] == "posted"
    return order, invoice


def _bill_everything(office) -> dict:
    r = office.post("/service-orders/invoice", json={"all_done": True, "post": True})
    assert r.status_code == 200, r.json
    return r.json


@pytest.fixture
def tech(api):
    return api("technician")


def test_a_paid_job_credited_whole_is_not_billed_again(shop, tech, app):
    order, invoice = _invoiced_order(shop, tech.user_id)
    office = shop.office
    assert office.post(f"/invoices/{invoice['id']}/payments", json={"amount": invoice["amount_due"],
                                                                  "method": "bank_transfer"}).status_code == 201
    note = office.post(f"/invoices/{invoice['id']}/credit-notes", json={"mode": "cancel",
                                                                       "reason": "job cancelled"})
    assert note.status_code == 201 and note.json["work"] == "billed", note.json
    again = office.get(f"/service-orders/{order['id']}").json
    assert again["state"] == "invoiced"
    result = _bill_everything(office)
    assert result["invoices"] == [] and result["refused"] == []
    single = office.post(f"/service-orders/{order['id']}/invoice")
    assert single.status_code == 409 and single.json["error"]["code"] == "already_invoiced"


def test_some_lines_credited_stay_billed_by_default_in_both_paths(shop, tech):
    order, invoice = _invoiced_order(shop, tech.user_id)
    office = shop.office
    labour = invoice["lines"][0]
    r = office.post(f"/invoices/{invoice['id']}/credit-notes", json={"lines": [{"line_id": labour["id"],
                                                                                "quantity": "1"}],
                                                                     "reason": "an hour not worked"})
    assert r.status_code == 201 and r.json["work"] == "billed"
    assert office.post(f"/invoices/{r.json['id']}/post").status_code == 200
    assert office.get(f"/service-orders/{order['id']}").json["state"] == "invoiced"
    assert _bill_everything(office)["invoices"] == []
    assert office.post(f"/service-orders/{order['id']}/invoice").status_code == 409


def test_bill_again_gives_the_credited_hours_back_to_both_paths(shop, tech):
    order, invoice = _invoiced_order(shop, tech.user_id)
    office = shop.office
    labour = invoice["lines"][0]
    r = office.post(f"/invoices/{invoice['id']}/credit-notes", json={
        "lines": [{"line_id": labour["id"], "quantity": labour["quantity"]}], "work": "bill_again"})
    assert r.status_code == 201 and r.json["work"] == "bill_again"
    assert office.post(f"/invoices/{r.json['id']}/post").status_code == 200
    # the single call and the batch pick up the same hours
    draft = office.post(f"/service-orders/{order['id']}/invoice")
    assert draft.status_code == 201, draft.json
    assert [(l["description"][:6], l["quantity"]) for l in draft.json["lines"]] == \
        [(labour["description"][:6], labour["quantity"])]
    assert office.delete(f"/invoices/{draft.json['id']}").status_code in (200, 204)
    result = _bill_everything(office)
    assert len(result["invoices"]) == 1 and result["posted"] == 1
    assert office.get(f"/invoices/{result['invoices'][0]}").json["amount_untaxed"] == labour["amount_untaxed"]
    assert office.get(f"/service-orders/{order['id']}").json["state"] == "invoiced"


def test_cancel_order_cancels_it_and_needs_the_whole_invoice(shop, tech):
    order, invoice = _invoiced_order(shop, tech.user_id)
    office = shop.office
    labour = invoice["lines"][0]
    part = office.post(f"/invoices/{invoice['id']}/credit-notes", json={
        "lines": [{"line_id": labour["id"], "quantity": "1"}], "work": "cancel_order"})
    assert part.status_code == 422 and "work" in part.json["error"]["fields"]
    note = office.post(f"/invoices/{invoice['id']}/credit-notes", json={"work": "cancel_order"})
    assert note.status_code == 201, note.json
    assert office.get(f"/service-orders/{order['id']}").json["state"] == "invoiced"  # a draft changes nothing
    assert office.post(f"/invoices/{note.json['id']}/post").status_code == 200
    assert office.get(f"/service-orders/{order['id']}").json["state"] == "cancelled"
    assert _bill_everything(office)["invoices"] == []


def test_work_is_refused_with_credit_and_redraft_and_changeable_on_a_draft(shop, tech):
    _, invoice = _invoiced_order(shop, tech.user_id)
    office = shop.office
    r = office.post(f"/invoices/{invoice['id']}/credit-notes", json={"mode": "modify", "work": "billed"})
    assert r.status_code == 422 and "work" in r.json["error"]["fields"]
    r = office.post(f"/invoices/{invoice['id']}/credit-notes", json={"mode": "modify"})
    assert r.status_code == 201 and r.json["work"] == "redraft" and r.json["new_draft_id"]
    other_order, other = _invoiced_order(shop, tech.user_id)
    note = office.post(f"/invoices/{other['id']}/credit-notes", json={}).json
    changed = office.patch(f"/invoices/{note['id']}", json={"work": "bill_again"})
    assert changed.status_code == 200 and changed.json["work"] == "bill_again"
    assert office.patch(f"/invoices/{note['id']}", json={"work": "nonsense"}).status_code == 422
    assert office.patch(f"/invoices/{other['id']}", json={"work": "billed"}).status_code in (409, 422)
    assert office.post(f"/invoices/{note['id']}/post").status_code == 200
    assert office.get(f"/service-orders/{other_order['id']}").json["state"] == "done"  # all of it given back


def test_the_credit_page_asks_in_words_and_the_note_says_it(shop, tech, login):
    order, invoice = _invoiced_order(shop, tech.user_id)
    browser = login("back_office")
    page = browser.get(f"/invoices/{invoice['id']}/credit-notes/new").get_data(as_text=True)
    assert "The hours and parts credited" in page and "nothing of it is invoiced again" in page
    r = browser.post(f"/invoices/{invoice['id']}/credit-notes/new",
                     data={"kind": "full", "work": "cancel_order", "reason": "booked by mistake", "post_now": "y"})
    assert r.status_code == 302, r.get_data(as_text=True)
    note_page = browser.get(r.headers["Location"]).get_data(as_text=True)
    assert "The work credited" in note_page and "The order is cancelled" in note_page
    assert shop.office.get(f"/service-orders/{order['id']}").json["state"] == "cancelled"
