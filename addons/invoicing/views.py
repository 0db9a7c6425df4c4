"""invoicing's pages (thin: parse, check role, call a service, render). Products and taxes: views_catalog.py."""
from __future__ import annotations

from datetime import date

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from core import audit
from core.errors import DomainError
from core.extensions import db
from core.listing import csv_response, paginate
from core.models import Partner
from core.security import require
from core.views import form_failed

from . import credit_notes, documents, services
from .forms import ApplyCreditForm, CreditNoteForm, DeleteDraftForm, InvoiceForm, SendForm
from .models import Invoice, Product, Tax
from .queries import invoice_query, list_totals, sort_clause
from .schemas import STATUSES

bp = Blueprint("invoicing", __name__)
FILTERS = ("status", "state", "payment_state", "type", "partner_id", "date_from", "date_to", "overdue", "q")


def _filters() -> dict:
    """The list's filters from the query string; bad values are dropped (a filter never errors)."""
    args, out = request.args, {}
    for key in FILTERS:
        value = (args.get(key) or "").strip()
        if not value:
            continue
        if key in ("date_from", "date_to"):
            try:
                out[key] = date.fromisoformat(value)
            except ValueError:
                continue
        elif key == "partner_id":
            if value.isdigit():
                out[key] = int(value)
        elif key == "status" and value not in STATUSES:
            continue
        elif key == "overdue":
            out[key] = value in ("1", "true", "on", "yes")
        else:
            out[key] = value
    return out


@bp.route("/invoices")
@require("invoicing.read")
def invoices():
    filters = _filters()
    sort = request.args.get("sort")
    page = paginate(invoice_query(filters, sort).order_by(*sort_clause(sort)))
    partners = db.session.execute(select(Partner.id, Partner.name).order_by(Partner.name).limit(500)).all()
    return render_template("invoicing/invoices.html", page=page, filters=filters, totals=list_totals(invoice_query(filters)),
                           partners=partners, today=date.today())


@bp.route("/invoices.csv")
@require("invoicing.read")
def invoices_csv() -> Response:
    sort = request.args.get("sort")
    query = invoice_query(_filters(), sort).order_by(*sort_clause(sort))
    # Read every row now: the response streams after the request's session is gone.
    rows = [[i.number or "", "credit note" if i.is_credit_note else "invoice", i.partner.name,
             i.invoice_date.isoformat(), i.due_date.isoformat(), i.currency, i.amount_untaxed, i.amount_tax,
             i.amount_total, i.amount_paid, i.amount_credited, i.amount_due, status_of(i),
             "yes" if i.is_overdue else ""] for i in db.session.scalars(query)]
    return csv_response("invoices.csv", ["number", "type", "customer", "invoice_date", "due_date", "currency",
                                         "untaxed", "tax", "total", "paid", "credited", "due", "status", "overdue"],
                        rows)


def status_of(invoice: Invoice) -> str:
    """The word a user reads: Draft, Cancelled, or for posted ones their payment state."""
    from core.templating import status_label
    return status_label(invoice.payment_state if invoice.state == "posted" else invoice.state)


@bp.route("/invoices/post-selected", methods=["POST"])
@require("invoicing.post")
def post_selected():
    ids = [int(i) for i in request.form.getlist("ids") if i.isdigit()]
    if not ids:
        flash("Select the drafts to post first.", "warning")
        return redirect(request.referrer or url_for("invoicing.invoices"))
    drafts = list(db.session.scalars(select(Invoice).where(Invoice.id.in_(ids))))
    posted, refused = services.post_many(drafts)
    if posted:
        flash(f"{len(posted)} posted: {', '.join(i.number for i in posted)}.", "success")
    for invoice, message in refused:
        flash(f"Draft #{invoice.id} ({invoice.partner.name}) not posted: {message}", "error")
    return redirect(request.referrer or url_for("invoicing.invoices"))


