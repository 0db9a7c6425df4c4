"""Every kind of document Kontor emits passes the official EN 16931 business rules (CEN schematron for CII, run with
Saxon-HE), not only the Factur-X XSD: zero fatal failures; the warnings are printed in the test output.

Each case is a posted document built through the API and read back from the Factur-X PDF the customer gets."""
from __future__ import annotations

import warnings
from datetime import date
from decimal import Decimal

import pytest
from facturx import get_xml_from_pdf, xml_check_xsd
from lxml import etree

from tests import einvoice

NS = {"rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
      "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"}


def _xml(setup, invoice_id: int) -> bytes:
    r = setup.api.get(f"/invoices/{invoice_id}/facturx")
    assert r.status_code == 200, r.get_data(as_text=True)[:500]
    _, xml = get_xml_from_pdf(r.data, check_xsd=False)
    assert xml_check_xsd(xml, flavor="factur-x", level="en16931")
    return xml


def _check(validator, setup, invoice_id: int) -> etree._Element:
    xml = _xml(setup, invoice_id)
    report = validator.validate(xml)
    print(f"EN 16931 (CII) invoice {invoice_id}: {report.summary()}")
    for item in report.warnings:
        warnings.warn(f"EN 16931 warning {item}", stacklevel=2)
    assert report.rules_fired > 50, "the rules did not run over the document"
    assert not report.errors, report.summary() + "\n" + xml.decode()
    return etree.fromstring(xml)


def _total(root, tag: str) -> str:
    return root.findtext(f".//ram:SpecifiedTradeSettlementHeaderMonetarySummation/ram:{tag}", namespaces=NS)


def _pay(setup, invoice_id: int, amount: str) -> None:
    r = setup.api.post(f"/invoices/{invoice_id}/payments", json={
        "amount": amount, "date": date.today().isoformat(), "method": "bank_transfer", "reference": "VIR"})
    assert r.status_code == 201, r.json


def test_the_rules_run_and_catch_a_broken_document(en16931_cii, setup, seller):
    """The validator can fail: a document whose total does not add up breaks BR-CO-15."""
    inv = setup.posted()
    xml = _xml(setup, inv["id"]).replace(b"<ram:GrandTotalAmount>254.00<", b"<ram:GrandTotalAmount>254.01<")
    report = en16931_cii.validate(xml)
    assert "BR-CO-15" in {a.id for a in report.errors}


def test_one_tax_rate(en16931_cii, setup, seller):
    inv = setup.posted(lines=[{"product_id": setup.labour["id"], "quantity": "3"}])
    root = _check(en16931_cii, setup, inv["id"])
    assert _total(root, "GrandTotalAmount") == "216.00"


def test_several_tax_rates(en16931_cii, setup, seller):
    inv = setup.posted()
    root = _check(en16931_cii, setup, inv["id"])
    rates = root.findall(".//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax", namespaces=NS)
    assert len(rates) == 2


def test_a_zero_rated_line(en16931_cii, setup, seller):
    zero = setup.api.post("/taxes", json={"name": "VAT 0%", "rate": "0"}).json
    product = setup.api.post("/products", json={"code": "BOOK", "name": "Manual", "type": "part",
                                                "unit_price": "12.00", "tax_id": zero["id"]}).json
    inv = setup.posted(lines=[{"product_id": setup.labour["id"], "quantity": "1"},
                              {"product_id": product["id"], "quantity": "2"}])
    root = _check(en16931_cii, setup, inv["id"])
    codes = {t.findtext("ram:CategoryCode", namespaces=NS) for t in
             root.findall(".//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax", namespaces=NS)}
    assert codes == {"S", "Z"}


def test_a_line_without_tax(en16931_cii, setup, seller):
    inv = setup.posted(lines=[{"description": "Deposit handling", "quantity": "1", "unit_price": "15.00",
                               "tax_id": None}])
    _check(en16931_cii, setup, inv["id"])


def test_quantities_with_three_decimals(en16931_cii, setup, seller):
    inv = setup.posted(lines=[{"product_id": setup.labour["id"], "quantity": "1.125"},
                              {"product_id": setup.part["id"], "quantity": "2.333"}])
    root = _check(en16931_cii, setup, inv["id"])
    quantities = [Decimal(q.text) for q in root.findall(".//ram:BilledQuantity", namespaces=NS)]
    assert quantities == [Decimal("1.125"), Decimal("2.333")]


def test_a_credit_note(en16931_cii, setup, seller):
    inv = setup.posted()
    note = setup.api.post(f"/invoices/{inv['id']}/credit-notes",
                          json={"lines": [{"line_id": inv["lines"][0]["id"], "quantity": "1"}],
                                "reason": "One hour not worked"}).json
    assert setup.api.post(f"/invoices/{note['id']}/post").status_code == 200
    root = _check(en16931_cii, setup, note["id"])
    assert root.findtext(".//rsm:ExchangedDocument/ram:TypeCode", namespaces=NS) == "381"
    # the invoice it credits is named (BT-25)
    assert root.findtext(".//ram:InvoiceReferencedDocument/ram:IssuerAssignedID", namespaces=NS) == inv["number"]


