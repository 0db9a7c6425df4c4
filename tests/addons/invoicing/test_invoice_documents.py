"""Download the PDF, the Factur-X PDF/A-3, send by email: content, escaping, no network fetch, refusals."""
from __future__ import annotations

import email
import socket

import pytest
from facturx import get_xml_from_pdf, xml_check_xsd
from lxml import etree

from addons.invoicing import documents

EVIL = '<img src="http://127.0.0.1:9/x">Evil & Co'


def _pdf_text(content: bytes) -> str:
    from pypdf import PdfReader
    import io
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def test_pdf_has_the_invoice_and_its_balance(setup):
    inv = setup.posted()
    r = setup.api.get(f"/invoices/{inv['id']}/pdf")
    assert r.status_code == 200 and r.mimetype == "application/pdf"
    assert r.data.startswith(b"%PDF")
    text = _pdf_text(r.data)
    assert "Invoice INV/2026/00001" in text
    assert "Dupont SARL" in text and "Labour" in text and "Valve" in text
    assert "254.00" in text and "Amount due" in text
    assert "VAT 20%" in text and "VAT 10%" in text  # tax summary per rate


def test_pdf_fetches_nothing_and_escapes_the_customer_name(setup, app, monkeypatch):
    a = setup.api
    partner = a.post("/partners", json={"name": EVIL}).json
    inv = setup.posted(partner_id=partner["id"])
    fetched = []
    real = documents.LocalOnlyFetcher

    def spy():
        fetcher = real()
        original = fetcher.fetch

        def fetch(url, headers=None):
            fetched.append(url)
            return original(url, headers)
        fetcher.fetch = fetch
        return fetcher
    monkeypatch.setattr(documents, "LocalOnlyFetcher", spy)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.settimeout(0.2)
    r = a.get(f"/invoices/{inv['id']}/pdf")
    assert r.status_code == 200
    # the name is text, not an <img>: nothing was even asked of the fetcher, and it shows literally
    assert fetched == []
    assert '<img src="http://127.0.0.1:9/x">Evil' in _pdf_text(r.data)
    listener.close()


def test_fetcher_refuses_everything_but_data_urls():
    fetcher = documents.LocalOnlyFetcher()
    for url in ("http://127.0.0.1:9/x", "https://example.com/a.png", "file:///etc/passwd"):
        with pytest.raises(ValueError):
            fetcher(url)
    response = fetcher("data:text/plain;base64,aGk=")
    assert response is not None


def test_facturx_is_pdfa3_with_valid_en16931_xml(setup, seller):
    inv = setup.posted()
    r = setup.api.get(f"/invoices/{inv['id']}/facturx")
    assert r.status_code == 200 and r.mimetype == "application/pdf"
    filename, xml = get_xml_from_pdf(r.data, check_xsd=False)
    assert filename == "factur-x.xml"
    assert xml_check_xsd(xml, flavor="factur-x", level="en16931")
    root = etree.fromstring(xml)
    ns = {"rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
          "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"}
    assert root.findtext(".//rsm:ExchangedDocument/ram:TypeCode", namespaces=ns) == "380"
    assert root.findtext(".//rsm:ExchangedDocument/ram:ID", namespaces=ns) == "INV/2026/00001"
    assert root.findtext(".//ram:GrandTotalAmount", namespaces=ns) == "254.00"
    assert root.findtext(".//ram:DuePayableAmount", namespaces=ns) == "254.00"
    from pypdf import PdfReader
    import io
    catalog = PdfReader(io.BytesIO(r.data)).trailer["/Root"]
    xmp = catalog["/Metadata"].get_object().get_data()
    assert b"<pdfaid:part>3</pdfaid:part>" in xmp  # PDF/A-3 identification in the XMP metadata
    assert b"urn:factur-x:pdfa:CrossIndustryDocument:invoice:1p0#" in xmp and b"EN 16931" in xmp


def test_facturx_of_a_credit_note_is_381_and_refers_to_the_invoice(setup, seller):
    inv = setup.posted()
    note = setup.api.post(f"/invoices/{inv['id']}/credit-notes", json={"mode": "cancel"}).json
    r = setup.api.get(f"/invoices/{note['id']}/facturx")
    assert r.status_code == 200
    _, xml = get_xml_from_pdf(r.data, check_xsd=False)
    assert xml_check_xsd(xml, flavor="factur-x", level="en16931")
    assert b"<ram:TypeCode>381</ram:TypeCode>" in xml
    assert b"INV/2026/00001" in xml and b"CN/2026/00001" in xml


def test_facturx_of_a_draft_is_refused(setup):
    inv = setup.draft()
    r = setup.api.get(f"/invoices/{inv['id']}/facturx")
    assert r.status_code == 409 and r.json["error"]["code"] == "not_posted"


def test_pdf_of_unknown_invoice_is_404_and_technician_is_403(setup, api):
    assert setup.api.get("/invoices/999/pdf").status_code == 404
    inv = setup.posted()
    assert api("technician").get(f"/invoices/{inv['id']}/pdf").status_code == 403


def _parts(envelope):
    message = email.message_from_bytes(envelope.content)
    return message, {part.get_content_type(): part for part in message.walk()}


