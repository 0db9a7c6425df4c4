"""Taxes and products: the catalogue invoice lines draw from (re-exported by services)."""
from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from core.errors import ValidationError
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


def create_tax(name: str, rate) -> Tax:
    name = (name or "").strip()
    if not name:
        raise ValidationError("A tax needs a name.", fields={"name": ["Required."]})
    rate = _decimal(rate, "rate")
    if rate > 100:
        raise ValidationError("A tax rate is a percent between 0 and 100.", fields={"rate": ["0 to 100."]})
    tax = Tax(name=name, rate=rate)
    db.session.add(tax)
    db.session.flush()
    return tax


def update_tax(tax: Tax, name: str, rate) -> Tax:
    """Rename a tax or change its rate; lines already on invoices keep the rate they were computed with."""
    name = (name or "").strip()
    if not name:
        raise ValidationError("A tax needs a name.", fields={"name": ["Required."]})
    rate = _decimal(rate, "rate")
    if rate > 100:
        raise ValidationError("A tax rate is a percent between 0 and 100.", fields={"rate": ["0 to 100."]})
    tax.name, tax.rate = name, rate
    db.session.flush()
    return tax


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


