"""payments' pages (thin: parse, check role, call a service, render)."""
from __future__ import annotations

from datetime import date

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from addons.invoicing import services as invoicing
from core.errors import DomainError
from core.extensions import db
from core.listing import paginate
from core.models import Partner, company
from core.money import format_money
from core.partners import get_partner
from core.security import require
from core.views import form_failed

from . import services
from .forms import MethodForm, PartnerPaymentForm, PaymentForm
from .models import DIRECTIONS
from .queries import payment_query, sort_clause, with_allocations

bp = Blueprint("payments", __name__)
FILTERS = ("partner_id", "method", "direction", "date_from", "date_to", "q", "invoice_id")


def _filters() -> dict:
    out = {k: request.args.get(k, "").strip() for k in FILTERS if request.args.get(k, "").strip()}
    for key in ("partner_id", "invoice_id"):
        if key in out and not out[key].isdigit():
            out.pop(key)
    for key in ("date_from", "date_to"):
        if key in out:
            try:
                out[key] = date.fromisoformat(out[key])
            except ValueError:
                flash(f"{key.replace('_', ' ').capitalize()} is not a date (YYYY-MM-DD); it was ignored.", "warning")
                out.pop(key)
    if out.get("direction") not in (None, *DIRECTIONS):
        out.pop("direction")
    return out


@bp.route("/payments")
@require("payments.read")
def payments():
    filters = _filters()
    sort = request.args.get("sort")
    query = with_allocations(payment_query(filters, sort)).order_by(*sort_clause(sort))
    result = paginate(query)
    numbers = services.invoice_numbers(a.invoice_id for p in result.items for a in p.allocations)
    partners = db.session.execute(select(Partner.id, Partner.name).order_by(Partner.name).limit(500)).all()
    credit = invoicing.available_credit(int(filters["partner_id"])) if filters.get("partner_id") else 0
    return render_template("payments/payments.html", page=result, filters=filters, numbers=numbers,
                           partners=partners, methods=services.methods(active_only=False),
                           currency=company().currency, credit=credit)


@bp.route("/payments/<int:payment_id>")
@require("payments.read")
def payment(payment_id: int):
    record = services.get_payment(payment_id)
    numbers = services.invoice_numbers(a.invoice_id for a in record.allocations)
    entry_url = None
    if record.journal_entry_id and "accounting.entry" in current_app.view_functions:
        entry_url = url_for("accounting.entry", entry_id=record.journal_entry_id)
    from core import audit
    return render_template("payments/payment.html", payment=record, numbers=numbers, entry_url=entry_url,
                           currency=company().currency, history=audit.history(record),
                           credit=invoicing.available_credit(record.partner_id))


def _already(nonce: str, fallback: str):
    db.session.rollback()
    flash("This payment was already registered.", "warning")
    payment_id = services.nonce_payment(nonce)
    return redirect(url_for("payments.payment", payment_id=payment_id) if payment_id else fallback)


@bp.route("/invoices/<int:invoice_id>/payments/new", methods=["GET", "POST"])
@require("payments.register")
def register(invoice_id: int):
    invoice = invoicing.get_invoice(invoice_id)
    back = url_for("invoicing.invoice", invoice_id=invoice.id)
    if invoice.state != "posted" or invoice.type != "invoice":
        flash("Payments are registered on posted invoices. Post the invoice first.", "error")
        return redirect(back)
    form = PaymentForm(methods=services.methods())
    if request.method == "GET":
        form.amount.data = str(invoice.amount_due)
        form.method.data = "bank_transfer"
    if form.validate_on_submit():
        try:
            claim = services.claim_nonce(form.nonce.data)
            paid = services.pay_invoice(invoice.id, form.amount.data, form.date.data, form.method.data,
                                        form.reference.data)
            claim.payment_id = paid.id
            db.session.flush()
        except services.AlreadyRegistered:
            return _already(form.nonce.data, back)
        except IntegrityError:  # a twin of this form committed the same nonce while we waited
            return _already(form.nonce.data, back)
        except DomainError as exc:
            form_failed(form, exc)
        else:
            currency = company().currency
            note = (f" {format_money(paid.unallocated, currency)} became customer credit."
                    if paid.unallocated > 0 else "")
            flash(f"Payment of {format_money(paid.amount, currency)} registered.{note}", "success")
            return redirect(back)
    return render_template("payments/register.html", form=form, invoice=invoice, back=back,
                           title=f"Register payment · {invoice.number}")


