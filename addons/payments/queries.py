"""The payment list's filters, search and sort, shared by the page and the API."""
from __future__ import annotations

from sqlalchemy import Select, select

from core.listing import ListSpec, join_parent, register_list
from core.search import TextSearch, like_pattern
from core.models import Partner

from .models import Payment, PaymentAllocation

# ?q= finds the reference through its trigram index (core.search; migration payments_0003).
REFERENCE_SEARCH = TextSearch(Payment.reference)

SORTS = {"date": Payment.date, "amount": Payment.amount, "customer": Partner.name, "method": Payment.method_code,
         "reference": Payment.reference, "id": Payment.id}


def payment_query(filters: dict, sort: str | None = None) -> Select:
    """``filters``: partner_id, method, direction, date_from, date_to, invoice_id, q (reference or customer)."""
    query = select(Payment)
    if (sort or "").lstrip("-") == "customer":  # joined only to sort: every payment has one customer
        query = join_parent(query, Partner, Payment.partner_id, Partner.name)
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
        # The invoice's allocations (indexed by invoice) name the payments: read by primary key, not by
        # probing every payment for an allocation.
        query = query.where(Payment.id.in_(select(PaymentAllocation.payment_id).where(
            PaymentAllocation.invoice_id == int(filters["invoice_id"]))))
    if filters.get("q"):
        text = filters["q"].strip()
        # The reference through its trigram index; the customers matched first in their small table, so that
        # half is an indexed partner_id IN (...).
        customers = select(Partner.id).where(Partner.name.ilike(like_pattern(text), "\\"))
        query = query.where(REFERENCE_SEARCH.contains_or_parent(text, Payment.partner_id, customers))
    return query


def with_allocations(query: Select) -> Select:
    """The page's allocations in one more query (selectin), not one per payment (the list shows and dumps them)."""
    from sqlalchemy.orm import selectinload
    return query.options(selectinload(Payment.allocations))


def sort_clause(key: str | None):
    key = key or "-date"
    descending = key.startswith("-")
    column = SORTS.get(key.lstrip("-"), Payment.date)
    return [column.desc() if descending else column.asc(), Payment.id.desc() if descending else Payment.id.asc()]


def _filters_schema():
    from .schemas import PaymentListArgs
    return PaymentListArgs


register_list(ListSpec(name="payments", table=Payment.__tablename__, query=payment_query, order=sort_clause,
                       filters=_filters_schema, sorts=lambda: SORTS))
