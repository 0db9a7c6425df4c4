"""portal's pages: the customer's documents, balance and credit; the public signed-link page; link revocation."""
from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_login import current_user

from addons.invoicing import documents
from addons.invoicing import services as invoicing
from core.errors import DomainError
from core.listing import paginate, sorted_query
from core.security import require

from . import services
from .forms import ApplyCreditForm

bp = Blueprint("portal", __name__)

SORTS = {"date": services.Invoice.invoice_date, "due": services.Invoice.due_date,
         "number": services.Invoice.number, "total": services.Invoice.amount_total,
         "amount_due": services.Invoice.amount_due}


def install_landing(app) -> None:
    """Customers log in at the same /login: send them from the back-office dashboard to their portal."""
    @app.before_request
    def customer_landing():
        if request.endpoint == "core.dashboard" and current_user.is_authenticated \
                and current_user.role == "customer":
            return redirect(url_for("portal.home"))
        return None


@bp.route("/portal")
@require("portal.view")
def home():
    partner = services.portal_partner(current_user)
    kind = request.args.get("type") or None
    open_only = request.args.get("open") in ("1", "on", "true")
    query = services.documents_query(partner.id, kind, open_only)
    page = paginate(sorted_query(query, SORTS, "-date"))
    return render_template("portal/home.html", partner=partner, page=page, kind=kind, open_only=open_only,
                           balance=services.balance(partner.id))


@bp.route("/portal/invoices/<int:invoice_id>")
@require("portal.view")
def document(invoice_id: int):
    partner = services.portal_partner(current_user)
    invoice = services.get_document(partner.id, invoice_id)
    return render_template("portal/document.html", invoice=invoice, partner=partner, shared_token=None,
                           balance=services.balance(partner.id), form=ApplyCreditForm(),
                           taxes=documents.tax_summary(invoice))


@bp.route("/portal/invoices/<int:invoice_id>/pdf")
@require("portal.view")
def pdf(invoice_id: int) -> Response:
    partner = services.portal_partner(current_user)
    return _pdf(services.get_document(partner.id, invoice_id))


@bp.route("/portal/invoices/<int:invoice_id>/apply-credit", methods=["POST"])
@require("portal.apply_credit")
def apply_credit(invoice_id: int):
    partner = services.portal_partner(current_user)
    form = ApplyCreditForm()
    if not form.validate_on_submit():
        flash("The amount is not valid: give a number such as 25.00, or leave it empty.", "error")
    else:
        try:
            invoice, applied = services.apply_credit(partner.id, invoice_id, (form.amount.data or "").strip() or None)
            flash(f"{applied} {invoice.currency} of your credit applied to {invoice.number}.", "success")
        except DomainError as exc:
            if exc.status == 404:
                raise
            flash(exc.message, "error")
            from core.extensions import db
            db.session.rollback()
    return redirect(url_for("portal.document", invoice_id=invoice_id))


# -- the signed link: public by design (the token is the key) ---------------------------------------------------------
@bp.route("/portal/i/<token>")
def shared(token: str):
    try:
        invoice = services.open_link(token)
    except services.LinkRefused as exc:
        return render_template("portal/link_refused.html", message=exc.message), 404
    return render_template("portal/document.html", invoice=invoice, partner=invoice.partner, shared_token=token,
                           balance=None, form=None, taxes=documents.tax_summary(invoice))


@bp.route("/portal/i/<token>/pdf")
def shared_pdf(token: str):
    try:
        invoice = services.open_link(token)
    except services.LinkRefused as exc:
        return render_template("portal/link_refused.html", message=exc.message), 404
    return _pdf(invoice)


def _pdf(invoice) -> Response:
    return Response(documents.render_pdf(invoice), mimetype="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{documents.filename(invoice)}"',
                             "Cache-Control": "private, no-store"})


# -- back office ----------------------------------------------------------------------------------------------------
@bp.route("/invoices/<int:invoice_id>/portal-links/revoke", methods=["POST"])
@require("portal.links.revoke")
def revoke(invoice_id: int):
    invoice = invoicing.get_invoice(invoice_id)
    count = services.revoke_links(invoice, current_user)
    if count:
        flash(f"{count} link{'s' if count > 1 else ''} to {invoice.number} withdrawn: they no longer open it.",
              "success")
    else:
        flash("There was no active link to withdraw.", "info")
    return redirect(url_for("invoicing.invoice", invoice_id=invoice_id))
