"""Which account each product type, product, tax and journal books to: read as one document, changed in one go.

The page (views.mapping) and the API (GET/PUT /accounting/mapping) both use these.
"""
from __future__ import annotations

from sqlalchemy import select

from core.extensions import db

from . import services
from .models import Journal, ProductAccount, ProductTypeAccount, TaxAccount


def current_mapping() -> dict:
    from addons.payments.models import PaymentMethod
    return {
        "product_types": {r.product_type: r.account.code for r in db.session.scalars(select(ProductTypeAccount))},
        "products": [{"product_id": r.product_id, "account_code": r.account.code}
                     for r in db.session.scalars(select(ProductAccount).order_by(ProductAccount.product_id))],
        "taxes": [{"tax_id": r.tax_id, "account_code": r.account.code}
                  for r in db.session.scalars(select(TaxAccount).order_by(TaxAccount.tax_id))],
        "journals": [{"code": j.code, "account_code": j.account.code if j.account else None}
                     for j in db.session.scalars(select(Journal).order_by(Journal.code))],
        "payment_methods": [{"code": m.code, "journal": m.journal_code}
                            for m in db.session.scalars(select(PaymentMethod).order_by(PaymentMethod.code))],
    }


def change_mapping(changes: dict) -> dict:
    """Apply what ``changes`` gives (same shape as current_mapping, any part); all or nothing (the request)."""
    for product_type, code in (changes.get("product_types") or {}).items():
        services.set_product_type_account(product_type, code)
    for item in changes.get("products") or []:
        services.set_product_account(item["product_id"], item.get("account_code"))
    for item in changes.get("taxes") or []:
        services.set_tax_account(item["tax_id"], item["account_code"])
    for item in changes.get("journals") or []:
        services.set_journal_account(item["code"], item.get("account_code"))
    return current_mapping()
