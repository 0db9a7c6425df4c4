"""invoicing's implementations of the kernel's hooks: its menu entries and dashboard tiles."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import case, func, select

from core.extensions import db
from core.hookspecs import hookimpl
from core.kernel import MenuItem, Tile
from core.money import format_money
from core.security import can

from .models import Invoice


@dataclass(frozen=True)
class Action:
    """A button on an invoice's page (see hookspec invoicing_invoice_actions)."""
    label: str
    url: str
    method: str = "get"
    style: str = ""
    confirm: str | None = None


@hookimpl
def kontor_menu_items(user):
    items = []
    if can(user, "invoicing.read"):
        items.append(MenuItem("Invoices", "invoicing.invoices", order=20))
    if can(user, "products.read"):
        items.append(MenuItem("Products", "invoicing.products", order=70))
    return items


@hookimpl
def kontor_dashboard_tiles(user):
    if not can(user, "invoicing.read"):
        return []
    today = date.today()
    open_ = (Invoice.state == "posted") & (Invoice.type == "invoice") & (Invoice.amount_due > 0)
    row = db.session.execute(select(
        func.count(case((Invoice.state == "draft", 1))),
        func.coalesce(func.sum(case((open_, Invoice.amount_due), else_=0)), 0),
        func.count(case((open_, 1))),
        func.coalesce(func.sum(case((open_ & (Invoice.due_date < today), Invoice.amount_due), else_=0)), 0),
        func.count(case((open_ & (Invoice.due_date < today), 1))),
    )).one()
    drafts, outstanding, n_open, overdue, n_overdue = row
    return [
        Tile("Draft invoices", str(drafts), "to review and post", "invoicing.invoices", {"status": "draft"},
             tone="warn" if drafts else "", order=10),
        Tile("Outstanding", format_money(outstanding), f"{n_open} invoices not fully paid", "invoicing.invoices",
             {"status": "open"}, order=20),
        Tile("Overdue", format_money(overdue), f"{n_overdue} invoices past their due date", "invoicing.invoices",
             {"status": "overdue"}, tone="bad" if n_overdue else "", order=30),
    ]


@hookimpl
def kontor_importers():
    from .imports import PRODUCTS
    return [PRODUCTS]


@hookimpl
def kontor_posted_documents():
    # a number is given at posting and kept: a posted, paid or cancelled-after-posting document all count
    return db.session.scalar(select(func.count()).select_from(Invoice).where(Invoice.number.is_not(None)))
