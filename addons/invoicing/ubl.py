"""An invoice or credit note as UBL 2.1 in the EN 16931 syntax binding (the one Peppol BIS Billing 3.0 builds on).

The same document as the Factur-X CII (documents.facturx_xml): the same seller checks, tax breakdown and totals, so
both pass the same CEN business rules (the tests run EN16931-UBL-validation.xslt over this). Written with lxml in
the order the UBL 2.1 schema wants the elements (UBL is a sequence: a misplaced element makes it invalid).
"""
from __future__ import annotations

from decimal import Decimal

from lxml import etree

from core import company as company_rules
from core.errors import DomainError
from core.extensions import db
from core.models import company
from core.money import money_str

from .models import Invoice

NS_INVOICE = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
NS_CREDIT_NOTE = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"
CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"


def _decimal(value: Decimal) -> str:
    """A quantity or percent without exponent or trailing zeros: 1.1250 → 1.125, 20.0000 → 20."""
    text = format(Decimal(value).normalize(), "f")
    return text


class _Writer:
    def __init__(self, currency: str):
        self.currency = currency

    def cbc(self, parent, tag: str, text=None, **attrs):
        node = etree.SubElement(parent, f"{{{CBC}}}{tag}", {k.replace("_", ""): v for k, v in attrs.items()})
        if text is not None:
            node.text = str(text)
        return node

    def cac(self, parent, tag: str):
        return etree.SubElement(parent, f"{{{CAC}}}{tag}")

    def amount(self, parent, tag: str, value) -> None:
        self.cbc(parent, tag, money_str(value, self.currency), currencyID=self.currency)

    def party(self, parent, *, name, street, city, zip_, country, vat_id, legal_id=None, endpoint=None,
              email=None) -> None:
        party = self.cac(parent, "Party")
        if endpoint:  # BT-34 / BT-49, the electronic address; a scheme is required with it (BR-62, BR-63)
            self.cbc(party, "EndpointID", endpoint[1], schemeID=endpoint[0])
        party_name = self.cac(party, "PartyName")
        self.cbc(party_name, "Name", name)
        address = self.cac(party, "PostalAddress")
        if street:
            self.cbc(address, "StreetName", street)
        if city:
            self.cbc(address, "CityName", city)
        if zip_:
            self.cbc(address, "PostalZone", zip_)
        self.cbc(self.cac(address, "Country"), "IdentificationCode", country)
        if vat_id:
            scheme = self.cac(party, "PartyTaxScheme")
            self.cbc(scheme, "CompanyID", vat_id)
            self.cbc(self.cac(scheme, "TaxScheme"), "ID", "VAT")
        legal = self.cac(party, "PartyLegalEntity")
        self.cbc(legal, "RegistrationName", name)
        if legal_id:
            self.cbc(legal, "CompanyID", legal_id[1], schemeID=legal_id[0])
        if email:
            self.cbc(self.cac(party, "Contact"), "ElectronicMail", email)

    def tax_category(self, parent, tag: str, category: str, rate: Decimal, reason: str = "") -> None:
        node = self.cac(parent, tag)
        self.cbc(node, "ID", category)
        self.cbc(node, "Percent", _decimal(rate))
        if reason:  # E only (BR-E-10)
            self.cbc(node, "TaxExemptionReason", reason)
        self.cbc(self.cac(node, "TaxScheme"), "ID", "VAT")