def test_send_to_the_customer_with_the_pdf_attached(setup, smtp):
    inv = setup.posted()
    r = setup.api.post(f"/invoices/{inv['id']}/send", json={})
    assert r.status_code == 200, r.json
    assert r.json["sent_at"]
    assert len(smtp.messages) == 1
    envelope = smtp.messages[0]
    assert envelope.rcpt_tos == ["compta@dupont.example"]
    message, parts = _parts(envelope)
    assert "INV/2026/00001" in message["Subject"]
    attachment = parts["application/pdf"]
    assert attachment.get_filename() == "INV-2026-00001.pdf"
    assert attachment.get_payload(decode=True).startswith(b"%PDF")
    history = setup.api.client  # the history records who sent it where
    from core.models import AuditLog
    from core.extensions import db
    from sqlalchemy import select
    with history.application.app_context():
        actions = [(h.action, h.details) for h in db.session.scalars(
            select(AuditLog).where(AuditLog.document_type == "invoice", AuditLog.document_id == inv["id"]))]
    assert ("sent", "sent to compta@dupont.example") in actions


def test_send_to_another_address_escapes_the_html_body(setup, smtp):
    partner = setup.api.post("/partners", json={"name": EVIL}).json
    inv = setup.posted(partner_id=partner["id"])
    r = setup.api.post(f"/invoices/{inv['id']}/send", json={"to": "boss@evil.example"})
    assert r.status_code == 200, r.json
    message, parts = _parts(smtp.messages[0])
    html = parts["text/html"].get_payload(decode=True).decode()
    assert "&lt;img" in html and "<img" not in html


def test_send_without_address_is_422_and_sends_nothing(setup, smtp):
    partner = setup.api.post("/partners", json={"name": "No Mail"}).json
    inv = setup.posted(partner_id=partner["id"])
    r = setup.api.post(f"/invoices/{inv['id']}/send", json={})
    assert r.status_code == 422 and "to" in r.json["error"]["fields"]
    assert setup.api.post(f"/invoices/{inv['id']}/send", json={"to": "not-an-email"}).status_code == 422
    assert smtp.messages == []
    assert setup.api.get(f"/invoices/{inv['id']}").json["sent_at"] is None


def test_send_a_draft_is_409_and_wrong_role_403(setup, smtp, api):
    inv = setup.draft()
    assert setup.api.post(f"/invoices/{inv['id']}/send", json={}).status_code == 409
    assert api("bookkeeper").post(f"/invoices/{inv['id']}/send", json={}).status_code == 403
    assert smtp.messages == []


def test_send_when_the_server_is_down_says_so(setup, app):
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    app.config["SMTP_URL"] = f"smtp://127.0.0.1:{port}"
    inv = setup.posted()
    r = setup.api.post(f"/invoices/{inv['id']}/send", json={})
    assert r.status_code == 409 and r.json["error"]["code"] == "smtp_failed"
    assert setup.api.get(f"/invoices/{inv['id']}").json["sent_at"] is None


def test_send_and_download_from_the_invoice_page(setup, smtp, login):
    inv = setup.posted()
    browser = login("back_office")
    page = browser.get(f"/invoices/{inv['id']}").get_data(as_text=True)
    assert "Download PDF" in page and "Send" in page
    r = browser.get(f"/invoices/{inv['id']}/pdf")
    assert r.status_code == 200 and r.mimetype == "application/pdf"
    form = browser.get(f"/invoices/{inv['id']}/send").get_data(as_text=True)
    assert "compta@dupont.example" in form
    r = browser.post(f"/invoices/{inv['id']}/send", data={"to": "other@dupont.example"}, follow_redirects=True)
    assert "sent to other@dupont.example" in r.get_data(as_text=True)
    assert smtp.messages[0].rcpt_tos == ["other@dupont.example"]
    r = browser.post(f"/invoices/{inv['id']}/send", data={"to": "nope"})
    assert r.status_code == 200 and "valid email" in r.get_data(as_text=True).lower()
    assert len(smtp.messages) == 1


def test_ubl_of_an_invoice_and_of_a_credit_note(setup, seller, api):
    a = setup.api
    partner = a.post("/partners", json={"name": EVIL, "email": "x@y.example"}).json
    inv = setup.posted(partner_id=partner["id"])
    r = a.get(f"/invoices/{inv['id']}/ubl")
    assert r.status_code == 200 and r.mimetype == "application/xml"
    assert 'filename="INV-2026-00001-ubl.xml"' in r.headers["Content-Disposition"]
    root = etree.fromstring(r.data)
    ns = {"cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
          "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"}
    assert root.tag == "{urn:oasis:names:specification:ubl:schema:xsd:Invoice-2}Invoice"
    assert root.findtext("cbc:InvoiceTypeCode", namespaces=ns) == "380"
    assert root.findtext("cac:AccountingCustomerParty/cac:Party/cac:PartyName/cbc:Name", namespaces=ns) == EVIL
    assert root.findtext("cac:LegalMonetaryTotal/cbc:PayableAmount", namespaces=ns) == "254.00"
    note = a.post(f"/invoices/{inv['id']}/credit-notes", json={"mode": "cancel"}).json
    root = etree.fromstring(a.get(f"/invoices/{note['id']}/ubl").data)
    assert root.tag == "{urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2}CreditNote"
    assert root.findtext("cbc:CreditNoteTypeCode", namespaces=ns) == "381"
    assert root.findtext("cac:BillingReference/cac:InvoiceDocumentReference/cbc:ID", namespaces=ns) == inv["number"]


def test_ubl_of_a_draft_is_refused_and_technician_is_403(setup, seller, api, login):
    inv = setup.draft()
    r = setup.api.get(f"/invoices/{inv['id']}/ubl")
    assert r.status_code == 409 and r.json["error"]["code"] == "not_posted"
    posted = setup.posted()
    assert api("technician").get(f"/invoices/{posted['id']}/ubl").status_code == 403
    page = login("back_office").get(f"/invoices/{posted['id']}/ubl")
    assert page.status_code == 200 and page.mimetype == "application/xml" and b"<cbc:ID>INV/2026/00001<" in page.data
