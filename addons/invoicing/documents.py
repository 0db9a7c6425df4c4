"""An invoice's documents: the PDF (WeasyPrint), the Factur-X PDF/A-3 (drafthorse CII XML, EN 16931) and the email.

Everything a customer typed is escaped by Jinja's autoescape; WeasyPrint may load nothing but data: URLs, so a
name such as ``<img src="http://...">`` can neither show up as markup nor make the server fetch anything.
"""
from __future__ import annotations

import smtplib
from collections import defaultdict
from decimal import Decimal
from email.message import EmailMessage
from urllib.parse import urlparse

from flask import current_app, render_template
from sqlalchemy import select

from core import audit
from core import company as company_rules
from core.errors import DomainError, ValidationError
from core.extensions import db
from core.models import company, utcnow
from core.money import ZERO

from . import services
from .credit_notes import credit_notes_of
from .models import Invoice, Settlement

UNIT_CODES = {"h": "HUR", "hour": "HUR", "hours": "HUR", "day": "DAY", "km": "KMT", "kg": "KGM", "m": "MTR",
              "l": "LTR"}


class LocalOnlyFetcher:
    """WeasyPrint url_fetcher: data: URLs only; any other URL (http, file, ...) is refused without a request."""

    def __new__(cls):
        from weasyprint.urls import URLFetcher

        class _Fetcher(URLFetcher):
            def fetch(self, url, headers=None):
                if not url.lower().startswith("data:"):
                    raise ValueError(f"Refused to fetch {url[:80]}: documents load no external resources.")
                return super().fetch(url, headers)

        return _Fetcher(allowed_protocols=("data",), allow_redirects=False, timeout=1)


def tax_summary(invoice: Invoice) -> list[dict]:
    """Per VAT category and rate: base and tax, sums of the rounded lines (a zero-rated and an exempt line at 0 %
    are two rows: EN 16931 wants one breakdown per category and rate, BR-CO-18)."""
    rows: dict[tuple, dict] = defaultdict(lambda: {"base": ZERO, "tax": ZERO, "name": ""})
    for line in invoice.lines:
        category = line_vat_category(line)
        reason = line.tax.exemption_reason if line.tax is not None and category == "E" else ""
        row = rows[(line.tax_rate, category, reason)]
        row["base"] += line.amount_untaxed
        row["tax"] += line.amount_tax
        row["name"] = line.tax.name if line.tax else ("No tax" if not line.tax_rate else f"{line.tax_rate}%")
    return [{"rate": rate, "category": category, "exemption_reason": reason, **values}
            for (rate, category, reason), values in sorted(rows.items())]


def document_context(invoice: Invoice) -> dict:
    settings = company()
    credited = db.session.get(Invoice, invoice.credited_invoice_id) if invoice.credited_invoice_id else None
    payments = list(db.session.scalars(select(Settlement).where(Settlement.invoice_id == invoice.id)
                                       .order_by(Settlement.id)))
    return {"invoice": invoice, "company": settings, "partner": invoice.partner, "taxes": tax_summary(invoice),
            "credited_invoice": credited, "settlements": payments,
            "credit_notes": credit_notes_of(invoice) if invoice.type == "invoice" else [],
            "balance": services.partner_balance(invoice.partner_id),
            "title": title(invoice)}


def title(invoice: Invoice) -> str:
    kind = "Credit note" if invoice.is_credit_note else "Invoice"
    return f"{kind} {invoice.number}" if invoice.number else f"Draft {kind.lower()}"


def filename(invoice: Invoice, suffix: str = "", ext: str = "pdf") -> str:
    base = (invoice.number or f"draft-{invoice.id}").replace("/", "-")
    return f"{base}{suffix}.{ext}"


def render_pdf(invoice: Invoice, pdf_variant: str | None = None) -> bytes:
    from weasyprint import HTML
    html = render_template("invoicing/pdf/invoice.html", **document_context(invoice))
    return HTML(string=html, base_url=None, url_fetcher=LocalOnlyFetcher()).write_pdf(pdf_variant=pdf_variant)


# -- Factur-X ---------------------------------------------------------------------------------------------------
def vat_category(rate: Decimal, category: str = "") -> str:
    """EN 16931 VAT category (BT-118/BT-151): the tax's own (S, Z, E), else S above 0 % and Z (zero rated, no
    exemption reason: BR-Z-10) at 0 %."""
    return category or ("S" if rate > 0 else "Z")


