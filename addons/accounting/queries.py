"""The journal entry list's filters, search and sort, shared by the page, the CSV and the API."""
from __future__ import annotations

from sqlalchemy import Select, exists, func, select

from core.extensions import db
from core.listing import fetch_page
from core.search import TextSearch

from .models import Account, AccountEntryCount, Journal, JournalEntry, JournalLine

# ?q= finds number and reference through their trigram index (core.search; accounting_0004_search).
TEXT_SEARCH = TextSearch(JournalEntry.number, JournalEntry.ref)

# The filters on the entry itself (not on its lines).
ENTRY_FILTERS = ("journal", "date_from", "date_to", "state", "origin_type", "origin_id", "partner_id", "q")
SORTS = {"date": JournalEntry.date, "number": JournalEntry.number, "journal": Journal.code,
         "ref": JournalEntry.ref, "state": JournalEntry.state}


# An account on at most this many entries has them read from the lines' index and sorted; above, the page walks the
# entries in its order (an account on most entries fills a page at once; one on few would be sought in all).
FEW_ENTRIES = 20_000


def entry_query(filters: dict, sort: str | None = None, account_entries: int | None = None) -> Select:
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
        account_id = _account_id(filters["account"])
        if account_entries is not None and account_entries <= FEW_ENTRIES:
            # On few entries (``account_entries``, when counted): their ids from the (account_id, entry_id) index,
            # those entries by primary key, then sorted (the bank account: 20 ms walking the dates -> 0.1 ms).
            ids = (select(JournalLine.entry_id).where(JournalLine.account_id == account_id)
                   .distinct().subquery("account_entries"))
            query = query.join(ids, ids.c.entry_id == JournalEntry.id)
        else:
            # On many: walk the entries in the page's order and seek (account_id, entry_id) for each.
            query = query.where(exists(select(JournalLine.id).where(JournalLine.account_id == account_id,
                                                                    JournalLine.entry_id == JournalEntry.id)))
    if filters.get("partner_id"):
        # A customer is on few: their entry ids straight from the (partner_id, ...) index, then those entries by
        # primary key. Joined as a DISTINCT subquery, not IN: PostgreSQL turned IN into a semi-join that walked
        # the entries by date hoping to meet the customer's soon, and read all 250,000 when they were old (1.1 s).
        ids = (select(JournalLine.entry_id).where(JournalLine.partner_id == filters["partner_id"])
               .distinct().subquery("partner_entries"))
        query = query.join(ids, ids.c.entry_id == JournalEntry.id)
    if filters.get("q"):
        query = query.where(TEXT_SEARCH.contains(str(filters["q"]).strip()))
    return query


def entry_count(filters: dict) -> Select:
    """How many entries ``filters`` match (the pager's and the API's total).

    Filtered by account alone, the entries are the distinct entry ids of that account's lines: one walk of the
    (account_id, entry_id) index, already in entry order so each entry is counted once without a sort or a hash,
    even when it has several lines on the account. (Counting the entries with EXISTS probed that index once per
    entry of the whole book.) PostgreSQL reads the number its triggers keep instead (AccountEntryCount): the walk
    took 45-54 ms for the receivable account at 1M lines there, against 32-34 ms on SQLite. With further filters the
    entries are read as the page reads them."""
    if _account_only(filters):
        account_id = _account_id(filters["account"])
        if db.session.get_bind().dialect.name == "postgresql":
            return (select(func.coalesce(func.sum(AccountEntryCount.entries), 0))
                    .where(AccountEntryCount.account_id == account_id))
        entry_ids = select(JournalLine.entry_id).where(JournalLine.account_id == account_id).distinct()
        return select(func.count()).select_from(entry_ids.subquery())
    return select(func.count()).select_from(entry_query(filters).order_by(None).subquery())


def entry_page(filters: dict, sort: str | None, offset: int, limit: int, options=()) -> tuple[list, int]:
    """``(entries, total)``: the ``limit`` entries from ``offset`` in the order of ``sort``, and how many match.

    Sorted by journal (code, then id): the journals are few, so they are read in code order and each one's entries
    from the (journal_id, id) index, skipping whole journals by their count while the offset is past them; joining
    the journals to order by their code sorted every entry instead (the planner cannot see that the code is unique
    per journal_id and keep the index's id order within it)."""
    total = db.session.scalar(entry_count(filters)) or 0
    key = sort or ""
    if key.lstrip("-") != "journal":
        # Filtered by account alone, the total is how many entries the account is on.
        query = (entry_query(filters, sort, account_entries=total if _account_only(filters) else None)
                 .order_by(*sort_clause(sort)).options(*options))
        return fetch_page(query, limit, offset), total  # deep pages: ids from the sort's index first
    descending = key.startswith("-")
    query = entry_query(filters)
    code = Journal.code.desc() if descending else Journal.code.asc()
    by_id = JournalEntry.id.desc() if descending else JournalEntry.id.asc()
    items: list = []
    for journal_id in db.session.scalars(select(Journal.id).order_by(code)):
        if len(items) >= limit:
            break
        of_journal = query.where(JournalEntry.journal_id == journal_id)
        rows = list(db.session.scalars(of_journal.order_by(by_id).options(*options)
                                       .limit(limit - len(items)).offset(offset)))
        if offset and not rows:
            # The offset is past this journal: skip its entries (counted only when a page starts beyond it).
            offset = max(0, offset - (db.session.scalar(select(func.count())
                                                        .select_from(of_journal.subquery())) or 0))
        else:
            offset = 0
        items += rows
    return items, total


def _account_only(filters: dict) -> bool:
    return bool(filters.get("account")) and not any(filters.get(k) for k in ENTRY_FILTERS)


def _account_id(code) -> int:
    return db.session.scalar(select(Account.id).where(Account.code == code)) or 0


def sort_clause(key: str | None):
    key = key or "-date"
    descending = key.startswith("-")
    column = SORTS.get(key.lstrip("-"), JournalEntry.date)
    return [column.desc() if descending else column.asc(), JournalEntry.id.desc() if descending else JournalEntry.id.asc()]