# -- one invoice -------------------------------------------------------------------------------------------------
@bp.route("/invoices/<int:invoice_id>")
@require("invoicing.read")
def invoice(invoice_id: int):
    record = services.get_invoice(invoice_id)
    hook = services.hook()
    actions = [a for group in hook.invoicing_invoice_actions(invoice=record, user=current_user)
               for a in (group or [])]
    panels = [p for group in hook.invoicing_invoice_panels(invoice=record, user=current_user) for p in (group or [])]
    related = {
        "credit_notes": credit_notes.credit_notes_of(record) if record.type == "invoice" else [],
        "credited_invoice": db.session.get(Invoice, record.credited_invoice_id) if record.credited_invoice_id else None,
        "redraft_of": db.session.get(Invoice, record.redraft_of_id) if record.redraft_of_id else None,
        "redrafts": list(db.session.scalars(select(Invoice).where(Invoice.redraft_of_id == record.id)
                                            .order_by(Invoice.id))),
    }
    shows_credited = record.type == "invoice" and record.state == "posted"
    credited = {line.id: line.quantity_credited for line in record.lines} if shows_credited else {}
    return render_template("invoicing/invoice.html", invoice=record, history=audit.history(record),
                           work_words=credit_notes.WORK_WORDS,
                           actions=actions, panels=panels, credited=credited, delete_form=DeleteDraftForm(),
                           balance=services.partner_balance(record.partner_id), taxes=documents.tax_summary(record),
                           **related)


@bp.route("/invoices/<int:invoice_id>/post", methods=["POST"])
@require("invoicing.post")
def post(invoice_id: int):
    record = services.post_invoice(services.get_invoice(invoice_id))
    kind = "Credit note" if record.is_credit_note else "Invoice"
    flash(f"{kind} {record.number} posted.", "success")
    if record.credit_applied > 0:
        flash(f"{record.credit_applied} of the customer's credit was applied to it.", "info")
    return redirect(url_for("invoicing.invoice", invoice_id=record.id))


def _posted_refusal(record: Invoice):
    flash(f"{record.number or 'This invoice'} is {record.state}: it can no longer be changed or deleted. "
          "Add a credit note to correct it.", "error")
    return redirect(url_for("invoicing.invoice", invoice_id=record.id))


@bp.route("/invoices/<int:invoice_id>/delete", methods=["POST"])
@require("invoicing.write")
def delete(invoice_id: int):
    record = services.get_invoice(invoice_id)
    if record.state != "draft":
        return _posted_refusal(record)
    form = DeleteDraftForm()
    if not form.validate_on_submit():
        flash("The form expired; try again.", "error")
        return redirect(url_for("invoicing.invoice", invoice_id=invoice_id))
    cancel_origin = bool(form.cancel_origin.data) and record.origin_type is not None
    services.delete_draft(record, cancel_origin=cancel_origin)
    flash("Draft deleted" + (" and its service order cancelled." if cancel_origin else "."), "success")
    return redirect(url_for("invoicing.invoices"))


@bp.route("/invoices/<int:invoice_id>/invoice-externally", methods=["POST"])
@require("invoicing.write")
def invoice_externally(invoice_id: int):
    record = services.get_invoice(invoice_id)
    if record.state != "draft":
        return _posted_refusal(record)
    services.invoice_externally(record)
    flash("Marked as invoiced in another system: no number, nothing to post.", "success")
    return redirect(url_for("invoicing.invoice", invoice_id=invoice_id))


@bp.route("/invoices/<int:invoice_id>/apply-credit", methods=["POST"])
@require("invoicing.write")
def apply_credit(invoice_id: int):
    record = services.get_invoice(invoice_id)
    form = ApplyCreditForm()
    if form.validate_on_submit():
        applied = services.apply_credit_by_hand(record, form.amount.data or None)
        flash(f"{applied} of credit applied to {record.number}.", "success")
    return redirect(url_for("invoicing.invoice", invoice_id=invoice_id))


