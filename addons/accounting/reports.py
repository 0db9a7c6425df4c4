"""Reports, set-based (GROUP BY and window functions in SQL; never a Python loop over every line):
trial balance, general ledger, partner ledger, aged receivables, and the French FEC export."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Iterator

from sqlalchemy import case, func, literal, or_, select, union_all

from core.errors import ValidationError
from core.extensions import db
from core.listing import safe_cell
from core.models import Partner, company
from core.money import ZERO, round_money

from .models import Account, Journal, JournalEntry, JournalLine, Reconciliation


def _posted_lines(date_from: date | None = None, date_to: date | None = None) -> list:
    """Posted lines between two dates, read from the lines' own copy of the date (one index, no join of entries)."""
    where = [JournalLine.posted_date.is_not(None)]
    if date_from:
        where.append(JournalLine.posted_date >= date_from)
    if date_to:
        where.append(JournalLine.posted_date <= date_to)
    return where


def _d(value) -> Decimal:
    return round_money(value if value is not None else ZERO)


# -- trial balance -----------------------------------------------------------------------------------------------
def trial_balance(date_from: date | None = None, date_to: date | None = None) -> dict:
    debit, credit = func.coalesce(func.sum(JournalLine.debit), 0), func.coalesce(func.sum(JournalLine.credit), 0)
    # account_id IN (accounts): one index range per account (the covering ix_accounting_lines_posted_account)
    # instead of a pass over every line when the period is short.
    sums = {account_id: (d, c) for account_id, d, c in db.session.execute(
        select(JournalLine.account_id, debit, credit)
        .where(JournalLine.account_id.in_(select(Account.id)), *_posted_lines(date_from, date_to))
        .group_by(JournalLine.account_id))}
    accounts = db.session.execute(select(Account.id, Account.code, Account.name, Account.type)
                                  .where(Account.id.in_(list(sums))).order_by(Account.code)).all() if sums else []
    rows = [{"account_code": code, "account_name": name, "account_type": type_, "debit": _d(sums[id_][0]),
             "credit": _d(sums[id_][1]), "balance": _d(sums[id_][0]) - _d(sums[id_][1])}
            for id_, code, name, type_ in accounts]
    return {"rows": rows, "total_debit": sum((r["debit"] for r in rows), ZERO),
            "total_credit": sum((r["credit"] for r in rows), ZERO), "date_from": date_from, "date_to": date_to}


# -- ledgers ---------------------------------------------------------------------------------------------------
# A ledger is groups (accounts by code, or customers by name) of posted lines in (date, entry, line) order, each
# with its running balance. Nothing reads all of history: counts and totals per group are sums over an index range,
# the page is an index range with OFFSET, and a row's running balance is the group's opening balance (lines before
# date_from) + the sum of the group's lines before the page (an index range sum) + the lines above it on the page.
LINE_ORDER = (JournalLine.posted_date, JournalLine.entry_id, JournalLine.id)


def _group_sums(group_col, where: list) -> dict:
    return {key: (count, debit, credit) for key, count, debit, credit in db.session.execute(
        select(group_col, func.count(), func.coalesce(func.sum(JournalLine.debit), 0),
               func.coalesce(func.sum(JournalLine.credit), 0)).where(*where).group_by(group_col))}


def _opening(group_col, where: list, date_from: date | None) -> dict:
    """Balance per group of the posted lines before ``date_from``."""
    if not date_from:
        return {}
    query = (select(group_col, func.sum(JournalLine.debit - JournalLine.credit))
             .where(*where, JournalLine.posted_date.is_not(None), JournalLine.posted_date < date_from)
             .group_by(group_col))
    return {key: _d(value) for key, value in db.session.execute(query)}


