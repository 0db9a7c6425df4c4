"""The payment list's filters, search and sort, shared by the page and the API."""
from __future__ import annotations

from sqlalchemy import Select, exists, or_, select

from core.models import Partner

from .models import Payment, PaymentAllocation

SORTS = {"date": Payment.date, "amount": Payment.amount, "customer": Partner.name, "method": Payment.method_code,
         "reference": Payment.reference, "id": Payment.id}


def payment_query(filters: dict) -> Select:
    """``filters``: partner_id, method, direction, date_from, date_to, invoice_id, q (reference or customer)."""
    query = select(Payment).join(Partner, Partner.id == Payment.partner_id)
    if filters.get("partner_id"):
        query = query.where(Payment.partner_id == int(filters["partner_id"]))
    if filters.get("method"):
        query = query.where(Payment.method_code == filters["method"])
    if filters.get("direction"):
        query = query.where(Payment.direction == filters["direction"])
    if filters.get("date_from"):
        query = query.where(Payment.date >= filters["date_from"])
    if filters.get("date_to"):
        query = query.where(Payment.date <= filters["date_to"])
    if filters.get("invoice_id"):
        query = query.where(exists().where(PaymentAllocation.payment_id == Payment.id,
                                           PaymentAllocation.invoice_id == int(filters["invoice_id"])))
    if filters.get("q"):
        like = "%" + filters["q"].strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(or_(Payment.reference.ilike(like, "\\"), Partner.name.ilike(like, "\\")))
    return query


def sort_clause(key: str | None):
    key = key or "-date"
    descending = key.startswith("-")
    column = SORTS.get(key.lstrip("-"), Payment.date)
    return [column.desc() if descending else column.asc(), Payment.id.desc() if descending else Payment.id.asc()]
