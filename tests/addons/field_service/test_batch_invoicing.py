"""Invoice many Done orders at once: per order or per customer, posted or not, with the refused ones and why;
the same from the command line and from the list page."""
from __future__ import annotations

from decimal import Decimal

from click.testing import CliRunner


def _orders(api, shop, count):
    tech = api("technician")
    return [shop.order(tech.user_id, state="done") for _ in range(count)], tech


def test_batch_per_order_and_refusals(api, shop):
    orders, tech = _orders(api, shop, 3)
    running = shop.order(tech.user_id, state="in_progress")
    r = shop.office.post("/service-orders/invoice",
                         json={"ids": [o["id"] for o in orders] + [running["id"], 999999], "post": True})
    assert r.status_code == 200, r.json
    body = r.json
    assert len(body["invoices"]) == 3 and body["posted"] == 3
    assert Decimal(body["amount_total"]) == Decimal("419.40") * 3
    assert {x["order_id"] for x in body["refused"]} == {running["id"], 999999}
    assert all(x["message"] for x in body["refused"])
    for order in orders:
        assert shop.office.get(f"/service-orders/{order['id']}").json["state"] == "invoiced"
    again = shop.office.post("/service-orders/invoice", json={"ids": [orders[0]["id"]]}).json
    assert again["invoices"] == [] and "already" in again["refused"][0]["message"]


def test_batch_per_customer_all_done(api, shop):
    orders, _ = _orders(api, shop, 3)
    other = shop.office.post("/partners", json={"name": "Hôtel Martin"}).json
    tech = api("technician")
    extra = shop.order(tech.user_id, state="done", partner_id=other["id"])
    r = shop.office.post("/service-orders/invoice", json={"all_done": True, "group_by": "partner"})
    assert r.status_code == 200, r.json
    assert len(r.json["invoices"]) == 2 and r.json["posted"] == 0 and r.json["refused"] == []
    first = shop.office.get(f"/invoices/{r.json['invoices'][0]}").json
    assert first["state"] == "draft" and len(first["lines"]) == 9  # three orders of one customer
    assert shop.office.get(f"/service-orders/{extra['id']}").json["invoice_id"] == r.json["invoices"][1]
    # Posting a customer's invoice marks each of its orders invoiced.
    shop.office.post(f"/invoices/{first['id']}/post")
    assert {shop.office.get(f"/service-orders/{o['id']}").json["state"] for o in orders} == {"invoiced"}
    # Deleting the other releases its order.
    shop.office.delete(f"/invoices/{r.json['invoices'][1]}")
    assert shop.office.get(f"/service-orders/{extra['id']}").json["state"] == "done"


def test_batch_bad_requests(api, shop):
    assert shop.office.post("/service-orders/invoice", json={}).status_code == 422
    assert shop.office.post("/service-orders/invoice", json={"ids": [1], "group_by": "x"}).status_code == 422
    assert api("technician").post("/service-orders/invoice", json={"all_done": True}).status_code == 403


def test_command_line_invoices_all_done_in_chunks(app, api, shop):
    orders, _ = _orders(api, shop, 3)
    runner = CliRunner()
    from core.cli import build_cli
    cli = build_cli(app)
    import gc
    result = runner.invoke(cli, ["service-orders", "invoice", "--all-done", "--post", "--chunk", "2"])
    assert result.exit_code == 0, result.output
    assert "3 invoices (3 posted)" in result.output and "0 refused" in result.output
    assert gc.get_freeze_count() == 0  # the command froze start-up for the collector; a caller gets it back
    for order in orders:
        assert shop.office.get(f"/service-orders/{order['id']}").json["state"] == "invoiced"
    result = runner.invoke(cli, ["service-orders", "invoice", "--all-done"])
    assert "No Done service orders to invoice." in result.output
    assert runner.invoke(cli, ["service-orders", "invoice"]).exit_code != 0


def test_batch_from_the_list_page(api, shop, login):
    orders, _ = _orders(api, shop, 2)
    office = login("back_office")
    page = office.get("/service-orders?state=done").get_data(as_text=True)
    assert 'name="ids"' in page and "Create invoices" in page
    r = office.post("/service-orders/invoice", data={"ids": [str(o["id"]) for o in orders], "group_by": "order",
                                                     "post": "1"})
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert "Invoices created" in html and "<strong>2</strong>" in html and "2 posted" in html
    r = office.post("/service-orders/invoice", data={"ids": [str(orders[0]["id"])]})
    assert "already" in r.get_data(as_text=True)
    r = office.post("/service-orders/invoice", data={})
    assert r.status_code == 302
