"""The period-close checklist: drafts left in the period, unreconciled money, sequence gaps, chain status."""
from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from core.extensions import db
from core.money import ZERO

from . import chain, checks
from .models import Account, Journal, JournalEntry, JournalLine, Reconciliation


def _matched_credit():
    return (select(Reconciliation.credit_line_id.label("line_id"), func.sum(Reconciliation.amount).label("matched"))
            .group_by(Reconciliation.credit_line_id).subquery())


def unreconciled_query(until: date | None = None):
    """Receivable credit lines (payments, credit notes) with money not yet matched: (entry, line, open)."""
    matched = _matched_credit()
    open_amount = (JournalLine.credit - func.coalesce(matched.c.matched, 0)).label("open_amount")
    query = (select(JournalEntry.id, JournalEntry.number, JournalEntry.date, JournalEntry.origin_type,
                    JournalEntry.origin_id, JournalLine.partner_id, open_amount)
             .join(JournalEntry, JournalEntry.id == JournalLine.entry_id)
             .join(Account, Account.id == JournalLine.account_id)
             .outerjoin(matched, matched.c.line_id == JournalLine.id)
             .where(Account.type == "receivable", JournalEntry.state == "posted", JournalLine.credit > 0,
                    func.round(JournalLine.credit - func.coalesce(matched.c.matched, 0), 2) > 0))
    if until is not None:
        query = query.where(JournalEntry.date <= until)
    return query.order_by(JournalEntry.date, JournalEntry.id)


def draft_invoices_query(until: date | None):
    from addons.invoicing.models import Invoice
    query = select(Invoice).where(Invoice.state == "draft")
    if until is not None:
        query = query.where(Invoice.invoice_date <= until)
    return query.order_by(Invoice.invoice_date, Invoice.id)


def draft_entries_query(until: date | None):
    query = select(JournalEntry).where(JournalEntry.state == "draft")
    if until is not None:
        query = query.where(JournalEntry.date <= until)
    return query.order_by(JournalEntry.date, JournalEntry.id)


def sequence_gaps() -> list[dict]:
    """Per journal and year: posted count against the numbers' range (SQL); any difference is a gap."""
    rows = db.session.execute(
        select(Journal.code, JournalEntry.fiscal_year, func.count(JournalEntry.id), func.min(JournalEntry.seq),
               func.max(JournalEntry.seq))
        .join(Journal, Journal.id == JournalEntry.journal_id)
        .where(JournalEntry.state == "posted")
        .group_by(Journal.code, JournalEntry.fiscal_year)
        .order_by(Journal.code, JournalEntry.fiscal_year)).all()
    return [{"journal": code, "year": year, "count": count, "first": first, "last": last,
             "ok": first == 1 and last == count}
            for code, year, count, first, last in rows]


def open_counts(until: date | None = None) -> tuple[int, int]:
    count = lambda q: db.session.scalar(select(func.count()).select_from(q.order_by(None).subquery())) or 0  # noqa: E731
    return (count(draft_invoices_query(until)) + count(draft_entries_query(until)),
            count(unreconciled_query(until)))


def chain_status_cached() -> dict:
    return chain.verify_tail(200)


def checklist(until: date | None) -> dict:
    drafts = list(db.session.scalars(draft_invoices_query(until).limit(100)))
    draft_entries = list(db.session.scalars(draft_entries_query(until).limit(100)))
    unreconciled = db.session.execute(unreconciled_query(until).limit(100)).all()
    gaps = sequence_gaps()
    return {"until": until, "drafts": drafts, "draft_entries": draft_entries, "unreconciled": unreconciled,
            "gaps": gaps, "gaps_ok": all(g["ok"] for g in gaps), "chain": chain.verify(),
            "documents": checks.verify_documents(),
            "unreconciled_total": sum((r.open_amount for r in unreconciled), ZERO)}
