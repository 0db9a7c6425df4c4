"""The journal entry list's filters, search and sort, shared by the page, the CSV and the API."""
from __future__ import annotations

from sqlalchemy import Select, exists, or_, select

from .models import Account, Journal, JournalEntry, JournalLine

SORTS = {"date": JournalEntry.date, "number": JournalEntry.number, "journal": Journal.code,
         "ref": JournalEntry.ref, "state": JournalEntry.state}


def entry_query(filters: dict) -> Select:
    """``filters``: journal, date_from, date_to, account, partner_id, state, origin_type, origin_id, q."""
    query = select(JournalEntry).join(Journal, Journal.id == JournalEntry.journal_id)
    if filters.get("journal"):
        query = query.where(Journal.code == str(filters["journal"]).upper())
    if filters.get("date_from"):
        query = query.where(JournalEntry.date >= filters["date_from"])
    if filters.get("date_to"):
        query = query.where(JournalEntry.date <= filters["date_to"])
    if filters.get("state"):
        query = query.where(JournalEntry.state == filters["state"])
    if filters.get("origin_type"):
        query = query.where(JournalEntry.origin_type == filters["origin_type"])
    if filters.get("origin_id"):
        query = query.where(JournalEntry.origin_id == filters["origin_id"])
    line_filters = []
    if filters.get("account"):
        line_filters.append(JournalLine.account_id.in_(select(Account.id).where(Account.code == filters["account"])))
    if filters.get("partner_id"):
        line_filters.append(JournalLine.partner_id == filters["partner_id"])
    if line_filters:
        query = query.where(exists(select(JournalLine.id).where(JournalLine.entry_id == JournalEntry.id,
                                                                *line_filters)))
    if filters.get("q"):
        like = "%" + str(filters["q"]).strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(or_(JournalEntry.number.ilike(like, "\\"), JournalEntry.ref.ilike(like, "\\")))
    return query


def sort_clause(key: str | None):
    key = key or "-date"
    descending = key.startswith("-")
    column = SORTS.get(key.lstrip("-"), JournalEntry.date)
    return [column.desc() if descending else column.asc(), JournalEntry.id.desc() if descending else JournalEntry.id.asc()]
