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
      "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
      "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
      "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"}
# What the assertions read, in each syntax.
PATHS = {
    "cii": {"total": ".//ram:GrandTotalAmount", "prepaid": ".//ram:TotalPrepaidAmount",
            "due": ".//ram:DuePayableAmount", "type": ".//rsm:ExchangedDocument/ram:TypeCode",
            "categories": ".//ram:ApplicableHeaderTradeSettlement/ram:ApplicableTradeTax/ram:CategoryCode",
            "quantities": ".//ram:BilledQuantity",
            "credited": ".//ram:InvoiceReferencedDocument/ram:IssuerAssignedID",
            "buyer_vat": ".//ram:BuyerTradeParty/ram:SpecifiedTaxRegistration/ram:ID"},
    "ubl": {"total": "cac:LegalMonetaryTotal/cbc:TaxInclusiveAmount", "prepaid": "cac:LegalMonetaryTotal/cbc:PrepaidAmount",
            "due": "cac:LegalMonetaryTotal/cbc:PayableAmount", "type": "cbc:InvoiceTypeCode|cbc:CreditNoteTypeCode",
            "categories": "cac:TaxTotal/cac:TaxSubtotal/cac:TaxCategory/cbc:ID",
            "quantities": "*/cbc:InvoicedQuantity|*/cbc:CreditedQuantity",
            "credited": "cac:BillingReference/cac:InvoiceDocumentReference/cbc:ID",
            "buyer_vat": "cac:AccountingCustomerParty/cac:Party/cac:PartyTaxScheme/cbc:CompanyID"},
}


class Doc:
    def __init__(self, syntax: str, xml: bytes):
        self.syntax, self.xml, self.root = syntax, xml, etree.fromstring(xml)

    def all(self, key: str) -> list[str]:
        return [node.text for node in self.root.xpath(PATHS[self.syntax][key], namespaces=NS)]

    def get(self, key: str) -> str | None:
        found = self.all(key)
        return found[0] if found else None


def _xml(setup, invoice_id: int, syntax: str = "cii") -> bytes:
    if syntax == "ubl":
        r = setup.api.get(f"/invoices/{invoice_id}/ubl")
        assert r.status_code == 200 and r.mimetype == "application/xml", r.get_data(as_text=True)[:500]
        return r.data
    r = setup.api.get(f"/invoices/{invoice_id}/facturx")
    assert r.status_code == 200, r.get_data(as_text=True)[:500]
    _, xml = get_xml_from_pdf(r.data, check_xsd=False)
    assert xml_check_xsd(xml, flavor="factur-x", level="en16931")
    return xml


def _check(validator, setup, invoice_id: int) -> Doc:
    xml = _xml(setup, invoice_id, validator.syntax)
    report = validator.validate(xml)
    print(f"EN 16931 ({validator.syntax.upper()}) document {invoice_id}: {report.summary()}")
    for item in report.warnings:
        warnings.warn(f"EN 16931 warning {item}", stacklevel=2)
    assert report.rules_fired > 50, "the rules did not run over the document"
    assert not report.errors, report.summary() + "\n" + xml.decode()
    return Doc(validator.syntax, xml)


def _pay(setup, invoice_id: int, amount: str) -> None:
    r = setup.api.post(f"/invoices/{invoice_id}/payments", json={
        "amount": amount, "date": date.today().isoformat(), "method": "bank_transfer", "reference": "VIR"})
    assert r.status_code == 201, r.json


def test_the_rules_run_and_catch_a_broken_document(rules, setup, seller):
    """The validator can fail: a document whose total does not add up breaks BR-CO-15."""
    inv = setup.posted()
    xml = _xml(setup, inv["id"], rules.syntax)
    tag = b"ram:GrandTotalAmount>" if rules.syntax == "cii" else b'cbc:TaxInclusiveAmount currencyID="EUR">'
    assert tag + b"254.00<" in xml
    report = rules.validate(xml.replace(tag + b"254.00<", tag + b"254.01<"))
    assert "BR-CO-15" in {a.id for a in report.errors}


def test_one_tax_rate(rules, setup, seller):
    inv = setup.posted(lines=[{"product_id": setup.labour["id"], "quantity": "3"}])
    doc = _check(rules, setup, inv["id"])
    assert doc.get("total") == "216.00"


def test_several_tax_rates(rules, setup, seller):
    inv = setup.posted()
    doc = _check(rules, setup, inv["id"])
    assert doc.all("categories") == ["S", "S"]


def test_a_zero_rated_line(rules, setup, seller):
    zero = setup.api.post("/taxes", json={"name": "VAT 0%", "rate": "0"}).json
    product = setup.api.post("/products", json={"code": "BOOK", "name": "Manual", "type": "part",
                                                "unit_price": "12.00", "tax_id": zero["id"]}).json
    inv = setup.posted(lines=[{"product_id": setup.labour["id"], "quantity": "1"},
                              {"product_id": product["id"], "quantity": "2"}])
    doc = _check(rules, setup, inv["id"])
    assert sorted(doc.all("categories")) == ["S", "Z"]


def test_a_line_without_tax(rules, setup, seller):
    inv = setup.posted(lines=[{"description": "Deposit handling", "quantity": "1", "unit_price": "15.00",
                               "tax_id": None}])
    _check(rules, setup, inv["id"])


def test_quantities_with_three_decimals(rules, setup, seller):
    inv = setup.posted(lines=[{"product_id": setup.labour["id"], "quantity": "1.125"},
                              {"product_id": setup.part["id"], "quantity": "2.333"}])
    doc = _check(rules, setup, inv["id"])
    quantities = [Decimal(q) for q in doc.all("quantities")]
    assert quantities == [Decimal("1.125"), Decimal("2.333")]


