"""The back office creates, schedules and lists service orders; a technician starts, logs hours and parts, writes
the report and marks the order done; refusals for bad input, wrong state and another technician's order."""
from __future__ import annotations

import re


def test_create_number_and_list_orders(api, shop):
    tech = api("technician")
    first = shop.order(tech.user_id, state="draft")
    second = shop.order(tech.user_id, state="draft", description="No hot water")
    assert re.fullmatch(r"SO/\d{4}/00001", first["number"])
    assert second["number"].endswith("/00002")
    assert first["state"] == "draft" and first["invoice_id"] is None
    assert first["site_address"] == "12 rue Pasteur, 69003 Lyon"  # the customer's address by default
    assert first["scheduled_at"].startswith("2026-11-25T09:00:00") and first["scheduled_at"].endswith("+00:00")
    listing = shop.office.get("/service-orders?state=draft&q=hot%20water").json
    assert listing["total"] == 1 and listing["items"][0]["id"] == second["id"]
    assert shop.office.get(f"/service-orders?technician_id={tech.user_id}&limit=1").json["total"] == 2
    assert shop.office.get("/service-orders?date_from=2026-11-26").json["total"] == 0
    assert shop.office.get("/service-orders?state=nonsense").status_code == 422


def test_create_refuses_bad_input(api, shop):
    office = shop.office
    assert office.post("/service-orders", json={"partner_id": 999999}).status_code == 422
    other = api("back_office")
    r = office.post("/service-orders", json={"partner_id": shop.partner["id"], "technician_id": other.user_id})
    assert r.status_code == 422 and "technician_id" in r.json["error"]["fields"]
    assert office.post("/service-orders", json={"partner_id": shop.partner["id"],
                                                "scheduled_at": "tomorrow"}).status_code == 422
    assert api("technician").post("/service-orders", json={"partner_id": shop.partner["id"]}).status_code == 403
    assert office.get("/service-orders/999999").status_code == 404


def test_technician_does_the_job(api, shop):
    tech = api("technician")
    order = shop.order(tech.user_id, state="scheduled")
    oid = order["id"]
    assert tech.post(f"/service-orders/{oid}/done").status_code == 409  # not started
    r = tech.post(f"/service-orders/{oid}/start")
    assert r.status_code == 200 and r.json["state"] == "in_progress"
    r = tech.post(f"/service-orders/{oid}/done")
    assert r.status_code == 409
    assert "report" in r.json["error"]["message"] and "hours" in r.json["error"]["message"]
    r = tech.post(f"/service-orders/{oid}/time-entries", json={"hours": "2.5", "product_id": shop.labour["id"],
                                                               "date": "2026-11-25", "description": "Diagnosis"})
    assert r.status_code == 201, r.json
    entry = r.json["time_entries"][0]
    assert entry["hours"] == "2.5000" or entry["hours"].rstrip("0") == "2.5"
    assert entry["technician_id"] == tech.user_id
    r = tech.post(f"/service-orders/{oid}/parts", json={"product_id": shop.part["id"], "quantity": "2",
                                                        "unit_price": "1.00"})
    assert r.status_code == 201
    assert "unit_price" not in r.json["parts"][0]  # technicians never see prices
    assert "invoice_id" not in r.json
    back = shop.office.get(f"/service-orders/{oid}").json
    assert back["parts"][0]["unit_price"] == "38.50"  # a technician's price is ignored: the product's applies
    r = tech.post(f"/service-orders/{oid}/done")
    assert r.status_code == 409 and "report" in r.json["error"]["message"]
    assert "hours" not in r.json["error"]["message"]
    assert tech.patch(f"/service-orders/{oid}", json={"description": "changed"}).status_code == 409
    assert tech.patch(f"/service-orders/{oid}", json={"report": "Replaced the valve."}).status_code == 200
    r = tech.post(f"/service-orders/{oid}/done")
    assert r.status_code == 200 and r.json["state"] == "done"
    assert tech.post(f"/service-orders/{oid}/done").status_code == 409
    assert tech.post(f"/service-orders/{oid}/start").status_code == 409


