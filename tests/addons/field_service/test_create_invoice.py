"""Create invoice from a Done order: the draft's lines, never twice, posted → invoiced, deleting the draft,
credit notes making hours billable again, credit and re-draft, and invoicing externally."""
from __future__ import annotations

import threading
from decimal import Decimal


def _done(api, shop):
    tech = api("technician")
    return shop.order(tech.user_id, state="done"), tech


def test_create_invoice_makes_a_draft_with_one_line_per_hour_and_part(api, shop):
    order, tech = _done(api, shop)
    r = shop.office.post(f"/service-orders/{order['id']}/invoice")
    assert r.status_code == 201, r.json
    inv = r.json
    assert inv["state"] == "draft" and inv["origin"] == {"type": "service_order", "id": order["id"]}
    assert inv["partner_id"] == shop.partner["id"]
    labour, urgent, part = inv["lines"]
    assert labour["description"].startswith("Labour 2026-11-25 ") and labour["description"].endswith(": Diagnosis")
    assert Decimal(labour["quantity"]) == 2 and labour["unit_price"] == "65.00" and labour["amount_untaxed"] == "130.00"
    assert Decimal(urgent["quantity"]) == Decimal("1.5") and urgent["amount_untaxed"] == "142.50"
    assert Decimal(part["quantity"]) == 2 and part["unit_price"] == "38.50" and part["amount_untaxed"] == "77.00"
    assert inv["amount_untaxed"] == "349.50" and inv["amount_tax"] == "69.90" and inv["amount_total"] == "419.40"
    again = shop.office.get(f"/service-orders/{order['id']}").json
    assert again["invoice_id"] == inv["id"] and again["state"] == "done"
    assert all(Decimal(e["invoiced_qty"]) == Decimal(e["hours"]) for e in again["time_entries"])
    r = shop.office.post(f"/service-orders/{order['id']}/invoice")
    assert r.status_code == 409 and r.json["error"]["code"] == "already_invoiced"
    # Hours cannot be added to an order that is on a draft
    assert shop.office.post(f"/service-orders/{order['id']}/time-entries",
                            json={"hours": "1", "product_id": shop.labour["id"]}).status_code == 409

    r = shop.office.post(f"/invoices/{inv['id']}/post")
    assert r.status_code == 200, r.json
    after = shop.office.get(f"/service-orders/{order['id']}").json
    assert after["state"] == "invoiced" and after["invoice_id"] == inv["id"]
    r = shop.office.post(f"/service-orders/{order['id']}/invoice")
    assert r.status_code == 409 and r.json["error"]["code"] == "already_invoiced"


def test_only_done_orders_and_only_back_office(api, shop):
    tech = api("technician")
    running = shop.order(tech.user_id, state="in_progress")
    r = shop.office.post(f"/service-orders/{running['id']}/invoice")
    assert r.status_code == 409 and r.json["error"]["code"] == "order_not_done"
    done, _ = _done(api, shop)
    assert api("bookkeeper").post(f"/service-orders/{done['id']}/invoice").status_code == 403
    assert tech.post(f"/service-orders/{done['id']}/invoice").status_code == 403
    assert shop.office.post("/service-orders/999999/invoice").status_code == 404


def test_deleting_the_draft_releases_the_order_or_cancels_it(api, shop):
    order, _ = _done(api, shop)
    inv = shop.office.post(f"/service-orders/{order['id']}/invoice").json
    assert shop.office.delete(f"/invoices/{inv['id']}").status_code == 204
    back = shop.office.get(f"/service-orders/{order['id']}").json
    assert back["state"] == "done" and back["invoice_id"] is None
    assert all(Decimal(e["invoiced_qty"]) == 0 for e in back["time_entries"] + back["parts"])
    inv2 = shop.office.post(f"/service-orders/{order['id']}/invoice")
    assert inv2.status_code == 201 and len(inv2.json["lines"]) == 3
    assert shop.office.delete(f"/invoices/{inv2.json['id']}?cancel_origin=true").status_code == 204
    gone = shop.office.get(f"/service-orders/{order['id']}").json
    assert gone["state"] == "cancelled" and gone["invoice_id"] is None
    assert shop.office.post(f"/service-orders/{order['id']}/invoice").status_code == 409


def test_invoice_externally_marks_the_order_invoiced(api, shop):
    order, _ = _done(api, shop)
    inv = shop.office.post(f"/service-orders/{order['id']}/invoice").json
    assert shop.office.post(f"/invoices/{inv['id']}/invoice-externally").status_code == 200
    assert shop.office.get(f"/service-orders/{order['id']}").json["state"] == "invoiced"


