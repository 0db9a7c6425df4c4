"""The service order list's filters, search and sort, shared by the pages and the API."""
from __future__ import annotations

from datetime import datetime, time, timezone

from sqlalchemy import Select, select

from core.listing import ListSpec, join_parent, register_list
from core.search import TextSearch, like_pattern
from core.models import Partner

from .models import ServiceOrder

# ?q= finds number, description and site address through their trigram index (core.search; field_service_0003).
TEXT_SEARCH = TextSearch(ServiceOrder.number, ServiceOrder.description, ServiceOrder.site_address)

SORTS = {"number": ServiceOrder.id, "scheduled": ServiceOrder.scheduled_at, "customer": Partner.name,
         "state": ServiceOrder.state}


def order_query(filters: dict, sort: str | None = None) -> Select:
    """``filters``: state, technician_id, partner_id, date_from, date_to (scheduled date), q."""
    query = select(ServiceOrder)
    if (sort or "").lstrip("-") == "customer":  # joined only to sort: every order has one customer
        query = join_parent(query, Partner, ServiceOrder.partner_id, Partner.name)
    if filters.get("state"):
        query = query.where(ServiceOrder.state == filters["state"])
    if filters.get("technician_id"):
        query = query.where(ServiceOrder.technician_id == int(filters["technician_id"]))
    if filters.get("partner_id"):
        query = query.where(ServiceOrder.partner_id == int(filters["partner_id"]))
    if filters.get("date_from"):
        query = query.where(ServiceOrder.scheduled_at >= datetime.combine(filters["date_from"], time.min,
                                                                          tzinfo=timezone.utc))
    if filters.get("date_to"):
        query = query.where(ServiceOrder.scheduled_at <= datetime.combine(filters["date_to"], time.max,
                                                                          tzinfo=timezone.utc))
    if filters.get("q"):
        text = filters["q"].strip()
        # The order's texts through their trigram index; the customers matched first in their small table, so
        # that part is an indexed partner_id IN (...).
        customers = select(Partner.id).where(Partner.name.ilike(like_pattern(text), "\\"))
        query = query.where(TEXT_SEARCH.contains_or_parent(text, ServiceOrder.partner_id, customers))
    return query


def with_lines(query: Select) -> Select:
    """The API list dumps each order's hours and parts: the page's, in two more queries, not two per order."""
    from sqlalchemy.orm import selectinload
    return query.options(selectinload(ServiceOrder.time_entries), selectinload(ServiceOrder.parts))


def sort_clause(key: str | None):
    key = key or "-number"
    descending = key.startswith("-")
    column = SORTS.get(key.lstrip("-"), ServiceOrder.id)
    return [column.desc() if descending else column.asc(), ServiceOrder.id.desc() if descending else ServiceOrder.id.asc()]


def _filters_schema():
    from .schemas import FSOrderListArgs
    return FSOrderListArgs


register_list(ListSpec(name="service_orders", table=ServiceOrder.__tablename__, query=order_query,
                       order=sort_clause, filters=_filters_schema, sorts=lambda: SORTS))