def test_bad_hours_and_products(api, shop):
    tech = api("technician")
    oid = shop.order(tech.user_id, state="in_progress")["id"]
    url = f"/service-orders/{oid}/time-entries"
    for hours in ("0", "-1", "abc", "25", "", "1e400"):
        r = tech.post(url, json={"hours": hours, "product_id": shop.labour["id"]})
        assert r.status_code == 422, (hours, r.json)
        assert "hours" in r.json["error"]["fields"], hours
    assert tech.post(url, json={"hours": 1.5, "product_id": shop.labour["id"]}).status_code == 422  # a float
    r = tech.post(url, json={"hours": "1", "product_id": 999999})
    assert r.status_code == 422 and "product_id" in r.json["error"]["fields"]
    r = tech.post(url, json={"hours": "1", "product_id": shop.part["id"]})
    assert r.status_code == 422 and "not a labour product" in r.json["error"]["message"]
    other = api("technician")
    r = tech.post(url, json={"hours": "1", "product_id": shop.labour["id"], "technician_id": other.user_id})
    assert r.status_code == 422
    parts = f"/service-orders/{oid}/parts"
    r = tech.post(parts, json={"product_id": shop.labour["id"], "quantity": "1"})
    assert r.status_code == 422 and "labour product" in r.json["error"]["message"]
    for quantity in ("0", "-2", "x"):
        assert tech.post(parts, json={"product_id": shop.part["id"], "quantity": quantity}).status_code == 422
    assert shop.office.post(parts, json={"product_id": shop.part["id"], "quantity": "1",
                                         "unit_price": "-5"}).status_code == 422
    assert shop.office.get(f"/service-orders/{oid}").json["time_entries"] == []
    assert shop.office.get(f"/service-orders/{oid}").json["parts"] == []


def test_a_technician_sees_only_their_own_orders(api, shop):
    tech, other = api("technician"), api("technician")
    mine = shop.order(tech.user_id, state="scheduled")
    theirs = shop.order(other.user_id, state="in_progress")
    listing = tech.get("/service-orders").json
    assert [o["id"] for o in listing["items"]] == [mine["id"]] and listing["total"] == 1
    oid = theirs["id"]
    assert tech.get(f"/service-orders/{oid}").status_code == 404
    assert tech.post(f"/service-orders/{oid}/start").status_code == 404
    assert tech.post(f"/service-orders/{oid}/done").status_code == 404
    assert tech.patch(f"/service-orders/{oid}", json={"report": "x"}).status_code == 404
    assert tech.post(f"/service-orders/{oid}/time-entries",
                     json={"hours": "1", "product_id": shop.labour["id"]}).status_code == 404
    assert tech.post(f"/service-orders/{oid}/parts",
                     json={"product_id": shop.part["id"], "quantity": "1"}).status_code == 404
    assert tech.post(f"/service-orders/{oid}/invoice").status_code == 403
    assert other.get(f"/service-orders/{oid}").status_code == 200


def test_schedule_needs_technician_and_date_and_cancel(api, shop):
    office = shop.office
    bare = office.post("/service-orders", json={"partner_id": shop.partner["id"]}).json
    r = office.post(f"/service-orders/{bare['id']}/schedule")
    assert r.status_code == 409 and "technician" in r.json["error"]["message"]
    tech = api("technician")
    r = office.post(f"/service-orders/{bare['id']}/schedule",
                    json={"technician_id": tech.user_id, "scheduled_at": "2026-12-01T08:00:00Z"})
    assert r.status_code == 200 and r.json["state"] == "scheduled"
    assert tech.post(f"/service-orders/{bare['id']}/cancel").status_code == 403
    r = office.post(f"/service-orders/{bare['id']}/cancel")
    assert r.status_code == 200 and r.json["state"] == "cancelled"
    assert office.post(f"/service-orders/{bare['id']}/cancel").status_code == 409
    assert office.post(f"/service-orders/{bare['id']}/start").status_code == 409
    r = office.post(f"/service-orders/{bare['id']}/invoice")
    assert r.status_code == 409 and r.json["error"]["code"] == "order_cancelled"
    assert office.patch(f"/service-orders/{bare['id']}", json={"report": "x"}).status_code == 409


def test_back_office_corrects_hours_and_parts_of_a_done_order(api, shop):
    tech = api("technician")
    order = shop.order(tech.user_id, state="done")
    oid = order["id"]
    entry, part = order["time_entries"][0], order["parts"][0]
    r = shop.office.patch(f"/service-orders/{oid}/time-entries/{entry['id']}", json={"hours": "3"})
    assert r.status_code == 200 and r.json["time_entries"][0]["hours"].startswith("3")
    assert shop.office.patch(f"/service-orders/{oid}/time-entries/{entry['id']}",
                             json={"hours": "0"}).status_code == 422
    r = shop.office.delete(f"/service-orders/{oid}/parts/{part['id']}")
    assert r.status_code == 200 and r.json["parts"] == []
    assert shop.office.delete(f"/service-orders/{oid}/parts/{part['id']}").status_code == 404
    inv = shop.office.post(f"/service-orders/{oid}/invoice").json
    # Once on an invoice, the hours are no longer edited here.
    r = shop.office.patch(f"/service-orders/{oid}/time-entries/{entry['id']}", json={"hours": "1"})
    assert r.status_code == 409
    assert shop.office.delete(f"/service-orders/{oid}/time-entries/{entry['id']}").status_code == 409
    assert inv["lines"][0]["quantity"].startswith("3")