def ubl_xml(invoice: Invoice) -> bytes:
    """UBL 2.1 Invoice (type 380) or CreditNote (type 381), EN 16931 customization."""
    from .documents import (
        UNIT_CODES,
        line_vat_category,
        prepaid_amount,
        quantity_and_price,
        tax_summary,
    )

    if invoice.state != "posted":
        raise DomainError("Only a posted invoice has a UBL document; post it first.", code="not_posted")
    company_rules.require_seller_identifiers()
    settings = company()
    partner = invoice.partner
    credit = invoice.is_credit_note
    w = _Writer(invoice.currency)
    root_ns = NS_CREDIT_NOTE if credit else NS_INVOICE
    root = etree.Element(f"{{{root_ns}}}{'CreditNote' if credit else 'Invoice'}",
                         nsmap={None: root_ns, "cac": CAC, "cbc": CBC})
    w.cbc(root, "CustomizationID", "urn:cen.eu:en16931:2017")
    w.cbc(root, "ID", invoice.number)
    w.cbc(root, "IssueDate", invoice.invoice_date.isoformat())
    if not credit and invoice.due_date:
        w.cbc(root, "DueDate", invoice.due_date.isoformat())  # a UBL 2.1 credit note has it in PaymentMeans
    w.cbc(root, "CreditNoteTypeCode" if credit else "InvoiceTypeCode", "381" if credit else "380")
    if invoice.reason:
        w.cbc(root, "Note", invoice.reason[:500])
    w.cbc(root, "DocumentCurrencyCode", invoice.currency)
    if credit and invoice.credited_invoice_id:
        original = db.session.get(Invoice, invoice.credited_invoice_id)
        reference = w.cac(w.cac(root, "BillingReference"), "InvoiceDocumentReference")
        w.cbc(reference, "ID", original.number)
        w.cbc(reference, "IssueDate", original.invoice_date.isoformat())

    seller_country = (settings.country or "FR").upper()
    siren = ("0002", settings.siren) if settings.siren else None  # 0002: SIRENE (ISO 6523 ICD)
    w.party(w.cac(root, "AccountingSupplierParty"), name=settings.name, street=settings.street,
            city=settings.city, zip_=settings.zip, country=seller_country, vat_id=settings.vat_id,
            legal_id=siren, endpoint=siren or (("EM", settings.email) if settings.email else None),
            email=settings.email or None)
    w.party(w.cac(root, "AccountingCustomerParty"), name=partner.name, street=partner.street, city=partner.city,
            zip_=partner.zip, country=(partner.country or "FR").upper(), vat_id=partner.vat_id,
            endpoint=("EM", partner.email) if partner.email else None, email=partner.email or None)

    means = w.cac(root, "PaymentMeans")
    w.cbc(means, "PaymentMeansCode", "58" if settings.iban else "1")
    if credit and invoice.due_date:
        w.cbc(means, "PaymentDueDate", invoice.due_date.isoformat())
    if settings.iban:
        w.cbc(w.cac(means, "PayeeFinancialAccount"), "ID", settings.iban.replace(" ", ""))
    w.cbc(w.cac(root, "PaymentTerms"), "Note", f"Payment within {invoice.payment_terms_days} days")

    tax_total = w.cac(root, "TaxTotal")
    w.amount(tax_total, "TaxAmount", invoice.amount_tax)
    for row in tax_summary(invoice):
        subtotal = w.cac(tax_total, "TaxSubtotal")
        w.amount(subtotal, "TaxableAmount", row["base"])
        w.amount(subtotal, "TaxAmount", row["tax"])
        w.tax_category(subtotal, "TaxCategory", row["category"], row["rate"], row["exemption_reason"])

    totals = w.cac(root, "LegalMonetaryTotal")
    w.amount(totals, "LineExtensionAmount", invoice.amount_untaxed)
    w.amount(totals, "TaxExclusiveAmount", invoice.amount_untaxed)
    w.amount(totals, "TaxInclusiveAmount", invoice.amount_total)
    w.amount(totals, "PrepaidAmount", prepaid_amount(invoice))
    w.amount(totals, "PayableAmount", invoice.amount_due)

    for position, line in enumerate(invoice.lines, start=1):
        node = w.cac(root, "CreditNoteLine" if credit else "InvoiceLine")
        w.cbc(node, "ID", position)
        quantity, price = quantity_and_price(line)
        unit = (line.product.unit if line.product else "").lower()
        w.cbc(node, "CreditedQuantity" if credit else "InvoicedQuantity", _decimal(quantity),
              unitCode=UNIT_CODES.get(unit, "C62"))
        w.amount(node, "LineExtensionAmount", line.amount_untaxed)
        item = w.cac(node, "Item")
        w.cbc(item, "Name", (line.description or (line.product.name if line.product else "Item"))[:500])
        if line.product is not None:
            w.cbc(w.cac(item, "SellersItemIdentification"), "ID", line.product.code)
        w.tax_category(item, "ClassifiedTaxCategory", line_vat_category(line), line.tax_rate)
        w.amount(w.cac(node, "Price"), "PriceAmount", price)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