def test_a_credit_note(rules, setup, seller):
    inv = setup.posted()
    note = setup.api.post(f"/invoices/{inv['id']}/credit-notes",
                          json={"lines": [{"line_id": inv["lines"][0]["id"], "quantity": "1"}],
                                "reason": "One hour not worked"}).json
    assert setup.api.post(f"/invoices/{note['id']}/post").status_code == 200
    doc = _check(rules, setup, note["id"])
    assert doc.get("type") == "381"
    assert doc.get("credited") == inv["number"]  # the invoice it credits is named (BT-25)


def test_a_whole_credit_note_and_the_credited_invoice(rules, setup, seller):
    inv = setup.posted()
    note = setup.api.post(f"/invoices/{inv['id']}/credit-notes", json={"mode": "cancel"}).json
    _check(rules, setup, note["id"])
    doc = _check(rules, setup, inv["id"])  # the invoice, now credited: nothing is due on it
    assert doc.get("due") == "0.00"


def test_a_partly_paid_invoice(rules, setup, seller):
    inv = setup.posted()
    _pay(setup, inv["id"], "100.00")
    doc = _check(rules, setup, inv["id"])
    assert doc.get("prepaid") == "100.00" and doc.get("due") == "154.00"


def test_an_overpaid_invoice(rules, setup, seller):
    inv = setup.posted()
    _pay(setup, inv["id"], "300.00")  # 46.00 becomes the customer's credit
    doc = _check(rules, setup, inv["id"])
    assert doc.get("due") == "0.00"


@pytest.mark.parametrize("vat_id", ["FR32123456789", ""])
def test_a_customer_with_and_without_a_vat_id(rules, setup, seller, vat_id):
    partner = setup.api.post("/partners", json={"name": "Martin & Fils", "vat_id": vat_id, "street": "3 quai Est",
                                                "zip": "69003", "city": "Lyon", "country": "FR"}).json
    inv = setup.posted(partner_id=partner["id"])
    doc = _check(rules, setup, inv["id"])
    assert doc.get("buyer_vat") == (vat_id or None)


def test_applied_customer_credit(rules, setup, seller):
    first = setup.posted()
    _pay(setup, first["id"], "254.00")
    note = setup.api.post(f"/invoices/{first['id']}/credit-notes",
                          json={"lines": [{"line_id": first["lines"][0]["id"], "quantity": "1"}]}).json
    setup.api.post(f"/invoices/{note['id']}/post")
    nxt = setup.posted(invoice_date="2026-03-05")
    assert nxt["credit_applied"] == "72.00"
    doc = _check(rules, setup, nxt["id"])
    assert doc.get("prepaid") == "72.00" and doc.get("due") == "182.00"
    _check(rules, setup, note["id"])
    # the first invoice, paid and then partly credited: paid + credited exceed its total, nothing is due (BR-CO-16)
    doc = _check(rules, setup, first["id"])
    assert doc.get("prepaid") == "254.00" and doc.get("due") == "0.00"


@pytest.mark.parametrize("folder", [None, "/nonexistent/en16931"])
def test_without_the_rules_a_skip_says_how_and_ci_fails(monkeypatch, tmp_path, folder):
    if folder is None:
        monkeypatch.delenv(einvoice.RULES_ENV, raising=False)
    else:
        monkeypatch.setenv(einvoice.RULES_ENV, folder)
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match=r'KONTOR_EN16931_RULES="\$\(cd \.\. && pwd\)/shared/en16931"'):
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


def test_a_discount_line_with_a_negative_price(rules, setup, seller):
    """EN 16931 wants no negative price (BR-27): a discount goes out as a negative quantity at a positive price."""
    inv = setup.posted(lines=[{"product_id": setup.labour["id"], "quantity": "2"},
                              {"description": "Loyalty discount", "quantity": "1", "unit_price": "-10.00",
                               "tax_id": setup.vat20["id"]}])
    assert inv["amount_untaxed"] == "110.00"
    doc = _check(rules, setup, inv["id"])
    assert [Decimal(q) for q in doc.all("quantities")] == [Decimal(2), Decimal(-1)]
    assert doc.get("total") == "132.00"


def test_an_exempt_line_beside_a_zero_rated_one(rules, setup, seller):
    """E needs its exemption reason (BR-E-10) and Z must have none (BR-Z-10): two breakdowns at 0 % (BR-CO-18)."""
    reason = "TVA non applicable, art. 293 B du CGI"
    exempt = setup.api.post("/taxes", json={"name": "Exempt", "rate": "0", "vat_category": "E",
                                            "exemption_reason": reason})
    assert exempt.status_code == 201 and exempt.json["vat_category"] == "E", exempt.json
    zero = setup.api.post("/taxes", json={"name": "Zero rated", "rate": "0"}).json
    assert zero["vat_category"] == "Z"
    inv = setup.posted(lines=[{"description": "Training", "quantity": "1", "unit_price": "80.00",
                               "tax_id": exempt.json["id"]},
                              {"description": "Export part", "quantity": "2", "unit_price": "5.00",
                               "tax_id": zero["id"]},
                              {"product_id": setup.labour["id"], "quantity": "1"}])
    doc = _check(rules, setup, inv["id"])
    assert sorted(doc.all("categories")) == ["E", "S", "Z"]
    assert reason.encode() in doc.xml
    assert reason in _pdf_text(setup.api.get(f"/invoices/{inv['id']}/pdf").data)  # the legal mention, printed


def _pdf_text(content: bytes) -> str:
    import io

    from pypdf import PdfReader
    return " ".join(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages).split())
