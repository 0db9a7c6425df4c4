"""Service order pages: the back office's list, board and order page; the technician's "My orders".

Thin: parse, check the permission, call a service, render. Technicians get 404 for another's order (get_order).
"""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from core import audit
from core.errors import DomainError
from core.extensions import db
from core.listing import paginate
from core.models import Partner
from core.security import can, require
from core.views import form_failed

from . import billing, services
from .forms import OrderForm, PartForm, ReportForm, TimeEntryForm
from .models import STATES, ServiceOrder
from .queries import order_query, sort_clause

bp = Blueprint("field_service", __name__, static_folder=None)


def _order(order_id: int, lock: bool = False) -> ServiceOrder:
    return services.get_order(order_id, current_user, lock=lock)


def _back(order: ServiceOrder, anchor: str = ""):
    return redirect(url_for("field_service.order", order_id=order.id) + (f"#{anchor}" if anchor else ""))


def _parse_date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


# -- lists -------------------------------------------------------------------------------------------------------
@bp.route("/service-orders")
@require("field_service.read")
def orders():
    args = request.args
    filters = {"state": args.get("state") if args.get("state") in STATES else None,
               "technician_id": args.get("technician_id", type=int), "partner_id": args.get("partner_id", type=int),
               "date_from": _parse_date(args.get("date_from")), "date_to": _parse_date(args.get("date_to")),
               "q": (args.get("q") or "").strip()[:200]}
    query = services.visible_orders(order_query(filters, args.get("sort")), current_user).order_by(*sort_clause(args.get("sort")))
    partners = db.session.execute(select(Partner.id, Partner.name).order_by(Partner.name).limit(500)).all()
    return render_template("field_service/orders.html", page=paginate(query), filters=filters, states=STATES,
                           technicians=services.technicians(), partners=partners, args=args)


@bp.route("/service-orders/board")
@require("field_service.read")
def board():
    today = date.today()
    day = _parse_date(request.args.get("week")) or today
    monday = day - timedelta(days=day.weekday())
    days = [monday + timedelta(days=i) for i in range(7)]
    start = datetime.combine(monday, datetime.min.time(), tzinfo=timezone.utc)
    query = (select(ServiceOrder).where(ServiceOrder.scheduled_at >= start,
                                        ServiceOrder.scheduled_at < start + timedelta(days=7),
                                        ServiceOrder.state != "cancelled")
             .order_by(ServiceOrder.scheduled_at))
    technician_id = request.args.get("technician_id", type=int)
    if technician_id:
        query = query.where(ServiceOrder.technician_id == technician_id)
    columns: dict[date, list[ServiceOrder]] = {d: [] for d in days}
    for order in db.session.scalars(services.visible_orders(query, current_user)):
        columns.setdefault(order.scheduled_at.date(), []).append(order)
    return render_template("field_service/board.html", days=days, columns=columns, today=today,
                           previous=monday - timedelta(days=7), next=monday + timedelta(days=7),
                           technicians=services.technicians(), technician_id=technician_id)


@bp.route("/my-orders")
@require("field_service.work")
def my_orders():
    start, end = services.day_bounds(date.today())
    mine = select(ServiceOrder).where(ServiceOrder.technician_id == current_user.id)
    active = ServiceOrder.state.in_(("scheduled", "in_progress"))
    today = list(db.session.scalars(mine.where(active, ServiceOrder.scheduled_at.between(start, end))
                                    .order_by(ServiceOrder.scheduled_at)))
    in_progress = list(db.session.scalars(mine.where(ServiceOrder.state == "in_progress",
                                                     ~ServiceOrder.scheduled_at.between(start, end))
                                          .order_by(ServiceOrder.scheduled_at)))
    upcoming = list(db.session.scalars(mine.where(active, ServiceOrder.scheduled_at > end,
                                                  ServiceOrder.state == "scheduled")
                                       .order_by(ServiceOrder.scheduled_at).limit(30)))
    return render_template("field_service/my_orders.html", today=today, in_progress=in_progress, upcoming=upcoming)


# -- one order ---------------------------------------------------------------------------------------------------
def _entry_form(**kw) -> TimeEntryForm:
    form = TimeEntryForm(prefix="t", **kw)
    form.product_id.choices = [(p.id, f"{p.name}") for p in services.products_of("labour")]
    form.technician_id.choices = [(None, "The order's technician")] + \
        [(u.id, u.name or u.login) for u in services.technicians()]
    if form.date.data is None and request.method == "GET":
        form.date.data = date.today()
    return form


