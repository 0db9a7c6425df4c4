"""payments' implementations of the kernel's and invoicing's hooks: menu, dashboard tile, invoice page."""
from __future__ import annotations

from datetime import date

from flask import render_template, url_for
from markupsafe import Markup
from sqlalchemy import func, select

from addons.invoicing import services as invoicing
from addons.invoicing.hooks import Action
from core.extensions import db
from core.hookspecs import hookimpl
from core.kernel import MenuItem, Tile
from core.models import company
from core.money import format_money
from core.security import can

from .models import Payment


@hookimpl
def kontor_menu_items(user):
    return [MenuItem("Payments", "payments.payments", order=30)] if can(user, "payments.read") else []


@hookimpl
def kontor_dashboard_tiles(user):
    if not can(user, "payments.read"):
        return []
    today = date.today()
    first = today.replace(day=1)
    total, count = db.session.execute(
        select(func.coalesce(func.sum(Payment.amount), 0), func.count(Payment.id))
        .where(Payment.direction == "inbound", Payment.date >= first, Payment.date <= today)).one()
    return [Tile("Payments received", format_money(total, company().currency),
                 f"{count} payment{'' if count == 1 else 's'} this month", "payments.payments",
                 {"direction": "inbound", "date_from": first.isoformat()}, order=40)]


@hookimpl
def invoicing_invoice_actions(invoice, user):
    if invoice.state != "posted" or invoice.type != "invoice":
        return []
    actions = []
    if invoice.amount_due > 0 and can(user, "payments.register"):
        actions.append(Action("Register payment", url_for("payments.register", invoice_id=invoice.id),
                              style="primary"))
    if can(user, "payments.refund") and invoicing.available_credit(invoice.partner_id) > 0:
        actions.append(Action("Refund", url_for("payments.refund", partner_id=invoice.partner_id,
                                                invoice_id=invoice.id)))
    return actions


@hookimpl
def invoicing_invoice_panels(invoice, user):
    if invoice.type != "invoice" or invoice.state != "posted" or not can(user, "payments.read"):
        return []
    from . import services
    rows = services.invoice_payments(invoice.id)
    credit = invoicing.available_credit(invoice.partner_id)
    return [Markup(render_template("payments/_invoice_panel.html", invoice=invoice, rows=rows, credit=credit))]