def line_vat_category(line) -> str:
    # from the line's rate (its snapshot), so a tax made before categories whose rate changed stays consistent
    return vat_category(line.tax_rate, line.tax.vat_category if line.tax is not None else "")


def quantity_and_price(line) -> tuple[Decimal, Decimal]:
    """BT-129 and BT-146. EN 16931 refuses a negative net price (BR-27): a discount line (negative unit price) goes
    out as a negative quantity at the positive price, which gives the same (negative) line amount."""
    if line.unit_price < 0:
        return -line.quantity, -line.unit_price
    return line.quantity, line.unit_price


def prepaid_amount(invoice: Invoice) -> Decimal:
    """BT-113. BR-CO-16: due = total - prepaid. What was paid or credited beyond the total is the customer's credit,
    not part of this document, so the prepaid amount stops at the total (a paid invoice later credited is one)."""
    return invoice.amount_total - invoice.amount_due


def facturx_xml(invoice: Invoice) -> bytes:
    """The invoice as CII XML, Factur-X EN 16931 profile (TypeCode 380 invoice, 381 credit note)."""
    from drafthorse.models.accounting import ApplicableTradeTax
    from drafthorse.models.document import Document
    from drafthorse.models.note import IncludedNote
    from drafthorse.models.party import TaxRegistration
    from drafthorse.models.payment import PaymentMeans, PaymentTerms
    from drafthorse.models.tradelines import LineItem

    if invoice.state != "posted":
        raise DomainError("Only a posted invoice has a Factur-X document; post it first.", code="not_posted")
    # EN 16931 rejects an invoice whose seller has no VAT ID (BR-S-02) or no identifier at all (BR-CO-26):
    # refuse it here (409 seller_identifiers_missing) rather than hand the customer a document their system bounces.
    company_rules.require_seller_identifiers()
    settings = company()
    partner = invoice.partner
    currency = invoice.currency
    doc = Document()
    doc.context.guideline_parameter.id = "urn:cen.eu:en16931:2017"
    doc.header.id = invoice.number
    doc.header.type_code = "381" if invoice.is_credit_note else "380"
    doc.header.issue_date_time = invoice.invoice_date
    if invoice.reason:
        note = IncludedNote()
        note.content = invoice.reason[:500]
        doc.header.notes.add(note)

    seller = doc.trade.agreement.seller
    seller.name = settings.name
    seller.address.line_one = settings.street or None
    seller.address.postcode = settings.zip or None
    seller.address.city_name = settings.city or None
    seller.address.country_id = settings.country or "FR"
    if settings.siren:
        seller.legal_organization.id = ("0002", settings.siren)
    if settings.vat_id:
        registration = TaxRegistration()
        registration.id = ("VA", settings.vat_id)
        seller.tax_registrations.add(registration)
    buyer = doc.trade.agreement.buyer
    buyer.name = partner.name
    buyer.address.line_one = partner.street or None
    buyer.address.postcode = partner.zip or None
    buyer.address.city_name = partner.city or None
    buyer.address.country_id = partner.country or "FR"
    if partner.vat_id:
        registration = TaxRegistration()
        registration.id = ("VA", partner.vat_id)
        buyer.tax_registrations.add(registration)

    settlement = doc.trade.settlement
    settlement.currency_code = currency
    if invoice.is_credit_note and invoice.credited_invoice_id:
        original = db.session.get(Invoice, invoice.credited_invoice_id)
        settlement.invoice_referenced_document.issuer_assigned_id = original.number
        settlement.invoice_referenced_document.issue_date_time = original.invoice_date
    means = PaymentMeans()
    if settings.iban:
        means.type_code = "58"
        means.payee_account.iban = settings.iban.replace(" ", "")
    else:
        means.type_code = "1"
    settlement.payment_means.add(means)
    terms = PaymentTerms()
    terms.description = f"Payment within {invoice.payment_terms_days} days"
    terms.due = invoice.due_date
    settlement.terms.add(terms)

    for position, line in enumerate(invoice.lines, start=1):
        item = LineItem()
        item.document.line_id = str(position)
        item.product.name = (line.description or (line.product.name if line.product else "Item"))[:500]
        if line.product is not None:
            item.product.seller_assigned_id = line.product.code
        quantity, price = quantity_and_price(line)
        item.agreement.net.amount = price
        unit = (line.product.unit if line.product else "").lower()
        item.delivery.billed_quantity = (quantity, UNIT_CODES.get(unit, "C62"))
        item.settlement.trade_tax.type_code = "VAT"
        item.settlement.trade_tax.category_code = line_vat_category(line)
        item.settlement.trade_tax.rate_applicable_percent = line.tax_rate
        item.settlement.monetary_summation.total_amount = line.amount_untaxed
        doc.trade.items.add(item)

    for row in tax_summary(invoice):
        tax = ApplicableTradeTax()
        tax.calculated_amount = row["tax"]
        tax.basis_amount = row["base"]
        tax.type_code = "VAT"
        if row["exemption_reason"]:  # E only (BR-E-10); S and Z have none (BR-S-10, BR-Z-10)
            tax.exemption_reason = row["exemption_reason"]
        tax.category_code = row["category"]
        tax.rate_applicable_percent = row["rate"]
        settlement.trade_tax.add(tax)

    summation = settlement.monetary_summation
    summation.line_total = invoice.amount_untaxed
    summation.charge_total = ZERO
    summation.allowance_total = ZERO
    summation.tax_basis_total = invoice.amount_untaxed
    summation.tax_total = (invoice.amount_tax, currency)
    summation.grand_total = invoice.amount_total
    summation.prepaid_total = prepaid_amount(invoice)
    summation.due_amount = invoice.amount_due
    return doc.serialize(schema="FACTUR-X_EN16931")