def _part_form(**kw) -> PartForm:
    form = PartForm(prefix="p", **kw)
    form.product_id.choices = [(p.id, f"{p.code} · {p.name}") for p in services.products_of("part")]
    return form


def _render_order(order: ServiceOrder, status: int = 200, entry_form=None, part_form=None, report_form=None):
    technician = services.is_technician(current_user)
    return render_template(
        "field_service/order.html", order=order, technician=technician, show_prices=not technician,
        entry_form=entry_form or _entry_form(), part_form=part_form or _part_form(),
        report_form=report_form or ReportForm(prefix="r", report=order.report),
        amount=billing.order_amount(order) if not technician else None,
        history=audit.history(order) if not technician else [],
        invoice=_invoice(order) if not technician else None), status


def _invoice(order: ServiceOrder):
    """The order's invoice; or a draft made for it without telling us (a "credit and re-draft" copy)."""
    if order.invoice_id is None:
        return billing.open_draft(order.id) if order.state in ("done", "invoiced") else None
    from addons.invoicing.models import Invoice
    return db.session.get(Invoice, order.invoice_id)


@bp.route("/service-orders/<int:order_id>")
@require("field_service.read")
def order(order_id: int):
    return _render_order(_order(order_id))


@bp.route("/service-orders/new", methods=["GET", "POST"])
@bp.route("/service-orders/<int:order_id>/edit", methods=["GET", "POST"])
@require("field_service.write")
def order_form(order_id: int | None = None):
    record = _order(order_id) if order_id else None
    form = OrderForm(obj=record)
    form.partner_id.choices = [(None, "Choose a customer")] + [
        tuple(r) for r in db.session.execute(select(Partner.id, Partner.name).order_by(Partner.name).limit(2000))]
    form.technician_id.choices = [(None, "Not assigned yet")] + [(u.id, u.name or u.login)
                                                                 for u in services.technicians()]
    if form.validate_on_submit():
        values = {k: getattr(form, k).data for k in services.ORDER_FIELDS}
        try:
            if record:
                services.update_order(record, current_user, **values)
            else:
                record = services.create_order(**values)
            flash(f"Service order {record.number} saved.", "success")
            return _back(record)
        except DomainError as exc:
            form_failed(form, exc)
    elif request.method == "POST":
        flash("Some fields need attention; see below.", "error")
    return render_template("field_service/order_form.html", form=form, order=record), \
        (422 if request.method == "POST" else 200)


def _simple(name: str, permission: str, fn, message: str):
    def view(order_id: int):
        record = fn(_order(order_id, lock=True))
        flash(message.format(number=record.number), "success")
        return _back(record)
    view.__name__ = f"order_{name}"
    bp.add_url_rule(f"/service-orders/<int:order_id>/{name}", endpoint=name, methods=["POST"],
                    view_func=require(permission)(view))


_simple("schedule", "field_service.write", services.schedule, "Service order {number} scheduled.")
_simple("start", "field_service.work", services.start, "Service order {number} started.")
_simple("done", "field_service.work", services.mark_done, "Service order {number} is done.")
_simple("cancel", "field_service.write", services.cancel, "Service order {number} cancelled.")


@bp.route("/service-orders/<int:order_id>/report", methods=["POST"])
@require("field_service.work")
def report(order_id: int):
    record = _order(order_id, lock=True)
    form = ReportForm(prefix="r")
    if not form.validate_on_submit():
        return _render_order(record, 422, report_form=form)
    services.update_order(record, current_user, report=form.report.data or "")
    flash("Report saved.", "success")
    return _back(record, "report")


@bp.route("/service-orders/<int:order_id>/time-entries", methods=["POST"])
@require("field_service.work")
def add_time_entry(order_id: int):
    record = _order(order_id, lock=True)
    form = _entry_form()
    if form.validate_on_submit():
        try:
            services.add_time_entry(record, form.hours.data, form.product_id.data, current_user, form.date.data,
                                    form.description.data, form.technician_id.data)
            flash(f"{form.hours.data} h logged.", "success")
            return _back(record, "hours")
        except DomainError as exc:
            form_failed(form, exc)
            record = _order(order_id)
    else:
        flash("The hours were not logged; see the fields below.", "error")
    return _render_order(record, 422, entry_form=form)


@bp.route("/service-orders/<int:order_id>/parts", methods=["POST"])
@require("field_service.work")
def add_part(order_id: int):
    record = _order(order_id, lock=True)
    form = _part_form()
    if form.validate_on_submit():
        price = None if services.is_technician(current_user) else form.unit_price.data
        try:
            services.add_part(record, form.product_id.data, form.quantity.data, price, form.description.data)
            flash("Part added.", "success")
            return _back(record, "parts")
        except DomainError as exc:
            form_failed(form, exc)
            record = _order(order_id)
    else:
        flash("The part was not added; see the fields below.", "error")
    return _render_order(record, 422, part_form=form)


