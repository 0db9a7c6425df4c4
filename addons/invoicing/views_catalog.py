"""Products and taxes pages: list, search, create, edit."""
from __future__ import annotations

import marshmallow as ma
from flask import flash, redirect, render_template, request, url_for
from sqlalchemy import or_, select
from sqlalchemy.orm import undefer_group

from core.errors import DomainError, NotFound
from core.extensions import db
from core.listing import ListSpec, order_by, paginate, register_list, sorted_query
from core.security import require
from core.views import form_failed

from . import services
from .forms import ProductForm, TaxForm
from .models import PRODUCT_TYPES, Product, Tax
from .views import bp

PRODUCT_SORTS = {"code": Product.code, "name": Product.name, "type": Product.type, "price": Product.unit_price}


class ProductFilters(ma.Schema):
    """The products page's filters (``?q=`` code or name, ``?type=``)."""
    q = ma.fields.String()
    type = ma.fields.String(validate=ma.validate.OneOf(PRODUCT_TYPES))


def product_query(filters: dict, sort: str | None = None):
    query = select(Product).where(Product.active.is_(True))
    q = (filters.get("q") or "").strip()
    if q:
        # A substring of code or name: the (small) products table is scanned, in code order.
        like = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(or_(Product.code.ilike(like, escape="\\"), Product.name.ilike(like, escape="\\")))
    if filters.get("type"):
        query = query.where(Product.type == filters["type"])
    return query


register_list(ListSpec(name="products", table=Product.__tablename__, query=product_query,
                       order=lambda key: order_by(PRODUCT_SORTS, key, "code"), filters=lambda: ProductFilters,
                       sorts=lambda: PRODUCT_SORTS, substring=("q",)))


@bp.route("/products")
@require("products.read")
def products():
    q = (request.args.get("q") or "").strip()
    kind = request.args.get("type")
    query = product_query({"q": q, "type": kind})
    return render_template("invoicing/products.html", page=paginate(sorted_query(query, PRODUCT_SORTS, "code")),
                           q=q, kind=kind)


@bp.route("/products/new", methods=["GET", "POST"])
@bp.route("/products/<int:product_id>/edit", methods=["GET", "POST"])
@require("products.write")
def product_form(product_id: int | None = None):
    product = db.session.get(Product, product_id) if product_id else None
    if product_id and product is None:
        raise NotFound(f"There is no product {product_id}.")
    form = ProductForm(obj=product)
    form.tax_id.choices = [(0, "No tax")] + [(t.id, t.name) for t in db.session.scalars(
        select(Tax).where(Tax.active.is_(True)).order_by(Tax.id))]
    if request.method == "GET" and product is not None:
        form.tax_id.data = product.tax_id or 0
    if form.validate_on_submit():
        values = {"code": form.code.data, "name": form.name.data, "type": form.type.data, "unit": form.unit.data,
                  "unit_price": form.unit_price.data, "tax_id": form.tax_id.data or None}
        try:
            saved = services.save_product(product, **values)
            flash(f"Product {saved.code} saved.", "success")
            return redirect(url_for("invoicing.products"))
        except DomainError as exc:
            form_failed(form, exc)
    return render_template("invoicing/product_form.html", form=form, product=product)


@bp.route("/taxes", methods=["GET", "POST"])
@require("products.read", POST="products.write")
def taxes():
    form = TaxForm()
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                tax = services.create_tax(form.name.data, form.rate.data, form.vat_category.data or None,
                                          form.exemption_reason.data or "")
                flash(f"Tax {tax.name} added.", "success")
                return redirect(url_for("invoicing.taxes"))
            except DomainError as exc:
                form_failed(form, exc)
    rows = list(db.session.scalars(select(Tax).where(Tax.active.is_(True)).options(undefer_group("einvoice"))
                                   .order_by(Tax.rate.desc(), Tax.id)))
    return render_template("invoicing/taxes.html", taxes=rows, form=form)


@bp.route("/taxes/<int:tax_id>/edit", methods=["GET", "POST"])
@require("products.write")
def tax_form(tax_id: int):
    tax = db.session.get(Tax, tax_id)
    if tax is None:
        raise NotFound(f"There is no tax {tax_id}.")
    form = TaxForm(obj=tax)
    if form.validate_on_submit():
        try:
            services.update_tax(tax, form.name.data, form.rate.data, form.vat_category.data or None,
                                form.exemption_reason.data or "")
            flash(f"Tax {tax.name} saved.", "success")
            return redirect(url_for("invoicing.taxes"))
        except DomainError as exc:
            form_failed(form, exc)
    return render_template("invoicing/tax_form.html", form=form, tax=tax)
