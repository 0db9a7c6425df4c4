"""The journal entry list's filters, search and sort, shared by the page, the CSV and the API."""
from __future__ import annotations

from sqlalchemy import Select, exists, select

from core.extensions import db
from core.search import TextSearch

from .models import Account, Journal, JournalEntry, JournalLine

# ?q= finds number and reference through their trigram index (core.search; accounting_0004_search).
TEXT_SEARCH = TextSearch(JournalEntry.number, JournalEntry.ref)

SORTS = {"date": JournalEntry.date, "number": JournalEntry.number, "journal": Journal.code,
         "ref": JournalEntry.ref, "state": JournalEntry.state}


def entry_query(filters: dict, sort: str | None = None) -> Select:
    """``filters``: journal, date_from, date_to, account, partner_id, state, origin_type, origin_id, q; ``sort`` as
    in sort_clause, which needs the journals joined only to sort by their code (the count then reads one table).

    Each filter has its index: journal (journal_id, date), dates (date), state (state, date), origin (origin_type,
    origin_id), account and customer through the lines' (account_id, entry_id) and (partner_id, ...) indexes."""
    query = select(JournalEntry)
    if (sort or "").lstrip("-") == "journal":
        query = query.join(Journal, Journal.id == JournalEntry.journal_id)
    if filters.get("journal"):
        # The id looked up first: "journal_id = ?" keeps the (journal_id, date) index's order for the page.
        journal_id = db.session.scalar(select(Journal.id).where(Journal.code == str(filters["journal"]).upper()))
        query = query.where(JournalEntry.journal_id == (journal_id or 0))
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
    # Entries with a line on the account / of the customer: the entry ids come from the lines' index
    # ((account_id, entry_id), (partner_id, ...)) instead of probing the lines of every entry in turn.
    if filters.get("account"):
        # An account is on many entries: walk the entries in the page's order and seek (account_id, entry_id).
        account_id = db.session.scalar(select(Account.id).where(Account.code == filters["account"]))
        query = query.where(exists(select(JournalLine.id).where(JournalLine.account_id == (account_id or 0),
                                                                JournalLine.entry_id == JournalEntry.id)))
    if filters.get("partner_id"):
        # A customer is on few: their entry ids straight from the (partner_id, ...) index.
        query = query.where(JournalEntry.id.in_(select(JournalLine.entry_id)
                                                .where(JournalLine.partner_id == filters["partner_id"])))
    if filters.get("q"):
        query = query.where(TEXT_SEARCH.contains(str(filters["q"]).strip()))
    return query


def sort_clause(key: str | None):
    key = key or "-date"
    descending = key.startswith("-")
    column = SORTS.get(key.lstrip("-"), JournalEntry.date)
    return [column.desc() if descending else column.asc(), JournalEntry.id.desc() if descending else JournalEntry.id.asc()]
