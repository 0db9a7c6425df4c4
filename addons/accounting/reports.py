"""Reports, set-based (GROUP BY and window functions in SQL; never a Python loop over every line):
trial balance, general ledger, partner ledger, aged receivables, and the French FEC export."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Iterator

from sqlalchemy import and_, case, func, literal, or_, select, union_all

from core.extensions import db
from core.models import Partner, company
from core.money import ZERO, round_money

from .models import Account, Journal, JournalEntry, JournalLine, Reconciliation


def _posted(query, date_from: date | None = None, date_to: date | None = None):
    query = query.where(JournalEntry.state == "posted")
    if date_from:
        query = query.where(JournalEntry.date >= date_from)
    if date_to:
        query = query.where(JournalEntry.date <= date_to)
    return query


def _d(value) -> Decimal:
    return round_money(value if value is not None else ZERO)


# -- trial balance -----------------------------------------------------------------------------------------------
def trial_balance(date_from: date | None = None, date_to: date | None = None) -> dict:
    debit, credit = func.coalesce(func.sum(JournalLine.debit), 0), func.coalesce(func.sum(JournalLine.credit), 0)
    query = _posted(select(Account.code, Account.name, Account.type, debit, credit)
                    .join(JournalLine, JournalLine.account_id == Account.id)
                    .join(JournalEntry, JournalEntry.id == JournalLine.entry_id), date_from, date_to)
    rows = [{"account_code": code, "account_name": name, "account_type": type_, "debit": _d(d), "credit": _d(c),
             "balance": _d(d) - _d(c)}
            for code, name, type_, d, c in db.session.execute(
                query.group_by(Account.code, Account.name, Account.type).order_by(Account.code))]
    return {"rows": rows, "total_debit": sum((r["debit"] for r in rows), ZERO),
            "total_credit": sum((r["credit"] for r in rows), ZERO), "date_from": date_from, "date_to": date_to}


# -- ledgers ---------------------------------------------------------------------------------------------------
def _ledger_query(filters: list, date_from: date | None, date_to: date | None, partition):
    running = func.sum(JournalLine.debit - JournalLine.credit).over(
        partition_by=partition, order_by=(JournalEntry.date, JournalEntry.id, JournalLine.id))
    query = (select(JournalLine.id.label("line_id"), JournalEntry.id.label("entry_id"), JournalEntry.number,
                    JournalEntry.date, JournalEntry.ref, Journal.code.label("journal"), Account.code.label("account_code"),
                    Account.name.label("account_name"), JournalLine.partner_id, Partner.name.label("partner_name"),
                    JournalLine.label, JournalLine.debit, JournalLine.credit, running.label("running"))
             .join(JournalEntry, JournalEntry.id == JournalLine.entry_id)
             .join(Journal, Journal.id == JournalEntry.journal_id)
             .join(Account, Account.id == JournalLine.account_id)
             .outerjoin(Partner, Partner.id == JournalLine.partner_id)
             .where(*filters))
    return _posted(query, date_from, date_to).subquery()


def _opening(filters: list, group_col, date_from: date | None) -> dict:
    if not date_from:
        return {}
    query = (select(group_col, func.sum(JournalLine.debit - JournalLine.credit))
             .join(JournalEntry, JournalEntry.id == JournalLine.entry_id)
             .join(Account, Account.id == JournalLine.account_id)
             .where(JournalEntry.state == "posted", JournalEntry.date < date_from, *filters).group_by(group_col))
    return {key: _d(value) for key, value in db.session.execute(query)}


def _ledger_page(sub, order, key: str, opening: dict, limit: int, offset: int) -> dict:
    total = db.session.scalar(select(func.count()).select_from(sub)) or 0
    totals = db.session.execute(select(func.coalesce(func.sum(sub.c.debit), 0),
                                       func.coalesce(func.sum(sub.c.credit), 0))).one()
    items = []
    for row in db.session.execute(select(sub).order_by(*order).limit(limit).offset(offset)):
        item = dict(row._mapping)
        item["debit"], item["credit"] = _d(item["debit"]), _d(item["credit"])
        item["balance"] = _d(item.pop("running")) + opening.get(item[key], ZERO)
        items.append(item)
    return {"items": items, "total": total, "total_debit": _d(totals[0]), "total_credit": _d(totals[1]),
            "opening": {str(k): v for k, v in opening.items()}}


def general_ledger(account: str | None = None, date_from: date | None = None, date_to: date | None = None,
                   limit: int = 100, offset: int = 0) -> dict:
    """Lines by account and date with the running balance per account (opening balance before date_from)."""
    filters = [Account.code == account] if account else []
    sub = _ledger_query(filters, date_from, date_to, JournalLine.account_id)
    opening = _opening(filters, Account.code, date_from)
    return _ledger_page(sub, (sub.c.account_code, sub.c.date, sub.c.entry_id, sub.c.line_id), "account_code",
                        opening, limit, offset)


def partner_ledger(partner_id: int | None = None, date_from: date | None = None, date_to: date | None = None,
                   limit: int = 100, offset: int = 0) -> dict:
    """Receivable lines per customer with the running balance (what they owe, less their credit)."""
    filters = [Account.type == "receivable", JournalLine.partner_id.is_not(None)]
    if partner_id:
        filters.append(JournalLine.partner_id == partner_id)
    sub = _ledger_query(filters, date_from, date_to, JournalLine.partner_id)
    opening = _opening(filters, JournalLine.partner_id, date_from)
    return _ledger_page(sub, (sub.c.partner_name, sub.c.partner_id, sub.c.date, sub.c.entry_id, sub.c.line_id),
                        "partner_id", opening, limit, offset)


# -- aged receivables ----------------------------------------------------------------------------------------------
BUCKETS = ("current", "d1_30", "d31_60", "d61_90", "over_90")


def aged_receivables(as_of: date | None = None) -> dict:
    """Open receivable per customer as of a date, by how far past the due date (invoice due date, else the entry
    date): current (not yet due), 1-30, 31-60, 61-90, over 90 days. Unused credit counts as current."""
    from addons.invoicing.models import Invoice
    as_of = as_of or date.today()
    sides = union_all(
        select(Reconciliation.debit_line_id.label("line_id"), (-Reconciliation.amount).label("amount"))
        .where(Reconciliation.date <= as_of),
        select(Reconciliation.credit_line_id.label("line_id"), Reconciliation.amount.label("amount"))
        .where(Reconciliation.date <= as_of)).subquery()
    matched = select(sides.c.line_id, func.sum(sides.c.amount).label("matched")).group_by(sides.c.line_id).subquery()
    open_amount = JournalLine.debit - JournalLine.credit + func.coalesce(matched.c.matched, 0)
    due = func.coalesce(Invoice.due_date, JournalEntry.date)
    bucket = case(
        (or_(due >= as_of, JournalLine.credit > 0), literal("current")),
        (due >= as_of - timedelta(days=30), literal("d1_30")),
        (due >= as_of - timedelta(days=60), literal("d31_60")),
        (due >= as_of - timedelta(days=90), literal("d61_90")),
        else_=literal("over_90"))
    lines = (select(JournalLine.partner_id.label("partner_id"), bucket.label("bucket"), open_amount.label("open"))
             .join(JournalEntry, JournalEntry.id == JournalLine.entry_id)
             .join(Account, Account.id == JournalLine.account_id)
             .outerjoin(matched, matched.c.line_id == JournalLine.id)
             .outerjoin(Invoice, and_(JournalEntry.origin_type.in_(("invoice", "credit_note")),
                                      Invoice.id == JournalEntry.origin_id))
             .where(Account.type == "receivable", JournalEntry.state == "posted", JournalEntry.date <= as_of,
                    JournalLine.partner_id.is_not(None))).subquery()
    columns = [func.coalesce(func.sum(case((lines.c.bucket == b, lines.c.open), else_=0)), 0).label(b)
               for b in BUCKETS]
    query = (select(lines.c.partner_id, Partner.name, *columns, func.sum(lines.c.open).label("total"))
             .join(Partner, Partner.id == lines.c.partner_id)
             .group_by(lines.c.partner_id, Partner.name)
             .having(func.round(func.sum(lines.c.open), 2) != 0)
             .order_by(Partner.name))
    rows = []
    for row in db.session.execute(query):
        item = {"partner_id": row.partner_id, "partner_name": row.name}
        item.update({b: _d(getattr(row, b)) for b in BUCKETS})
        item["total"] = _d(row.total)
        rows.append(item)
    totals = {b: sum((r[b] for r in rows), ZERO) for b in (*BUCKETS, "total")}
    return {"as_of": as_of, "items": rows, "total": len(rows), "totals": totals}


# -- FEC ---------------------------------------------------------------------------------------------------------
FEC_COLUMNS = ["JournalCode", "JournalLib", "EcritureNum", "EcritureDate", "CompteNum", "CompteLib", "CompAuxNum",
               "CompAuxLib", "PieceRef", "PieceDate", "EcritureLib", "Debit", "Credit", "EcritureLet", "DateLet",
               "ValidDate", "Montantdevise", "Idevise"]


def fec_filename(year: int) -> str:
    siren = "".join(ch for ch in (company().siren or "") if ch.isalnum()) or "000000000"
    return f"{siren}FEC{year}1231.txt"


def _letter(n: int | None) -> str:
    if not n:
        return ""
    out = ""
    while n > 0:
        n, rest = divmod(n - 1, 26)
        out = chr(65 + rest) + out
    return out


def _fec_text(value) -> str:
    return " ".join(str(value or "").replace("\t", " ").splitlines())


def _fec_amount(value) -> str:
    return f"{Decimal(value or 0):.2f}".replace(".", ",")


def fec_lines(year: int) -> Iterator[str]:
    """The FEC file for ``year``: header then one tab-separated line per entry line, streamed from the database."""
    sides = union_all(
        select(Reconciliation.debit_line_id.label("line_id"), Reconciliation.id.label("rid"),
               Reconciliation.date.label("rdate")),
        select(Reconciliation.credit_line_id.label("line_id"), Reconciliation.id.label("rid"),
               Reconciliation.date.label("rdate"))).subquery()
    letters = (select(sides.c.line_id, func.min(sides.c.rid).label("letter"), func.max(sides.c.rdate).label("let_date"))
               .group_by(sides.c.line_id).subquery())
    query = (select(Journal.code, Journal.name.label("journal_name"), JournalEntry.number, JournalEntry.date,
                    Account.code.label("account_code"), Account.name.label("account_name"), JournalLine.partner_id,
                    Partner.name.label("partner_name"), JournalEntry.ref, JournalLine.label, JournalLine.debit,
                    JournalLine.credit, letters.c.letter, letters.c.let_date, JournalEntry.posted_at)
             .join(JournalEntry, JournalEntry.id == JournalLine.entry_id)
             .join(Journal, Journal.id == JournalEntry.journal_id)
             .join(Account, Account.id == JournalLine.account_id)
             .outerjoin(Partner, Partner.id == JournalLine.partner_id)
             .outerjoin(letters, letters.c.line_id == JournalLine.id)
             .where(JournalEntry.state == "posted", JournalEntry.date >= date(year, 1, 1),
                    JournalEntry.date <= date(year, 12, 31))
             .order_by(JournalEntry.date, Journal.code, JournalEntry.seq, JournalLine.id))
    yield "\t".join(FEC_COLUMNS) + "\r\n"
    for r in db.session.execute(query.execution_options(yield_per=2000)):
        let_date = r.let_date
        if isinstance(let_date, str):
            let_date = date.fromisoformat(let_date[:10])
        cells = [r.code, r.journal_name, r.number, r.date.strftime("%Y%m%d"), r.account_code, r.account_name,
                 f"C{r.partner_id:06d}" if r.partner_id else "", r.partner_name or "", r.ref or r.number,
                 r.date.strftime("%Y%m%d"), r.label or r.ref or r.number, _fec_amount(r.debit), _fec_amount(r.credit),
                 _letter(r.letter), let_date.strftime("%Y%m%d") if let_date else "",
                 r.posted_at.strftime("%Y%m%d") if r.posted_at else r.date.strftime("%Y%m%d"), "", ""]
        yield "\t".join(_fec_text(c) for c in cells) + "\r\n"
