"""accounting's pages: journal entries, manual entries, the chart and its mapping, lock date and period close.
Reports are in report_views.py."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from core import audit
from core.errors import DomainError
from core.extensions import db
from core.listing import PER_PAGE, Page, csv_response, page_number
from core.security import can, require
from core.views import form_failed

from . import closing, services
from .forms import AccountForm, EntryForm, LockDateForm, ReverseForm
from .models import Account, Journal, JournalEntry, JournalLine, ProductAccount, ProductTypeAccount, TaxAccount
from .queries import entry_page, entry_query, sort_clause

bp = Blueprint("accounting", __name__, url_prefix="/accounting")

FILTERS = ("journal", "date_from", "date_to", "account", "partner_id", "state", "origin_type", "origin_id", "q")


def _filters() -> dict:
    return {k: request.args.get(k).strip() for k in FILTERS if request.args.get(k, "").strip()}


def _typed(filters: dict) -> dict:
    """Dates as dates and ids as numbers (ValueError when not), for the query."""
    from datetime import date
    typed = dict(filters)
    for key in ("date_from", "date_to"):
        if key in typed:
            typed[key] = date.fromisoformat(typed[key])
    for key in ("partner_id", "origin_id"):
        if key in typed:
            typed[key] = int(typed[key])
    return typed


def _journals():
    return list(db.session.scalars(select(Journal).order_by(Journal.code)))


def _accounts():
    return list(db.session.scalars(select(Account).order_by(Account.code)))


# -- journal entries ----------------------------------------------------------------------------------------------
@bp.route("/entries")
@require("accounting.read")
def entries():
    filters = _filters()
    try:
        sort = request.args.get("sort")
        query = entry_query(_typed(filters), sort).order_by(*sort_clause(sort))
        if request.args.get("format") == "csv":
            entry_ids = query.with_only_columns(JournalEntry.id).subquery()
            rows = db.session.execute(
                select(JournalEntry.number, Journal.code, JournalEntry.date, JournalEntry.state, JournalEntry.ref,
                       Account.code, JournalLine.partner_id, JournalLine.label, JournalLine.debit, JournalLine.credit)
                .join(JournalEntry, JournalEntry.id == JournalLine.entry_id)
                .join(Journal, Journal.id == JournalEntry.journal_id).join(Account, Account.id == JournalLine.account_id)
                .where(JournalEntry.id.in_(select(entry_ids.c.id)))
                .order_by(JournalEntry.date, JournalEntry.id, JournalLine.id)).all()
            return csv_response("journal-entries.csv",
                                ["number", "journal", "date", "state", "ref", "account", "partner_id", "label",
                                 "debit", "credit"],
                                ([n or "", j, d.isoformat(), st, ref, a, p or "", lb, de, cr]
                                 for n, j, d, st, ref, a, p, lb, de, cr in rows))
        number = page_number()
        items, total = entry_page(_typed(filters), sort, (number - 1) * PER_PAGE, PER_PAGE,
                                  options=(selectinload(JournalEntry.lines),))
        page = Page(items=items, total=total, page=number, per_page=PER_PAGE)
    except ValueError:
        flash("A filter is not valid: dates are YYYY-MM-DD and the customer is a number.", "error")
        return redirect(url_for("accounting.entries"))
    return render_template("accounting/entries.html", page=page, filters=filters, journals=_journals())


def _origin_link(entry: JournalEntry) -> tuple[str, str] | None:
    if entry.origin_type in ("invoice", "credit_note"):
        from addons.invoicing.models import Invoice
        doc = db.session.get(Invoice, entry.origin_id)
        label = (doc.number if doc else None) or f"#{entry.origin_id}"
        kind = "Credit note" if entry.origin_type == "credit_note" else "Invoice"
        return f"{kind} {label}", url_for("invoicing.invoice", invoice_id=entry.origin_id)
    if entry.origin_type == "payment":
        return f"Payment #{entry.origin_id}", url_for("payments.payment", payment_id=entry.origin_id)
    return None


@bp.route("/entries/<int:entry_id>")
@require("accounting.read")
def entry(entry_id: int):
    record = services.get_entry(entry_id)
    reversed_entry = db.session.get(JournalEntry, record.reversed_entry_id) if record.reversed_entry_id else None
    return render_template("accounting/entry.html", entry=record, origin=_origin_link(record),
                           reversal=services.reversal_of(record), reversed_entry=reversed_entry,
                           reverse_form=ReverseForm(), history=audit.history(record))


@bp.route("/entries/new", methods=["GET", "POST"])
@require("accounting.entries")
def entry_form():
    form = EntryForm()
    form.journal.choices = [(j.code, f"{j.code} · {j.name}") for j in _journals()]
    choices = [("", "—")] + [(a.code, f"{a.code} {a.name}") for a in _accounts()]
    for row in form.lines:
        row.account_code.choices = choices
    if form.validate_on_submit():
        try:
            record = services.create_entry(form.date.data, form.line_values(), journal=form.journal.data,
                                           ref=form.ref.data)
            flash(f"Draft entry saved ({record.total_debit} debit, {record.total_credit} credit). "
                  "Check it, then post it.", "success")
            return redirect(url_for("accounting.entry", entry_id=record.id))
        except DomainError as exc:
            form_failed(form, exc)
    elif request.method == "POST":
        flash("Some fields are not valid; see below.", "error")
    return render_template("accounting/entry_form.html", form=form), 200 if request.method == "GET" else 422


@bp.route("/entries/<int:entry_id>/post", methods=["POST"])
@require("accounting.entries")
def entry_post(entry_id: int):
    record = services.post_entry(services.get_entry(entry_id))
    flash(f"Entry {record.number} posted.", "success")
    return redirect(url_for("accounting.entry", entry_id=record.id))


@bp.route("/entries/<int:entry_id>/delete", methods=["POST"])
@require("accounting.entries")
def entry_delete(entry_id: int):
    services.delete_draft_entry(services.get_entry(entry_id))
    flash("Draft entry deleted.", "success")
    return redirect(url_for("accounting.entries"))


@bp.route("/entries/<int:entry_id>/reverse", methods=["POST"])
@require("accounting.entries")
def entry_reverse(entry_id: int):
    form = ReverseForm()
    if not form.validate_on_submit():
        flash("The reversal date is not valid (YYYY-MM-DD).", "error")
        return redirect(url_for("accounting.entry", entry_id=entry_id))
    reversal = services.reverse_entry(services.get_entry(entry_id), form.date.data)
    flash(f"Entry reversed by {reversal.number}.", "success")
    return redirect(url_for("accounting.entry", entry_id=reversal.id))


# -- chart of accounts and mapping ---------------------------------------------------------------------------------
@bp.route("/accounts", methods=["GET", "POST"])
@require("accounting.read", POST="accounting.chart")
def accounts():
    form = AccountForm()
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                account = services.save_account(None, code=form.code.data, name=form.name.data, type=form.type.data)
                flash(f"Account {account.code} created.", "success")
                return redirect(url_for("accounting.accounts"))
            except DomainError as exc:
                form_failed(form, exc)
    return render_template("accounting/accounts.html", accounts=_accounts(), form=form)


@bp.route("/accounts/<code>/edit", methods=["GET", "POST"])
@require("accounting.chart")
def account_edit(code: str):
    account = services.get_account(code, required=False)
    if account is None:
        abort(404, f"There is no account {code}.")
    form = AccountForm(obj=account)
    if form.validate_on_submit():
        try:
            services.save_account(account, code=form.code.data, name=form.name.data, type=form.type.data)
            flash(f"Account {account.code} saved.", "success")
            return redirect(url_for("accounting.accounts"))
        except DomainError as exc:
            form_failed(form, exc)
    return render_template("accounting/account_form.html", form=form, account=account)


@bp.route("/mapping", methods=["GET", "POST"])
@require("accounting.read", POST="accounting.chart")
def mapping():
    from flask_wtf import FlaskForm

    from addons.invoicing.models import PRODUCT_TYPES, Product, Tax
    taxes = list(db.session.scalars(select(Tax).order_by(Tax.id)))
    journals = _journals()
    if request.method == "POST":
        if not FlaskForm().validate_on_submit():
            abort(400, "This form expired; reload the page and try again.")
        try:
            for product_type in PRODUCT_TYPES:
                if request.form.get(f"pt_{product_type}"):
                    services.set_product_type_account(product_type, request.form[f"pt_{product_type}"])
            for tax in taxes:
                if request.form.get(f"tax_{tax.id}"):
                    services.set_tax_account(tax.id, request.form[f"tax_{tax.id}"])
            for journal in journals:
                if f"jn_{journal.code}" in request.form:
                    services.set_journal_account(journal.code, request.form[f"jn_{journal.code}"] or None)
            if request.form.get("product_id"):
                try:
                    product_id = int(request.form["product_id"])
                except ValueError:
                    raise DomainError("Choose a product.", code="validation_error") from None
                services.set_product_account(product_id, request.form.get("product_account") or None)
            flash("Mapping saved.", "success")
            return redirect(url_for("accounting.mapping"))
        except DomainError as exc:
            db.session.rollback()
            flash(exc.message, "error")
    type_accounts = {r.product_type: r.account.code for r in db.session.scalars(select(ProductTypeAccount))}
    tax_accounts = {r.tax_id: r.account.code for r in db.session.scalars(select(TaxAccount))}
    overrides = db.session.execute(select(Product, ProductAccount).join(ProductAccount,
                                                                        ProductAccount.product_id == Product.id)
                                   .order_by(Product.code)).all()
    products = list(db.session.scalars(select(Product).where(Product.active.is_(True)).order_by(Product.code)))
    return render_template("accounting/mapping.html", accounts=_accounts(), product_types=PRODUCT_TYPES,
                           type_accounts=type_accounts, taxes=taxes, tax_accounts=tax_accounts, journals=journals,
                           overrides=overrides, products=products, editable=can(current_user, "accounting.chart"))


@bp.route("/journals")
@require("accounting.read")
def journals():
    return redirect(url_for("accounting.mapping"))


# -- lock date and period close -----------------------------------------------------------------------------------
@bp.route("/close", methods=["GET", "POST"])
@require("accounting.reports", POST="accounting.lock")
def close():
    form = LockDateForm(lock_date=services.lock_date())
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                value = services.set_lock_date(form.lock_date.data, current_user)
                flash(f"Books locked up to {value.isoformat()}." if value else "Lock date cleared.", "success")
                return redirect(url_for("accounting.close"))
            except DomainError as exc:
                form_failed(form, exc)
    until = None
    if request.args.get("until"):
        try:
            from datetime import date
            until = date.fromisoformat(request.args["until"])
        except ValueError:
            flash("The period end is a date: YYYY-MM-DD.", "error")
    return render_template("accounting/close.html", form=form, check=closing.checklist(until),
                           lock_date=services.lock_date())