def ubl_xml(invoice: Invoice) -> bytes:
    from .ubl import ubl_xml as build
    return build(invoice)


def facturx_pdf(invoice: Invoice) -> bytes:
    """PDF/A-3 with the CII XML embedded (factur-x.xml), checked against the XSD on the way."""
    from facturx import generate_from_binary
    xml = facturx_xml(invoice)
    pdf = render_pdf(invoice, pdf_variant="pdf/a-3b")
    return generate_from_binary(pdf, xml, flavor="factur-x", level="en16931", check_xsd=True,
                                pdf_metadata={"author": company().name, "keywords": "Factur-X",
                                              "title": title(invoice), "subject": title(invoice)},
                                lang="en")


# -- email ---------------------------------------------------------------------------------------------------------
def send(invoice: Invoice, to: str | None = None) -> str:
    """Email the invoice's PDF to ``to`` (default: the customer's email) over SMTP; return the address."""
    if invoice.state != "posted":
        raise DomainError("Post the invoice before sending it.", code="not_posted")
    address = (to or invoice.partner.email or "").strip()
    if not address or "@" not in address or any(c in address for c in "\r\n,;<>"):
        raise ValidationError("There is no email address to send to: give one, or add it to the customer.",
                              code="no_address", fields={"to": ["An email address is required."]})
    url = current_app.config.get("SMTP_URL") or ""
    parsed = urlparse(url)
    if parsed.scheme not in ("smtp", "smtps") or not parsed.hostname:
        raise DomainError("Email is not set up: set KONTOR_SMTP_URL to smtp://host:port.", code="smtp_not_configured")
    settings = company()
    message = EmailMessage()
    message["From"] = current_app.config.get("SMTP_FROM") or settings.email
    message["To"] = address
    message["Subject"] = f"{title(invoice)} from {settings.name}"
    links = [link for group in services.hook().invoicing_email_links(invoice=invoice) for link in (group or [])]
    context = {"invoice": invoice, "company": settings, "title": title(invoice), "links": links}
    message.set_content(render_template("invoicing/email.txt", **context))
    message.add_alternative(render_template("invoicing/email.html", **context), subtype="html")
    message.add_attachment(render_pdf(invoice), maintype="application", subtype="pdf",
                           filename=filename(invoice))
    smtp_class = smtplib.SMTP_SSL if parsed.scheme == "smtps" else smtplib.SMTP
    try:
        with smtp_class(parsed.hostname, parsed.port or (465 if parsed.scheme == "smtps" else 25),
                        timeout=20) as smtp:
            if parsed.username:
                smtp.login(parsed.username, parsed.password or "")
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        raise DomainError(f"The mail server refused or could not be reached ({exc.__class__.__name__}); "
                          "nothing was sent. Try again later.", code="smtp_failed") from None
    invoice.sent_at = utcnow()
    audit.record(invoice, "sent", f"sent to {address}")
    db.session.flush()
    return address
