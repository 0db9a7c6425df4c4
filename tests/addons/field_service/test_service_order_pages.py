"""The pages: the technician's "My orders" and order page (no prices), the back office's list, board, order form
and Create invoice button; another technician's order is a 404 page."""
from __future__ import annotations

import re


def test_technician_works_through_the_pages(login, shop):
    tech = login("technician")
    from datetime import datetime, timezone
    today_noon = datetime.now(timezone.utc).replace(hour=12, minute=0, second=0, microsecond=0).isoformat()
    order = shop.order(tech.user_id, state="scheduled", scheduled_at=today_noon)  # shows under "today"
    page = tech.get("/my-orders").get_data(as_text=True)
    assert "My orders today" in page and order["number"] in page
    assert "My orders" in tech.get("/").get_data(as_text=True)
    url = f"/service-orders/{order['id']}"
    assert tech.post(f"{url}/start").status_code == 302
    page = tech.get(url).get_data(as_text=True)
    assert "Log hours" in page and "Add part" in page and "Mark done" in page
    r = tech.post(f"{url}/done", headers={"Referer": url})
    assert r.status_code == 302
    assert "write the intervention report" in tech.get(url).get_data(as_text=True)
    for bad in ("0", "-1", "abc"):
        r = tech.post(f"{url}/time-entries", data={"t-hours": bad, "t-product_id": shop.labour["id"],
                                                   "t-date": "2026-11-25"})
        assert r.status_code == 422, bad
        assert "Hours must be" in r.get_data(as_text=True)
    r = tech.post(f"{url}/time-entries", data={"t-hours": "2", "t-product_id": shop.part["id"]})
    assert r.status_code == 422  # not a labour product: not even a choice
    r = tech.post(f"{url}/time-entries", data={"t-hours": "1.5", "t-product_id": shop.labour["id"],
                                               "t-date": "2026-11-25", "t-description": "Diagnosis"})
    assert r.status_code == 302
    r = tech.post(f"{url}/parts", data={"p-product_id": shop.part["id"], "p-quantity": "0"})
    assert r.status_code == 422 and "Quantity must be more than zero" in r.get_data(as_text=True)
    assert tech.post(f"{url}/parts", data={"p-product_id": shop.part["id"], "p-quantity": "2"}).status_code == 302
    assert tech.post(f"{url}/report", data={"r-report": "Valve replaced."}).status_code == 302
    page = tech.get(url).get_data(as_text=True)
    assert "Valve replaced." in page and "Diagnosis" in page
    assert "38.50" not in page and "€" not in page  # no prices for technicians
    assert tech.post(f"{url}/done").status_code == 302
    assert shop.office.get(url).json["state"] == "done"
    assert "Create invoice" not in tech.get(url).get_data(as_text=True)


def test_another_technicians_order_is_a_404_page(login, api, shop):
    tech = login("technician")
    other = api("technician")
    order = shop.order(other.user_id, state="in_progress")
    url = f"/service-orders/{order['id']}"
    assert tech.get(url).status_code == 404
    assert tech.post(f"{url}/start").status_code == 404
    assert tech.post(f"{url}/time-entries", data={"t-hours": "1", "t-product_id": shop.labour["id"]}).status_code == 404
    assert order["number"] not in tech.get("/service-orders").get_data(as_text=True)
    assert tech.get("/service-orders/new").status_code == 403


def test_back_office_list_board_form_and_create_invoice(login, api, shop):
    office = login("back_office")
    tech = api("technician")
    done = shop.order(tech.user_id, state="done")
    page = office.get("/service-orders?q=Dupont&sort=customer").get_data(as_text=True)
    assert done["number"] in page and "Service orders" in page
    assert done["number"] not in office.get("/service-orders?state=draft").get_data(as_text=True)
    board = office.get("/service-orders/board?week=2026-11-25").get_data(as_text=True)
    assert done["number"] in board and "Next week" in board
    assert done["number"] not in office.get("/service-orders/board?week=2026-12-09").get_data(as_text=True)
    assert office.get("/service-orders/board?week=garbage").status_code == 200
    form = office.get("/service-orders/new").get_data(as_text=True)
    assert "Customer" in form
    r = office.post("/service-orders/new", data={"partner_id": "", "description": "x"})
    assert r.status_code == 422 and "Choose a customer" in r.get_data(as_text=True)
    r = office.post("/service-orders/new", data={"partner_id": shop.partner["id"], "description": "Leak",
                                                 "technician_id": tech.user_id, "scheduled_at": "2026-12-02T10:00"})
    assert r.status_code == 302
    made = shop.office.get("/service-orders?q=Leak").json["items"][0]
    assert made["technician_id"] == tech.user_id and made["scheduled_at"].startswith("2026-12-02T10:00")
    tiles = office.get("/").get_data(as_text=True)
    assert "Done orders to invoice" in tiles and "419.40" not in tiles and "349.50" in tiles
    url = f"/service-orders/{done['id']}"
    page = office.get(url).get_data(as_text=True)
    assert "Create invoice" in page and "€349.50" in page
    r = office.post(f"{url}/invoice")
    assert r.status_code == 302 and re.search(r"/invoices/\d+$", r.headers["Location"])
    invoice_page = office.get(r.headers["Location"]).get_data(as_text=True)
    assert f"Service order <a href=\"/service-orders/{done['id']}\">{done['number']}</a>" in invoice_page
    page = office.get(url).get_data(as_text=True)
    assert "Go to draft" in page and "Create invoice" not in page
    r = office.post(f"{url}/invoice", headers={"Referer": url})
    assert r.status_code == 302 and "already on a draft" in office.get(url).get_data(as_text=True)


def test_back_office_edits_and_deletes_entries_on_a_done_order(login, api, shop):
    office = login("back_office")
    tech = api("technician")
    done = shop.order(tech.user_id, state="done")
    url = f"/service-orders/{done['id']}"
    entry, part = done["time_entries"][0], done["parts"][0]
    assert office.get(f"{url}/time-entries/{entry['id']}/edit").status_code == 200
    r = office.post(f"{url}/time-entries/{entry['id']}/edit", data={"t-hours": "-3", "t-product_id": shop.labour["id"]})
    assert r.status_code == 422
    r = office.post(f"{url}/time-entries/{entry['id']}/edit", data={"t-hours": "3", "t-product_id": shop.labour["id"],
                                                                     "t-date": "2026-11-24"})
    assert r.status_code == 302
    assert shop.office.get(url).json["time_entries"][0]["hours"].startswith("3")
    r = office.post(f"{url}/parts/{part['id']}/edit", data={"p-product_id": shop.part["id"], "p-quantity": "1",
                                                             "p-unit_price": "30"})
    assert r.status_code == 302 and shop.office.get(url).json["parts"][0]["unit_price"] == "30.00"
    assert office.post(f"{url}/parts/{part['id']}/delete").status_code == 302
    assert shop.office.get(url).json["parts"] == []
    assert office.post(f"{url}/parts/999999/delete").status_code == 404
