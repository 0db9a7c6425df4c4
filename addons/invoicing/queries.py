"""The invoice list's filters, search and sort, shared by the page, the CSV export and the API."""
from __future__ import annotations

from datetime import date

from decimal import Decimal

from sqlalchemy import Select, case, func, or_, select

from core.extensions import db

from core.models import Partner

from .models import Invoice

SORTS = {"date": Invoice.invoice_date, "number": Invoice.number, "due": Invoice.due_date,
         "total": Invoice.amount_total, "amount_due": Invoice.amount_due, "customer": Partner.name}


def invoice_query(filters: dict) -> Select:
    """``filters``: state, payment_state, status (open/overdue), type, partner_id, date_from, date_to, overdue, q."""
    query = select(Invoice).join(Partner, Partner.id == Invoice.partner_id)
    if filters.get("state"):
        query = query.where(Invoice.state == filters["state"])
    if filters.get("payment_state"):
        query = query.where(Invoice.payment_state == filters["payment_state"], Invoice.state == "posted",
                            Invoice.type == "invoice")
    if filters.get("type"):
        query = query.where(Invoice.type == filters["type"])
    if filters.get("partner_id"):
        query = query.where(Invoice.partner_id == filters["partner_id"])
    if filters.get("date_from"):
        query = query.where(Invoice.invoice_date >= filters["date_from"])
    if filters.get("date_to"):
        query = query.where(Invoice.invoice_date <= filters["date_to"])
    status = filters.get("status")
    if status in ("draft", "posted", "cancelled"):
        query = query.where(Invoice.state == status)
    elif status in ("not_paid", "partial", "paid", "credited"):
        query = query.where(Invoice.state == "posted", Invoice.type == "invoice", Invoice.payment_state == status)
    if status in ("open", "overdue") or filters.get("overdue"):
        query = query.where(Invoice.state == "posted", Invoice.type == "invoice", Invoice.amount_due > 0)
        if status == "overdue" or filters.get("overdue"):
            query = query.where(Invoice.due_date < date.today())
    if filters.get("q"):
        text = filters["q"].strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        like = f"%{text}%"
        query = query.where(or_(Invoice.number.ilike(like, escape="\\"), Partner.name.ilike(like, escape="\\")))
    return query


def list_totals(query: Select) -> dict:
    """Outstanding and overdue amounts (posted invoices with something due) among the rows of ``query``."""
    rows = query.with_only_columns(Invoice.id).order_by(None).subquery()
    open_ = (Invoice.state == "posted") & (Invoice.type == "invoice") & (Invoice.amount_due > 0)
    outstanding, overdue, n_open, n_overdue = db.session.execute(select(
        func.coalesce(func.sum(case((open_, Invoice.amount_due), else_=0)), 0),
        func.coalesce(func.sum(case((open_ & (Invoice.due_date < date.today()), Invoice.amount_due), else_=0)), 0),
        func.count(case((open_, 1))),
        func.count(case((open_ & (Invoice.due_date < date.today()), 1))),
    ).where(Invoice.id.in_(select(rows.c.id)))).one()
    return {"outstanding": Decimal(outstanding), "overdue": Decimal(overdue), "open_count": n_open,
            "overdue_count": n_overdue}


def sort_clause(key: str | None):
    key = key or "-date"
    descending = key.startswith("-")
    column = SORTS.get(key.lstrip("-"), Invoice.invoice_date)
    return [column.desc() if descending else column.asc(), Invoice.id.desc() if descending else Invoice.id.asc()]