@bp.route("/invoices/<int:invoice_id>/pdf")
@require("invoicing.read")
def pdf(invoice_id: int) -> Response:
    record = services.get_invoice(invoice_id)
    return Response(documents.render_pdf(record), mimetype="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{documents.filename(record)}"'})


@bp.route("/invoices/<int:invoice_id>/facturx")
@require("invoicing.read")
def facturx(invoice_id: int) -> Response:
    record = services.get_invoice(invoice_id)
    return Response(documents.facturx_pdf(record), mimetype="application/pdf",
                    headers={"Content-Disposition":
                             f'attachment; filename="{documents.filename(record, "-facturx")}"'})


@bp.route("/invoices/<int:invoice_id>/ubl")
@require("invoicing.read")
def ubl(invoice_id: int) -> Response:
    record = services.get_invoice(invoice_id)
    return Response(documents.ubl_xml(record), mimetype="application/xml",
                    headers={"Content-Disposition":
                             f'attachment; filename="{documents.filename(record, "-ubl", ext="xml")}"'})


@bp.route("/invoices/<int:invoice_id>/send", methods=["GET", "POST"])
@require("invoicing.send")
def send(invoice_id: int):
    record = services.get_invoice(invoice_id)
    form = SendForm(to=record.partner.email or None)
    if form.validate_on_submit():
        try:
            address = documents.send(record, form.to.data)
            flash(f"{documents.title(record)} sent to {address}.", "success")
            return redirect(url_for("invoicing.invoice", invoice_id=invoice_id))
        except DomainError as exc:
            form_failed(form, exc)
    return render_template("invoicing/send.html", invoice=record, form=form)


# -- credit notes ------------------------------------------------------------------------------------------------
@bp.route("/invoices/<int:invoice_id>/credit-notes/new", methods=["GET", "POST"])
@require("invoicing.credit")
def credit_note_form(invoice_id: int):
    record = services.get_invoice(invoice_id)
    try:
        credit_notes.check_creditable(record)
    except DomainError as exc:
        flash(exc.message, "error")
        return redirect(url_for("invoicing.invoice", invoice_id=invoice_id))
    done = credit_notes.credited_by_line(record)
    form = CreditNoteForm()
    if form.validate_on_submit():
        try:
            lines = _credit_lines(form.kind.data, record)
            work = form.work.data if _from_orders(record) else None
            note, _ = credit_notes.create_credit_note(record, lines=lines, reason=form.reason.data or "", work=work)
            if form.post_now.data:
                services.post_invoice(note)
                flash(f"Credit note {note.number} posted.", "success")
            else:
                flash("Credit note created as a draft: check it, then Post it.", "success")
            return redirect(url_for("invoicing.invoice", invoice_id=note.id))
        except DomainError as exc:
            form_failed(form, exc)
    return render_template("invoicing/credit_note_form.html", invoice=record, form=form, done=done,
                           from_orders=_from_orders(record), work_words=credit_notes.WORK)


def _from_orders(invoice: Invoice) -> bool:
    """Whether the invoice bills work of service orders (its lines come from hours or parts)."""
    return any(line.origin_type for line in invoice.lines)


def _credit_lines(kind: str, invoice: Invoice) -> list[dict]:
    from core.errors import ValidationError
    typed = any((request.form.get(f"qty_{line.id}") or "").strip() for line in invoice.lines)
    if kind == "full":
        if typed or (request.form.get("amount") or "").strip():
            raise ValidationError("You chose the whole invoice but typed quantities or an amount: choose "
                                  "“Some lines” or “An amount off one line”, or clear them.", fields={"kind": []})
        return []
    if kind == "amount":
        line_id = request.form.get("amount_line", "")
        amount = (request.form.get("amount") or "").strip()
        if not line_id.isdigit() or not amount:
            raise ValidationError("Choose the line and the amount to take off.", fields={"reason": []})
        return [{"line_id": int(line_id), "amount": amount}]
    lines = []
    for line in invoice.lines:
        value = (request.form.get(f"qty_{line.id}") or "").strip()
        if value and value not in ("0", "0.0", "0.00"):
            lines.append({"line_id": line.id, "quantity": value})
    if not lines:
        raise ValidationError("Give the quantity to credit on at least one line.", fields={"reason": []})
    return lines


@bp.route("/invoices/<int:invoice_id>/credit-and-redraft", methods=["POST"])
@require("invoicing.credit")
def credit_and_redraft(invoice_id: int):
    record = services.get_invoice(invoice_id)
    reason = (request.form.get("reason") or "").strip()
    note, draft = credit_notes.create_credit_note(record, reason=reason, mode="modify")
    flash(f"{record.number} is fully credited by {note.number}; a new draft was made to correct it.", "success")
    return redirect(url_for("invoicing.invoice", invoice_id=record.id))


# -- drafts -----------------------------------------------------------------------------------------------------
def _choices(form: InvoiceForm) -> None:
    form.partner_id.choices = [(0, "— choose a customer —")] + [
        (p.id, p.name) for p in db.session.execute(select(Partner.id, Partner.name).order_by(Partner.name))]


def _lines_from_request() -> list[dict]:
    """The form's line rows (parallel lists) as API-style items; empty rows are dropped."""
    form = request.form
    columns = {k: form.getlist(k) for k in ("line_id", "product_id", "description", "quantity", "unit_price",
                                            "tax_id")}
    lines = []
    for i in range(len(columns["description"])):
        row = {k: (v[i] if i < len(v) else "").strip() for k, v in columns.items()}
        if not any(row[k] for k in ("product_id", "description", "unit_price")):
            continue
        item = {"description": row["description"], "quantity": row["quantity"] or "1",
                "unit_price": row["unit_price"] or "0",
                "tax_id": int(row["tax_id"]) if row["tax_id"].isdigit() else None,
                "product_id": int(row["product_id"]) if row["product_id"].isdigit() else None}
        if row["line_id"].isdigit():
            item["id"] = int(row["line_id"])
        lines.append(item)
    return lines


def _catalog() -> dict:
    return {"products": list(db.session.scalars(select(Product).where(Product.active.is_(True))
                                                .order_by(Product.code))),
            "taxes": list(db.session.scalars(select(Tax).where(Tax.active.is_(True)).order_by(Tax.id)))}


@bp.route("/invoices/new", methods=["GET", "POST"])
@bp.route("/invoices/<int:invoice_id>/edit", methods=["GET", "POST"])
@require("invoicing.write")
def invoice_form(invoice_id: int | None = None):
    record = services.get_invoice(invoice_id) if invoice_id else None
    if record is not None and record.state != "draft":
        return _posted_refusal(record)
    form = InvoiceForm(obj=record)
    _choices(form)
    if record is None and request.method == "GET":
        from core.models import company
        form.invoice_date.data = date.today()
        form.payment_terms_days.data = company().payment_terms_days
        if request.args.get("partner_id", "").isdigit():
            form.partner_id.data = int(request.args["partner_id"])
    lines = None
    if form.validate_on_submit():
        lines = _lines_from_request()
        values = {"partner_id": form.partner_id.data or None, "invoice_date": form.invoice_date.data,
                  "payment_terms_days": form.payment_terms_days.data, "notes": form.notes.data or "",
                  "lines": lines}
        try:
            if record is None:
                record = services.create_invoice(**values)
                flash("Draft saved.", "success")
            else:
                services.update_invoice(record, **values)
                flash("Draft saved.", "success")
            return redirect(url_for("invoicing.invoice", invoice_id=record.id))
        except DomainError as exc:
            form_failed(form, exc)
            record = services.get_invoice(invoice_id) if invoice_id else None
    elif request.method == "POST":
        lines = _lines_from_request()
    if lines is None:
        lines = [{"id": l.id, "product_id": l.product_id, "description": l.description,
                  "quantity": f"{l.quantity.normalize():f}",
                  "unit_price": l.unit_price, "tax_id": l.tax_id} for l in record.lines] if record else []
    return render_template("invoicing/invoice_form.html", form=form, invoice=record, lines=lines, **_catalog())


from . import views_catalog  # noqa: E402,F401  (products and taxes pages, on the same blueprint)


@bp.app_context_processor
def _partner_invoicing():
    """``partner_invoicing(partner_id)`` for core/partner_extra.html: balance, overdue and recent invoices."""
    def partner_invoicing(partner_id: int) -> dict:
        from sqlalchemy import func
        overdue = db.session.scalar(select(func.coalesce(func.sum(Invoice.amount_due), 0)).where(
            Invoice.partner_id == partner_id, Invoice.state == "posted", Invoice.type == "invoice",
            Invoice.due_date < date.today())) or 0
        recent = list(db.session.scalars(select(Invoice).where(Invoice.partner_id == partner_id)
                                         .order_by(Invoice.invoice_date.desc(), Invoice.id.desc()).limit(10)))
        return {"balance": services.partner_balance(partner_id), "overdue": overdue, "recent": recent}
    return {"partner_invoicing": partner_invoicing}
from . import imports  # noqa: E402,F401  (the products CSV import page, on the same blueprint)
