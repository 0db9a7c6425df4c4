"""Products from CSV: ``python run.py import products FILE.csv`` and the Import page (core.imports does the
reading, preview and savepoints; this file says which columns and which service: catalog.save_product)."""
from __future__ import annotations

from decimal import Decimal, InvalidOperation

from sqlalchemy import select

from core.errors import ValidationError
from core.extensions import db
from core.imports import Importer, import_page
from core.security import require

from .catalog import save_product
from .models import Tax
from .views import bp

COLUMNS = ("code", "name", "type", "unit", "unit_price", "tax")


def _tax_id(value: str) -> int | None:
    """The ``tax`` cell: a tax's name ("VAT 20%") or its rate ("20", "5.5"); empty for none."""
    value = (value or "").strip()
    if not value:
        return None
    taxes = list(db.session.scalars(select(Tax).where(Tax.active.is_(True))))
    by_name = [t for t in taxes if t.name.lower() == value.lower()]
    if by_name:
        return by_name[0].id
    try:
        rate = Decimal(value.rstrip("%").strip().replace(",", "."))
        by_rate = [t for t in taxes if t.rate == rate]
    except InvalidOperation:
        by_rate = []
    if by_rate:
        return by_rate[0].id
    raise ValidationError(f"No tax named or rated {value!r}; use one of: {', '.join(t.name for t in taxes)}.",
                          fields={"tax": ["Unknown tax."]})


def _create_product(values: dict):
    data = {k: v for k, v in values.items() if k in COLUMNS and k != "tax" and v != ""}
    data.setdefault("code", "")
    data.setdefault("name", "")
    if "unit_price" in data:
        data["unit_price"] = data["unit_price"].replace(",", ".") if data["unit_price"].count(",") == 1 \
            and "." not in data["unit_price"] else data["unit_price"]
    if "tax" in values:
        data["tax_id"] = _tax_id(values["tax"])
    return save_product(None, **data)


PRODUCTS = Importer(kind="products", label="products", columns=COLUMNS, required=("code", "name"),
                    create=_create_product, describe=lambda p: f"{p.code} {p.name}", endpoint="invoicing.import_products",
                    example="code;name;type;unit;unit_price;tax\nLAB-STD;Labour;labour;h;65.00;VAT 20%")


@bp.route("/products/import", methods=["GET", "POST"])
@require("products.write")
def import_products():
    return import_page("products")
