"""Shared set-up for invoicing tests: a customer, taxes and products through the API."""
from __future__ import annotations

import pytest


class Setup:
    def __init__(self, a):
        self.api = a
        self.partner = a.post("/partners", json={"name": "Dupont SARL", "email": "compta@dupont.example",
                                                 "city": "Lyon", "zip": "69001", "street": "1 rue de la Paix"}).json
        taxes = a.get("/taxes").json["items"]
        self.vat20 = next(t for t in taxes if t["rate"].startswith("20"))
        self.vat10 = next(t for t in taxes if t["rate"].startswith("10"))
        self.labour = a.post("/products", json={"code": "LAB", "name": "Labour", "type": "labour", "unit": "h",
                                                "unit_price": "60.00", "tax_id": self.vat20["id"]}).json
        self.part = a.post("/products", json={"code": "VALVE", "name": "Valve", "type": "part", "unit": "unit",
                                              "unit_price": "25.00", "tax_id": self.vat10["id"]}).json

    def draft(self, lines=None, partner_id=None, **extra) -> dict:
        body = {"partner_id": partner_id or self.partner["id"], "invoice_date": extra.pop("invoice_date", "2026-03-01"),
                "lines": lines or [{"product_id": self.labour["id"], "quantity": "2"},
                                   {"product_id": self.part["id"], "quantity": "4"}], **extra}
        r = self.api.post("/invoices", json=body)
        assert r.status_code == 201, r.json
        return r.json

    def posted(self, **kw) -> dict:
        inv = self.draft(**kw)
        r = self.api.post(f"/invoices/{inv['id']}/post")
        assert r.status_code == 200, r.json
        return r.json


@pytest.fixture
def setup(api):
    """Labour 2 h × 60 (VAT 20 %) = 144.00 and 4 valves × 25 (VAT 10 %) = 110.00: a draft totals 254.00."""
    return Setup(api("back_office"))



SELLER = {"name": "Kontor Services SARL", "vat_id": "FR40303265045", "siren": "303265045",
          "street": "12 rue des Artisans", "zip": "69002", "city": "Lyon", "country": "FR",
          "iban": "FR76 3000 6000 0112 3456 7890 189"}


@pytest.fixture
def seller(api):
    """A seller EN 16931 accepts, set through PATCH /company: VAT ID and SIREN (BR-S-02, BR-CO-26), an address,
    an IBAN. Without it a Factur-X is refused (409 seller_identifiers_missing)."""
    r = api("admin").patch("/company", json=SELLER)
    assert r.status_code == 200, r.json
    assert r.json["missing_for_einvoice"] == {}
    return r.json


@pytest.fixture(scope="session")
def en16931_cii():
    """The CEN EN 16931 rules for CII, compiled once per test session (tests/einvoice.py); without the rules
    folder a skip that says how to set it, under CI a failure."""
    from tests.einvoice import load_validator
    return load_validator("cii")


@pytest.fixture(scope="session")
def en16931_ubl():
    """The same rules for UBL 2.1 (EN16931-UBL-validation.xslt), compiled once per test session."""
    from tests.einvoice import load_validator
    return load_validator("ubl")


@pytest.fixture(params=["cii", "ubl"])
def rules(request):
    """Each case twice: the Factur-X CII and the UBL 2.1 document, each against its syntax's rules."""
    return request.getfixturevalue(f"en16931_{request.param}")