def _rows(where: list, limit: int, offset: int, count: int) -> list:
    """Lines ``offset`` .. ``offset + limit`` of the ``count`` of one group, with their entry, journal, account and
    customer. In the group's second half they are found from its end: OFFSET walks the index up to the page."""
    if offset > count // 2:
        page = (select(JournalLine.id).where(*where).order_by(*(c.desc() for c in LINE_ORDER))
                .limit(limit).offset(max(0, count - offset - limit)).subquery())
    else:
        page = select(JournalLine.id).where(*where).order_by(*LINE_ORDER).limit(limit).offset(offset).subquery()
    return db.session.execute(
        select(JournalLine.id.label("line_id"), JournalEntry.id.label("entry_id"), JournalEntry.number,
               JournalEntry.date, JournalEntry.ref, Journal.code.label("journal"), Account.code.label("account_code"),
               Account.name.label("account_name"), JournalLine.partner_id, Partner.name.label("partner_name"),
               JournalLine.label, JournalLine.debit, JournalLine.credit)
        # LEFT joins (every one finds its row: the foreign keys are NOT NULL) keep the page's ids the outer loop:
        # SQLite reorders inner joins and, weighing a new index without statistics, drove from the journals
        # through every entry of the book to meet the 100 lines (20 ms -> 140 ms at 1M lines).
        .select_from(page).outerjoin(JournalLine, JournalLine.id == page.c.id)
        .outerjoin(JournalEntry, JournalEntry.id == JournalLine.entry_id)
        .outerjoin(Journal, Journal.id == JournalEntry.journal_id)
        .outerjoin(Account, Account.id == JournalLine.account_id)
        .outerjoin(Partner, Partner.id == JournalLine.partner_id)
        .order_by(*LINE_ORDER)).all()


def _before(where: list, count: int, of: int, balance: Decimal) -> Decimal:
    """Sum of debit - credit of the first ``count`` of the ``of`` lines of a group whose lines sum to ``balance``
    (the balance carried into a page). Past the middle, ``balance`` less the lines after them: fewer to read."""
    if count <= 0:
        return ZERO
    if count > of // 2:
        last = (select(JournalLine.debit, JournalLine.credit).where(*where).order_by(*(c.desc() for c in LINE_ORDER))
                .limit(of - count).subquery())
        return balance - _d(db.session.scalar(select(func.sum(last.c.debit - last.c.credit))))
    first = select(JournalLine.debit, JournalLine.credit).where(*where).order_by(*LINE_ORDER).limit(count).subquery()
    return _d(db.session.scalar(select(func.sum(first.c.debit - first.c.credit))))


def _ledger(groups: list, group_col, where: list, opening: dict, opening_key, limit: int, offset: int) -> dict:
    """``groups``: (group value, opening key) in display order; ``where``: the lines of every group."""
    sums = _group_sums(group_col, where)
    items, start, total, total_debit, total_credit = [], 0, 0, ZERO, ZERO
    for value, key in groups:
        count, debit, credit = sums.get(value, (0, 0, 0))
        total += count
        total_debit += _d(debit)
        total_credit += _d(credit)
        local = max(0, offset - start)
        wanted = min(count - local, limit - len(items))
        start += count
        if wanted <= 0 or local >= count:
            continue
        mine = [*where, group_col == value]
        balance = opening.get(key, ZERO) + _before(mine, local, count, _d(debit) - _d(credit))
        for row in _rows(mine, wanted, local, count):
            item = dict(row._mapping)
            item["debit"], item["credit"] = _d(item["debit"]), _d(item["credit"])
            balance += item["debit"] - item["credit"]
            item["balance"] = balance
            items.append(item)
    return {"items": items, "total": total, "total_debit": total_debit, "total_credit": total_credit,
            "opening": {str(opening_key(k)): v for k, v in opening.items()}}


