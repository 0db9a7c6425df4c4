"""In the browser: the technician does the job on a phone; the back office invoices it, posts the invoice and
registers the payment."""
from __future__ import annotations

import re
from datetime import datetime, timezone

from playwright.sync_api import expect

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}


def _log_in(page, login, password):
    page.goto("/login")
    page.fill("input[name=login]", login)
    page.fill("input[name=password]", password)
    page.get_by_role("button", name="Log in").click()


def _order_for(app, technician_login):
    from sqlalchemy import select

    from addons.field_service import services as fs
    from addons.invoicing import services as inv
    from core.extensions import db
    from core.models import User
    from core.partners import create_partner
    with app.app_context():
        tech = db.session.scalar(select(User).where(User.login == technician_login))
        partner = create_partner(name="Boulangerie Dupont", street="12 rue Pasteur", zip="69003", city="Lyon")
        tax = inv.create_tax("VAT 20 % test", "20")
        inv.save_product(None, code="LAB-STD", name="Labour, standard rate", type="labour", unit="h",
                         unit_price="65.00", tax_id=tax.id)
        inv.save_product(None, code="PRT-VALVE", name="Thermostatic valve", type="part", unit_price="38.50",
                         tax_id=tax.id)
        noon = datetime.now(timezone.utc).replace(hour=12, minute=0, second=0, microsecond=0)
        order = fs.create_order(partner.id, "Boiler leaking", "", tech.id, noon)
        fs.schedule(order)
        db.session.commit()
        return order.number


def test_technician_does_the_job_and_the_back_office_invoices_it(app, open_page, person, screenshot):
    tech_login, password = person("technician", name="Julien Moreau")
    office_login, _ = person("back_office", name="Camille Martin")
    number = _order_for(app, tech_login)

    phone = open_page(viewport=PHONE)
    _log_in(phone, tech_login, password)
    phone.get_by_text("Menu").click()
    phone.locator("nav.nav").get_by_role("link", name="My orders").click()
    expect(phone.get_by_role("heading", name="My orders today")).to_be_visible()
    screenshot(phone, "fs-my-orders-phone")
    phone.locator("a.job-card", has_text=number).first.click()
    phone.get_by_role("button", name="Start").click()
    expect(phone.get_by_role("alert")).to_contain_text("started")
    phone.fill("input[name=t-hours]", "2")
    phone.fill("input[name=t-description]", "Diagnosis and repair")
    phone.get_by_role("button", name="Log hours").click()
    expect(phone.get_by_role("alert")).to_contain_text("2 h logged")
    phone.locator("select[name=p-product_id]").select_option(label="PRT-VALVE · Thermostatic valve")
    phone.fill("input[name=p-quantity]", "1")
    phone.get_by_role("button", name="Add part").click()
    expect(phone.get_by_role("alert")).to_contain_text("Part added")
    phone.fill("textarea[name=r-report]", "Valve replaced, no more leak.")
    phone.get_by_role("button", name="Save report").click()
    expect(phone.get_by_role("alert")).to_contain_text("Report saved")
    expect(phone.locator("body")).not_to_contain_text("€")
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the order page scrolls sideways on a phone ({width}px)"
    screenshot(phone, "fs-order-phone")
    phone.get_by_role("button", name="Mark done").click()
    expect(phone.get_by_role("alert")).to_contain_text("is done")
    expect(phone.locator("h1 .badge")).to_have_text("Done")

    desk = open_page(viewport=DESKTOP)
    _log_in(desk, office_login, password)
    desk.locator("nav.nav").get_by_role("link", name="Service orders").click()
    desk.get_by_role("link", name=number).click()
    expect(desk.locator("#report")).to_contain_text("Valve replaced, no more leak.")
    screenshot(desk, "fs-order-done-desktop")
    desk.get_by_role("button", name="Create invoice").click()
    expect(desk).to_have_url(re.compile(r"/invoices/\d+$"))
    expect(desk.locator("body")).to_contain_text("Labour")
    expect(desk.locator("body")).to_contain_text(f"Service order {number}")
    expect(desk.locator("body")).to_contain_text("€202.20")  # (2 × 65 + 38.50) × 1.2
    screenshot(desk, "fs-draft-invoice-desktop")
    desk.get_by_role("button", name="Post", exact=True).click()
    expect(desk.locator("h1")).to_contain_text("INV/")
    if app.extensions["kontor"].has("payments"):
        desk.get_by_role("link", name="Register payment").click()
        desk.fill("input[name=amount]", "202.20")
        desk.get_by_role("button", name="Register payment").click()
        expect(desk.locator("body")).to_contain_text("Paid")
    desk.get_by_role("link", name=number).first.click()
    expect(desk.locator("h1 .badge")).to_have_text("Invoiced")