@bp.route("/service-orders/<int:order_id>/time-entries/<int:entry_id>/edit", methods=["GET", "POST"])
@require("field_service.work")
def edit_time_entry(order_id: int, entry_id: int):
    record = _order(order_id)
    entry = services.get_time_entry(record, entry_id)
    form = _entry_form(obj=entry)
    if form.validate_on_submit():
        try:
            values = {"hours": form.hours.data, "product_id": form.product_id.data, "date": form.date.data,
                      "description": form.description.data}
            if not services.is_technician(current_user):
                values["technician_id"] = form.technician_id.data
            services.update_time_entry(entry, **values)
            flash("Time entry saved.", "success")
            return _back(record, "hours")
        except DomainError as exc:
            form_failed(form, exc)
            record = _order(order_id)
            entry = services.get_time_entry(record, entry_id)
    if request.method == "GET":
        form.hours.data = str(entry.hours.normalize())
    return render_template("field_service/entry_form.html", form=form, order=record, kind="hours",
                           technician=services.is_technician(current_user)), \
        (422 if request.method == "POST" else 200)


@bp.route("/service-orders/<int:order_id>/parts/<int:part_id>/edit", methods=["GET", "POST"])
@require("field_service.work")
def edit_part(order_id: int, part_id: int):
    record = _order(order_id)
    part = services.get_part(record, part_id)
    form = _part_form(obj=part)
    technician = services.is_technician(current_user)
    if form.validate_on_submit():
        try:
            values = {"product_id": form.product_id.data, "quantity": form.quantity.data,
                      "description": form.description.data}
            if not technician:
                values["unit_price"] = form.unit_price.data
            services.update_part(part, **values)
            flash("Part saved.", "success")
            return _back(record, "parts")
        except DomainError as exc:
            form_failed(form, exc)
            record = _order(order_id)
    if request.method == "GET":
        form.quantity.data = str(part.quantity.normalize())
        form.unit_price.data = "" if technician else str(part.unit_price)
    return render_template("field_service/entry_form.html", form=form, order=record, kind="part",
                           technician=technician), (422 if request.method == "POST" else 200)


@bp.route("/service-orders/<int:order_id>/time-entries/<int:entry_id>/delete", methods=["POST"])
@require("field_service.work")
def delete_time_entry(order_id: int, entry_id: int):
    record = _order(order_id, lock=True)
    services.delete_time_entry(services.get_time_entry(record, entry_id))
    flash("Time entry deleted.", "success")
    return _back(record, "hours")


@bp.route("/service-orders/<int:order_id>/parts/<int:part_id>/delete", methods=["POST"])
@require("field_service.work")
def delete_part(order_id: int, part_id: int):
    record = _order(order_id, lock=True)
    services.delete_part(services.get_part(record, part_id))
    flash("Part removed.", "success")
    return _back(record, "parts")


# -- invoicing ---------------------------------------------------------------------------------------------------
@bp.route("/service-orders/<int:order_id>/invoice", methods=["POST"])
@require("field_service.invoice", "invoicing.write")
def create_invoice(order_id: int):
    invoice = billing.create_invoice_for_order(order_id, current_user)
    record = _order(order_id)
    flash(f"Draft invoice created from {record.number}: review it, then post it.", "success")
    return redirect(url_for("invoicing.invoice", invoice_id=invoice.id))


@bp.route("/service-orders/invoice", methods=["POST"])
@require("field_service.invoice", "invoicing.write")
def batch_invoice():
    form = request.form
    group_by = form.get("group_by") if form.get("group_by") in ("order", "partner") else "order"
    post = form.get("post") == "1"
    if post and not can(current_user, "invoicing.post"):
        flash("Your role may not post invoices; they were not created.", "error")
        return redirect(url_for("field_service.orders", state="done"))
    if form.get("all_done") == "1":
        ids = billing.done_order_ids()
    else:
        ids = [int(i) for i in form.getlist("ids") if i.isdigit()]
    if not ids:
        flash("Tick the Done orders to invoice (or choose all Done orders).", "error")
        return redirect(url_for("field_service.orders", state="done"))
    result = billing.invoice_orders(ids, group_by=group_by, post=post)
    return render_template("field_service/batch_result.html", result=result, group_by=group_by, post=post,
                           asked=len(ids))