def test_a_credit_note_makes_what_it_gives_back_billable_again(api, shop):
    order, _ = _done(api, shop)
    inv = shop.office.post(f"/service-orders/{order['id']}/invoice").json
    shop.office.post(f"/invoices/{inv['id']}/post")
    urgent_line = inv["lines"][1]
    # Give back 1 of the 1.5 urgent hours to be billed again (work: bill_again): 1 h is billable again, so the
    # order is done again (docs/api.md) and both the single call and the batch pick it up.
    r = shop.office.post(f"/invoices/{inv['id']}/credit-notes",
                         json={"lines": [{"line_id": urgent_line["id"], "quantity": "1"}], "work": "bill_again"})
    assert r.status_code == 201, r.json
    assert shop.office.post(f"/invoices/{r.json['id']}/post").status_code == 200
    after = shop.office.get(f"/service-orders/{order['id']}").json
    assert after["state"] == "done" and after["invoice_id"] is None
    urgent = after["time_entries"][1]
    assert Decimal(urgent["invoiced_qty"]) == Decimal("0.5")
    # An amount off a line is a price reduction: no hours come back.
    r = shop.office.post(f"/invoices/{inv['id']}/credit-notes",
                         json={"lines": [{"line_id": inv["lines"][0]["id"], "amount": "10.00"}]})
    assert r.status_code == 201, r.json
    shop.office.post(f"/invoices/{r.json['id']}/post")
    assert Decimal(shop.office.get(f"/service-orders/{order['id']}").json["time_entries"][0]["invoiced_qty"]) == 2
    # The hour given back can be invoiced again: a supplementary invoice with just that hour.
    extra = shop.office.post(f"/service-orders/{order['id']}/invoice")
    assert extra.status_code == 201, extra.json
    assert len(extra.json["lines"]) == 1 and Decimal(extra.json["lines"][0]["quantity"]) == 1
    assert shop.office.post(f"/service-orders/{order['id']}/invoice").status_code == 409


def test_credit_everything_the_order_is_done_again(api, shop):
    order, _ = _done(api, shop)
    inv = shop.office.post(f"/service-orders/{order['id']}/invoice").json
    shop.office.post(f"/invoices/{inv['id']}/post")
    r = shop.office.post(f"/invoices/{inv['id']}/credit-notes", json={"mode": "cancel", "work": "bill_again"})
    assert r.status_code == 201, r.json
    after = shop.office.get(f"/service-orders/{order['id']}").json
    assert after["state"] == "done" and after["invoice_id"] is None
    again = shop.office.post(f"/service-orders/{order['id']}/invoice")
    assert again.status_code == 201 and again.json["amount_total"] == inv["amount_total"]


def test_credit_and_redraft_keeps_the_order_consistent(api, shop):
    order, _ = _done(api, shop)
    inv = shop.office.post(f"/service-orders/{order['id']}/invoice").json
    shop.office.post(f"/invoices/{inv['id']}/post")
    r = shop.office.post(f"/invoices/{inv['id']}/credit-notes", json={"mode": "modify"})
    assert r.status_code == 201, r.json
    new_draft = r.json["new_draft_id"]
    # No second draft: Create invoice finds the re-draft and links the order to it.
    r = shop.office.post(f"/service-orders/{order['id']}/invoice")
    assert r.status_code == 409 and r.json["error"]["code"] == "already_invoiced"
    assert f"#{new_draft}" in r.json["error"]["message"]
    # (invoicing made the copy without telling us: the order's invoice_id follows once that draft is posted)
    batch = shop.office.post("/service-orders/invoice", json={"ids": [order["id"]]}).json
    assert batch["invoices"] == [] and batch["refused"][0]["order_id"] == order["id"]
    assert shop.office.post(f"/invoices/{new_draft}/post").status_code == 200
    after = shop.office.get(f"/service-orders/{order['id']}").json
    assert after["state"] == "invoiced" and after["invoice_id"] == new_draft
    assert all(Decimal(e["invoiced_qty"]) == Decimal(e["hours"]) for e in after["time_entries"])


def test_redraft_deleted_with_cancel_origin_cancels_the_order(api, shop):
    order, _ = _done(api, shop)
    inv = shop.office.post(f"/service-orders/{order['id']}/invoice").json
    shop.office.post(f"/invoices/{inv['id']}/post")
    new_draft = shop.office.post(f"/invoices/{inv['id']}/credit-notes", json={"mode": "modify"}).json["new_draft_id"]
    assert shop.office.delete(f"/invoices/{new_draft}?cancel_origin=true").status_code == 204
    assert shop.office.get(f"/service-orders/{order['id']}").json["state"] == "cancelled"


def test_two_concurrent_create_invoice_make_one_draft(app, api, shop):
    order, _ = _done(api, shop)
    results = []

    def click():
        results.append(shop.office.client.application.test_client().post(
            f"/api/v1/service-orders/{order['id']}/invoice",
            headers={"Authorization": f"Bearer {shop.office.token}"}).status_code)

    threads = [threading.Thread(target=click) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [201, 409]
    drafts = shop.office.get("/invoices?state=draft").json
    assert drafts["total"] == 1