def test_a_whole_credit_note_and_the_credited_invoice(en16931_cii, setup, seller):
    inv = setup.posted()
    note = setup.api.post(f"/invoices/{inv['id']}/credit-notes", json={"mode": "cancel"}).json
    _check(en16931_cii, setup, note["id"])
    root = _check(en16931_cii, setup, inv["id"])  # the invoice, now credited: nothing is due on it
    assert _total(root, "DuePayableAmount") == "0.00"


def test_a_partly_paid_invoice(en16931_cii, setup, seller):
    inv = setup.posted()
    _pay(setup, inv["id"], "100.00")
    root = _check(en16931_cii, setup, inv["id"])
    assert _total(root, "TotalPrepaidAmount") == "100.00" and _total(root, "DuePayableAmount") == "154.00"


def test_an_overpaid_invoice(en16931_cii, setup, seller):
    inv = setup.posted()
    _pay(setup, inv["id"], "300.00")  # 46.00 becomes the customer's credit
    root = _check(en16931_cii, setup, inv["id"])
    assert _total(root, "DuePayableAmount") == "0.00"


@pytest.mark.parametrize("vat_id", ["FR32123456789", ""])
def test_a_customer_with_and_without_a_vat_id(en16931_cii, setup, seller, vat_id):
    partner = setup.api.post("/partners", json={"name": "Martin & Fils", "vat_id": vat_id, "street": "3 quai Est",
                                                "zip": "69003", "city": "Lyon", "country": "FR"}).json
    inv = setup.posted(partner_id=partner["id"])
    root = _check(en16931_cii, setup, inv["id"])
    buyer_vat = root.findtext(".//ram:BuyerTradeParty/ram:SpecifiedTaxRegistration/ram:ID", namespaces=NS)
    assert buyer_vat == (vat_id or None)


def test_applied_customer_credit(en16931_cii, setup, seller):
    first = setup.posted()
    _pay(setup, first["id"], "254.00")
    note = setup.api.post(f"/invoices/{first['id']}/credit-notes",
                          json={"lines": [{"line_id": first["lines"][0]["id"], "quantity": "1"}]}).json
    setup.api.post(f"/invoices/{note['id']}/post")
    nxt = setup.posted(invoice_date="2026-03-05")
    assert nxt["credit_applied"] == "72.00"
    root = _check(en16931_cii, setup, nxt["id"])
    assert _total(root, "TotalPrepaidAmount") == "72.00" and _total(root, "DuePayableAmount") == "182.00"
    _check(en16931_cii, setup, note["id"])
    # the first invoice, paid and then partly credited: paid + credited exceed its total, nothing is due (BR-CO-16)
    root = _check(en16931_cii, setup, first["id"])
    assert _total(root, "TotalPrepaidAmount") == "254.00" and _total(root, "DuePayableAmount") == "0.00"


@pytest.mark.parametrize("folder", [None, "/nonexistent/en16931"])
def test_without_the_rules_a_skip_says_how_and_ci_fails(monkeypatch, tmp_path, folder):
    if folder is None:
        monkeypatch.delenv(einvoice.RULES_ENV, raising=False)
    else:
        monkeypatch.setenv(einvoice.RULES_ENV, folder)
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="KONTOR_EN16931_RULES=../shared/en16931"):
        einvoice.load_validator("cii")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true"):
        einvoice.load_validator("cii")


def test_an_unreadable_rules_file_is_refused(monkeypatch, tmp_path):
    (tmp_path / "EN16931-CII-validation.xslt").write_bytes(b"")
    monkeypatch.setenv(einvoice.RULES_ENV, str(tmp_path))
    with pytest.raises(einvoice.RulesMissing, match="empty"):
        einvoice.rules_file("cii")


def test_the_svrl_report_sorts_fatal_and_warnings():
    svrl = f"""<svrl:schematron-output xmlns:svrl="{einvoice.SVRL}">
      <svrl:fired-rule context="x"/>
      <svrl:failed-assert id="BR-01" flag="fatal" location="/a"><svrl:text>An invoice shall have a
        specification identifier.</svrl:text></svrl:failed-assert>
      <svrl:failed-assert id="BR-02" location="/b"><svrl:text>No flag is fatal.</svrl:text></svrl:failed-assert>
      <svrl:failed-assert id="BR-CL-23" flag="warning" location="/c"><svrl:text>Unit code.</svrl:text>
      </svrl:failed-assert></svrl:schematron-output>"""
    report = einvoice.parse_svrl(svrl)
    assert [a.id for a in report.errors] == ["BR-01", "BR-02"] and [a.id for a in report.warnings] == ["BR-CL-23"]
    assert report.rules_fired == 1 and "specification identifier" in report.errors[0].text
