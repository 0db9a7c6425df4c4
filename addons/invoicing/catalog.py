"""Taxes and products: the catalogue invoice lines draw from (re-exported by services)."""
from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from core.errors import DomainError, ValidationError
from core.extensions import db
from core.models import company
from core.money import MAX_AMOUNT, ZERO, exact_money, to_decimal

from .models import PRODUCT_TYPES, Product, Tax


def _decimal(value, field: str, minimum: Decimal | None = ZERO, allow_zero: bool = True) -> Decimal:
    try:
        result = to_decimal(value)
    except ValueError:
        raise ValidationError(f"{field.replace('_', ' ').capitalize()} must be a number.",
                              fields={field: ["Not a number."]}) from None
    if not result.is_finite():
        raise ValidationError(f"{field} must be a finite number.", fields={field: ["Not a number."]})
    if minimum is not None and (result < minimum or (not allow_zero and result == minimum)):
        raise ValidationError(f"{field.replace('_', ' ').capitalize()} must be "
                              f"{'more than' if not allow_zero else 'at least'} {minimum}.",
                              fields={field: ["Out of range."]})
    if abs(result) > MAX_AMOUNT:  # a quantity too: the line it makes is checked again (services.line_amounts)
        raise ValidationError(f"{field.replace('_', ' ').capitalize()} is too large.",
                              fields={field: [f"At most {MAX_AMOUNT}."]})
    return result


# EN 16931 VAT categories (UNCL 5305) Kontor can issue, with what each needs. The others (reverse charge AE,
# intra-community K, export G, not subject O) need buyer or delivery data Kontor does not keep yet.
VAT_CATEGORIES = {"S": "Standard rate", "Z": "Zero rated", "E": "Exempt from VAT"}


def _tax_values(name, rate, vat_category, exemption_reason) -> tuple[str, Decimal, str, str]:
    name = (name or "").strip()
    if not name:
        raise ValidationError("A tax needs a name.", fields={"name": ["Required."]})
    rate = _decimal(rate, "rate")
    if rate > 100:
        raise ValidationError("A tax rate is a percent between 0 and 100.", fields={"rate": ["0 to 100."]})
    category = (vat_category or "").strip().upper() or ("S" if rate > 0 else "Z")
    reason = " ".join((exemption_reason or "").split())
    if category not in VAT_CATEGORIES:
        raise ValidationError(f"{category} is not a VAT category Kontor issues (S, Z or E).",
                              fields={"vat_category": ["S, Z or E."]})
    if category == "S" and rate <= 0:  # BR-S-05
        raise ValidationError("A standard-rate tax has a rate above 0 %; at 0 % it is zero rated (Z) or "
                              "exempt (E).", fields={"vat_category": ["S needs a rate above 0."]})
    if category in ("Z", "E") and rate != 0:  # BR-Z-05, BR-E-05
        raise ValidationError(f"A {VAT_CATEGORIES[category].lower()} tax has a rate of 0 %.",
                              fields={"rate": ["0 for this category."]})
    if category == "E" and not reason:  # BR-E-10
        raise ValidationError("An exempt tax needs its legal reason, printed on the invoice (e.g. \"TVA non "
                              "applicable, art. 293 B du CGI\").", fields={"exemption_reason": ["Required."]})
    if category != "E" and reason:  # BR-S-10, BR-Z-10
        raise ValidationError("Only an exempt tax (E) has an exemption reason.",
                              fields={"exemption_reason": ["Only for category E."]})
    if len(reason) > 300:
        raise ValidationError("The exemption reason is at most 300 characters.",
                              fields={"exemption_reason": ["At most 300 characters."]})
    return name, rate, category, reason


def create_tax(name: str, rate, vat_category: str | None = None, exemption_reason: str = "") -> Tax:
    name, rate, category, reason = _tax_values(name, rate, vat_category, exemption_reason)
    tax = Tax(name=name, rate=rate, vat_category=category, exemption_reason=reason)
    db.session.add(tax)
    db.session.flush()
    return tax


def update_tax(tax: Tax, name: str, rate, vat_category: str | None = None,
               exemption_reason: str | None = None) -> Tax:
    """Rename a tax or change its rate; lines already on invoices keep the rate they were computed with.

    Their e-invoices read the category and the exemption reason from the tax, so those cannot change once the tax
    is on a posted document (409): a posted invoice's e-invoice must keep saying what it said. A tax made before
    categories (vat_category "") keeps following each line's rate unless a category is given."""
    given = (vat_category or "").strip()
    name, rate, category, reason = _tax_values(
        name, rate, given or tax.vat_category, tax.exemption_reason if exemption_reason is None else exemption_reason)
    if tax.vat_category or given:
        before = (tax.vat_category or ("S" if tax.rate > 0 else "Z"), tax.exemption_reason or "")
        if (category, reason) != before and _on_posted_documents(tax):
            raise DomainError("This tax is on posted documents: its VAT category and exemption reason cannot "
                              "change any more. Make a new tax instead.", code="tax_in_use",
                              fields={"vat_category": ["On posted documents."]})
        tax.vat_category, tax.exemption_reason = category, reason
    tax.name, tax.rate = name, rate
    db.session.flush()
    return tax


def _on_posted_documents(tax: Tax) -> bool:
    from .models import Invoice, InvoiceLine
    return db.session.scalar(select(InvoiceLine.id).join(Invoice, Invoice.id == InvoiceLine.invoice_id)
                             .where(InvoiceLine.tax_id == tax.id, Invoice.number.is_not(None)).limit(1)) is not None


def get_tax(tax_id: int) -> Tax:
    tax = db.session.get(Tax, tax_id)
    if tax is None:
        raise ValidationError(f"There is no tax {tax_id}.", fields={"tax_id": ["Unknown tax."]})
    return tax


def save_product(product: Product | None = None, **values) -> Product:
    """Create (product None) or change a product."""
    product = product or Product()
    if "code" in values or product.id is None:
        code = (values.get("code") or "").strip()
        if not code:
            raise ValidationError("A product needs a code.", fields={"code": ["Required."]})
        clash = db.session.scalar(select(Product.id).where(Product.code == code, Product.id != (product.id or 0)))
        if clash:
            raise ValidationError(f"The code {code} is already used by another product.", code="duplicate_code",
                                  fields={"code": ["Already used."]})
        product.code = code
    if "name" in values or product.id is None:
        name = (values.get("name") or "").strip()
        if not name:
            raise ValidationError("A product needs a name.", fields={"name": ["Required."]})
        product.name = name
    if "type" in values:
        if values["type"] not in PRODUCT_TYPES:
            raise ValidationError(f"The type is one of {', '.join(PRODUCT_TYPES)}.", fields={"type": ["Unknown."]})
        product.type = values["type"]
    if "unit" in values:
        product.unit = (values["unit"] or "unit").strip()[:20]
    if "unit_price" in values:
        product.unit_price = exact_money(_decimal(values["unit_price"], "unit_price"), "unit_price",
                                         company().currency)
    if "tax_id" in values:
        product.tax_id = get_tax(values["tax_id"]).id if values["tax_id"] is not None else None
    if product.id is None:
        product.type = product.type or "service"
        product.unit = product.unit or "unit"
        product.unit_price = product.unit_price if product.unit_price is not None else ZERO
        db.session.add(product)
    db.session.flush()
    return product


def get_product(product_id: int) -> Product:
    product = db.session.get(Product, product_id)
    if product is None:
        raise ValidationError(f"There is no product {product_id}.", fields={"product_id": ["Unknown product."]})
    return product


