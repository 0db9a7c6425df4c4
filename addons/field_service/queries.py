"""The service order list's filters, search and sort, shared by the pages and the API."""
from __future__ import annotations

from datetime import datetime, time, timezone

from sqlalchemy import Select, or_, select

from core.models import Partner

from .models import ServiceOrder

SORTS = {"number": ServiceOrder.id, "scheduled": ServiceOrder.scheduled_at, "customer": Partner.name,
         "state": ServiceOrder.state}


def order_query(filters: dict) -> Select:
    """``filters``: state, technician_id, partner_id, date_from, date_to (scheduled date), q."""
    query = select(ServiceOrder).join(Partner, Partner.id == ServiceOrder.partner_id)
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
        like = "%" + filters["q"].strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(or_(ServiceOrder.number.ilike(like, "\\"), Partner.name.ilike(like, "\\"),
                                ServiceOrder.description.ilike(like, "\\"), ServiceOrder.site_address.ilike(like, "\\")))
    return query


def sort_clause(key: str | None):
    key = key or "-number"
    descending = key.startswith("-")
    column = SORTS.get(key.lstrip("-"), ServiceOrder.id)
    return [column.desc() if descending else column.asc(), ServiceOrder.id.desc() if descending else ServiceOrder.id.asc()]
