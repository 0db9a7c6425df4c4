"""The invoice list's filters, search and sort, shared by the page, the CSV export and the API."""
from __future__ import annotations

from datetime import date

from decimal import Decimal

from sqlalchemy import Select, case, func, literal_column, select

from core.extensions import db
from core.listing import ListSpec, join_parent, register_list
from core.search import TextSearch, like_pattern

from core.models import Partner

from .models import Invoice

# "Open" (posted invoices with something due) as literal constants, not bound parameters: the partial indexes
# ix_invoicing_invoices_open_* (WHERE state = 'posted' AND type = 'invoice' AND amount_due > 0) are only used
# by SQLite when the query's terms match their WHERE clause literally, and by PostgreSQL's generic plans too.
POSTED, INVOICE = literal_column("'posted'"), literal_column("'invoice'")
OPEN = (Invoice.state == POSTED, Invoice.type == INVOICE, Invoice.amount_due > literal_column("0"))

# ?q= finds the invoice number through its trigram index (core.search; migration invoicing_0005).
NUMBER_SEARCH = TextSearch(Invoice.number)

SORTS = {"date": Invoice.invoice_date, "number": Invoice.number, "due": Invoice.due_date,
         "total": Invoice.amount_total, "amount_due": Invoice.amount_due, "customer": Partner.name}


def invoice_query(filters: dict, sort: str | None = None) -> Select:
    """``filters``: state, payment_state, status (open/overdue), type, partner_id, date_from, date_to, overdue, q.

    The customer is joined only to sort by its name (``sort``): every invoice has exactly one, so the join never
    changes the rows, and without it the count and the totals read the invoices' indexes alone."""
    query = select(Invoice)
    if (sort or "").lstrip("-") == "customer":
        query = join_parent(query, Partner, Invoice.partner_id, Partner.name)
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
        query = query.where(*OPEN)
        if status == "overdue" or filters.get("overdue"):
            query = query.where(Invoice.due_date < date.today())
    if filters.get("q"):
        text = filters["q"].strip()
        # The number through its trigram index; the customers matched first in their small table (one row per
        # 40 invoices), so that half is an indexed partner_id IN (...).
        customers = select(Partner.id).where(Partner.name.ilike(like_pattern(text), escape="\\"))
        query = query.where(NUMBER_SEARCH.contains_or_parent(text, Invoice.partner_id, customers))
    return query


def totals_statement(query: Select) -> Select:
    """Outstanding and overdue amounts and counts among the open invoices of ``query`` (see list_totals)."""
    overdue = Invoice.due_date < date.today()
    return query.with_only_columns(
        func.coalesce(func.sum(Invoice.amount_due), 0),
        func.coalesce(func.sum(case((overdue, Invoice.amount_due), else_=0)), 0),
        func.count(),
        func.count(case((overdue, 1))),
        maintain_column_froms=True,
    ).where(*OPEN).order_by(None)


def list_totals(query: Select) -> dict:
    """Outstanding and overdue amounts (posted invoices with something due) among the rows of ``query``.

    Only open invoices are read: ``query``'s own filters plus OPEN, answered from the partial indexes
    ix_invoicing_invoices_open_* , so the cost follows the open invoices, not the whole list. (Odoo and ERPNext
    sum over the whole filtered domain; restricting to OPEN first is what keeps this cheap at 100,000 rows.)"""
    outstanding, overdue_sum, n_open, n_overdue = db.session.execute(totals_statement(query)).one()
    return {"outstanding": Decimal(outstanding), "overdue": Decimal(overdue_sum), "open_count": n_open,
            "overdue_count": n_overdue}


def sort_clause(key: str | None):
    key = key or "-date"
    descending = key.startswith("-")
    column = SORTS.get(key.lstrip("-"), Invoice.invoice_date)
    return [column.desc() if descending else column.asc(), Invoice.id.desc() if descending else Invoice.id.asc()]


def list_options():
    """The API list's loader options: the page's lines in one more query (selectin), not one per invoice."""
    from sqlalchemy.orm import selectinload
    return selectinload(Invoice.lines)



def _filters_schema():
    from .schemas import InvoiceListArgs
    return InvoiceListArgs


register_list(ListSpec(
    name="invoices", table=Invoice.__tablename__, query=invoice_query, order=sort_clause, filters=_filters_schema,
    sorts=lambda: SORTS, extra=lambda filters: [totals_statement(invoice_query(filters))]))