def general_ledger(account: str | None = None, date_from: date | None = None, date_to: date | None = None,
                   limit: int = 100, offset: int = 0) -> dict:
    """Lines by account and date with the running balance per account (opening balance before date_from)."""
    query = select(Account.id, Account.code).order_by(Account.code)
    if account:
        query = query.where(Account.code == account)
    accounts = db.session.execute(query).all()
    ids = [a.id for a in accounts]
    where = [JournalLine.account_id.in_(ids), *_posted_lines(date_from, date_to)]
    codes = {a.id: a.code for a in accounts}
    opening = {codes[k]: v for k, v in _opening(JournalLine.account_id, [JournalLine.account_id.in_(ids)],
                                                 date_from).items()}
    return _ledger([(a.id, a.code) for a in accounts], JournalLine.account_id, where, opening, lambda k: k,
                   limit, offset)


def partner_ledger(partner_id: int | None = None, date_from: date | None = None, date_to: date | None = None,
                   limit: int = 100, offset: int = 0) -> dict:
    """Receivable lines per customer with the running balance (what they owe, less their credit)."""
    if partner_id is not None and db.session.get(Partner, partner_id) is None:  # 0 included: no such customer
        raise ValidationError(f"There is no customer {partner_id}; choose one from the list.",
                              fields={"partner_id": ["Unknown customer."]})
    receivable = select(Account.id).where(Account.type == "receivable")
    scope = [JournalLine.partner_id.is_not(None), JournalLine.account_id.in_(receivable)]
    if partner_id is not None:
        scope.append(JournalLine.partner_id == partner_id)
    where = [*scope, *_posted_lines(date_from, date_to)]
    opening = _opening(JournalLine.partner_id, scope, date_from)
    with_lines = select(JournalLine.partner_id).where(*where).distinct() if partner_id is None else None
    query = select(Partner.id, Partner.id).order_by(Partner.name, Partner.id)
    query = query.where(Partner.id == partner_id) if partner_id is not None else query.where(Partner.id.in_(with_lines))
    return _ledger(db.session.execute(query).all(), JournalLine.partner_id, where, opening, lambda k: k,
                   limit, offset)


# -- aged receivables ----------------------------------------------------------------------------------------------
BUCKETS = ("current", "d1_30", "d31_60", "d61_90", "over_90")


def aged_receivables(as_of: date | None = None) -> dict:
    """Open receivable per customer as of a date, by how far past the due date (invoice due date, else the entry
    date): current (not yet due), 1-30, 31-60, 61-90, over 90 days. Unused credit counts as current.

    A line's open amount is debit - credit + what was matched on it by the date, so a bucket's total is the sum of
    its lines' debit - credit (one pass over the covering partner index, no join) plus the matched amounts (only
    the reconciled lines are joined)."""
    as_of = as_of or date.today()
    due = JournalLine.due_date
    bucket = case(
        (or_(due >= as_of, JournalLine.credit > 0), literal("current")),
        (due >= as_of - timedelta(days=30), literal("d1_30")),
        (due >= as_of - timedelta(days=60), literal("d31_60")),
        (due >= as_of - timedelta(days=90), literal("d61_90")),
        else_=literal("over_90"))
    where = (JournalLine.partner_id.is_not(None), JournalLine.posted_date.is_not(None),
             JournalLine.posted_date <= as_of,
             JournalLine.account_id.in_(select(Account.id).where(Account.type == "receivable")))
    sides = union_all(
        select(Reconciliation.debit_line_id.label("line_id"), (-Reconciliation.amount).label("amount"))
        .where(Reconciliation.date <= as_of),
        select(Reconciliation.credit_line_id.label("line_id"), Reconciliation.amount.label("amount"))
        .where(Reconciliation.date <= as_of)).subquery()
    lines = union_all(
        select(JournalLine.partner_id.label("partner_id"), bucket.label("bucket"),
               func.sum(JournalLine.debit - JournalLine.credit).label("open"))
        .where(*where).group_by(JournalLine.partner_id, bucket),
        select(JournalLine.partner_id.label("partner_id"), bucket.label("bucket"), func.sum(sides.c.amount).label("open"))
        .join(JournalLine, JournalLine.id == sides.c.line_id)
        .where(*where).group_by(JournalLine.partner_id, bucket)).subquery()
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
        yield "\t".join(safe_cell(_fec_text(c)) for c in cells) + "\r\n"
