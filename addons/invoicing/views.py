"""invoicing's pages (thin: parse, check role, call a service, render)."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from core import audit
from core.listing import paginate
from core.security import require

from . import services
from .models import Product
from .queries import invoice_query, sort_clause

bp = Blueprint("invoicing", __name__)


def _filters() -> dict:
    args = request.args
    return {k: args.get(k) for k in ("state", "payment_state", "status", "type", "partner_id", "date_from",
                                      "date_to", "q") if args.get(k)}


@bp.route("/invoices")
@require("invoicing.read")
def invoices():
    filters = _filters()
    query = invoice_query(filters).order_by(*sort_clause(request.args.get("sort")))
    return render_template("invoicing/invoices.html", page=paginate(query), filters=filters)


@bp.route("/invoices/<int:invoice_id>")
@require("invoicing.read")
def invoice(invoice_id: int):
    record = services.get_invoice(invoice_id)
    hook = services.hook()
    user = current_user
    actions = [a for group in hook.invoicing_invoice_actions(invoice=record, user=user) for a in (group or [])]
    panels = [p for group in hook.invoicing_invoice_panels(invoice=record, user=user) for p in (group or [])]
    return render_template("invoicing/invoice.html", invoice=record, history=audit.history(record),
                           actions=actions, panels=panels)


@bp.route("/invoices/<int:invoice_id>/post", methods=["POST"])
@require("invoicing.post")
def post(invoice_id: int):
    record = services.post_invoice(services.get_invoice(invoice_id))
    flash(f"Invoice {record.number} posted.", "success")
    return redirect(url_for("invoicing.invoice", invoice_id=record.id))


@bp.route("/products")
@require("products.read")
def products():
    rows = paginate(select(Product).where(Product.active.is_(True)).order_by(Product.code))
    return render_template("invoicing/products.html", page=rows)