@bp.route("/payments/new", methods=["GET", "POST"])
@require("payments.register")
def new_payment():
    """One payment for several invoices of a customer: applied to the oldest due first, the rest to credit."""
    form = PartnerPaymentForm(methods=services.methods())
    form.partner_id.choices = [(0, "Choose a customer")] + [
        (pid, name) for pid, name in db.session.execute(select(Partner.id, Partner.name).order_by(Partner.name))]
    if request.method == "GET":
        form.partner_id.data = request.args.get("partner_id", 0, type=int)
        form.method.data = "bank_transfer"
    partner_id = form.partner_id.data or 0
    open_invoices = services.open_invoices(partner_id) if partner_id else []
    if request.method == "GET" and open_invoices:
        form.amount.data = str(sum(i.amount_due for i in open_invoices))
    if form.validate_on_submit():
        try:
            claim = services.claim_nonce(form.nonce.data)
            paid = services.register_payment(partner_id or None, form.amount.data, form.date.data, form.method.data,
                                             form.reference.data)
            claim.payment_id = paid.id
            db.session.flush()
        except (services.AlreadyRegistered, IntegrityError):
            return _already(form.nonce.data, url_for("payments.payments"))
        except DomainError as exc:
            form_failed(form, exc)
        else:
            currency = company().currency
            note = (f" {format_money(paid.unallocated, currency)} became customer credit."
                    if paid.unallocated > 0 else "")
            flash(f"Payment of {format_money(paid.amount, currency)} registered on "
                  f"{len(paid.allocations)} invoice(s).{note}", "success")
            return redirect(url_for("payments.payment", payment_id=paid.id))
    return render_template("payments/new_payment.html", form=form, open_invoices=open_invoices,
                           currency=company().currency,
                           credit=invoicing.available_credit(partner_id) if partner_id else 0)


@bp.route("/partners/<int:partner_id>/refunds/new", methods=["GET", "POST"])
@require("payments.refund")
def refund(partner_id: int):
    partner = get_partner(partner_id)
    invoice_id = request.args.get("invoice_id", type=int)
    back = (url_for("invoicing.invoice", invoice_id=invoice_id) if invoice_id
            else url_for("payments.payments", partner_id=partner.id))
    available = invoicing.available_credit(partner.id)
    form = PaymentForm(methods=services.methods())
    if request.method == "GET":
        form.amount.data = str(available)
        form.method.data = "bank_transfer"
    if form.validate_on_submit():
        try:
            claim = services.claim_nonce(form.nonce.data)
            paid = services.refund(partner.id, form.amount.data, form.date.data, form.method.data,
                                   form.reference.data)
            claim.payment_id = paid.id
            db.session.flush()
        except (services.AlreadyRegistered, IntegrityError):
            return _already(form.nonce.data, back)
        except DomainError as exc:
            form_failed(form, exc)
        else:
            flash(f"Refund of {format_money(paid.amount, company().currency)} to {partner.name} registered.", "success")
            return redirect(back)
    return render_template("payments/refund.html", form=form, partner=partner, available=available, back=back,
                           currency=company().currency)


@bp.route("/payment-methods", methods=["GET", "POST"])
@require("payments.methods")
def methods():
    form = MethodForm()
    if form.validate_on_submit():
        try:
            method = services.create_method(form.code.data, form.name.data, form.journal.data)
            flash(f"Payment method {method.name} added.", "success")
            return redirect(url_for("payments.methods"))
        except DomainError as exc:
            form_failed(form, exc)
    return render_template("payments/methods.html", form=form, methods=services.methods(active_only=False))


@bp.route("/payment-methods/<code>/toggle", methods=["POST"])
@require("payments.methods")
def toggle_method(code: str):
    from .models import PaymentMethod
    method = db.session.get(PaymentMethod, code)
    services.set_method_active(code, not (method.active if method else True))
    flash(f"Payment method {code} {'enabled' if db.session.get(PaymentMethod, code).active else 'disabled'}.",
          "success")
    return redirect(url_for("payments.methods"))
