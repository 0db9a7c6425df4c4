"""field_service's hook implementations: menu, dashboard tiles, and what invoicing tells us (thin: billing.py)."""
from __future__ import annotations

from datetime import date

from flask import render_template
from markupsafe import Markup
from sqlalchemy import func, select

from core.extensions import db
from core.hookspecs import hookimpl
from core.kernel import MenuItem, Tile
from core.money import format_money
from core.security import can

from . import billing
from .models import ServiceOrder
from .services import day_bounds


@hookimpl
def kontor_menu_items(user):
    items = []
    if user.role == "technician":
        items.append(MenuItem("My orders", "field_service.my_orders", order=5))
    elif can(user, "field_service.read"):
        items.append(MenuItem("Service orders", "field_service.orders", order=15))
        items.append(MenuItem("Board", "field_service.board", order=16))
    return items


@hookimpl
def kontor_dashboard_tiles(user):
    tiles = []
    if user.role == "technician":
        start, end = day_bounds(date.today())
        count = db.session.scalar(select(func.count()).select_from(ServiceOrder).where(
            ServiceOrder.technician_id == user.id, ServiceOrder.state.in_(("scheduled", "in_progress")),
            ServiceOrder.scheduled_at.between(start, end))) or 0
        tiles.append(Tile("Today's orders", str(count), "scheduled for you today", "field_service.my_orders",
                          order=5))
    elif can(user, "field_service.invoice"):
        count, amount = billing.to_invoice_summary()
        tiles.append(Tile("Done orders to invoice", str(count), f"about {format_money(amount)} before tax",
                          "field_service.orders", {"state": "done"}, tone="warn" if count else "", order=5))
    return tiles


@hookimpl
def invoicing_invoice_posted(invoice):
    billing.on_invoice_final(invoice)


@hookimpl
def invoicing_invoices_posted(invoices):
    from . import batch
    batch.on_invoices_posted(invoices)


@hookimpl
def invoicing_invoice_cancelled(invoice, reason):
    if reason == "invoiced_externally":
        billing.on_invoice_final(invoice)


@hookimpl
def invoicing_draft_deleted(invoice, cancel_origin):
    billing.on_draft_deleted(invoice, cancel_origin)


@hookimpl
def invoicing_lines_credited(credit_note):
    billing.on_lines_credited(credit_note)


@hookimpl
def invoicing_invoice_panels(invoice, user):
    if not can(user, "field_service.read"):
        return []
    orders = billing.orders_of(invoice)
    if not orders:
        return []
    return [Markup(render_template("field_service/invoice_panel.html", orders=orders))]
