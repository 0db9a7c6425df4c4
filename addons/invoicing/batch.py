"""Posting many drafts at once: the same rules as services.post_invoice, set-based, chunk by chunk.

Per chunk of about ``CHUNK`` invoices, in one savepoint:

1. read the drafts and their lines (two queries; rows locked on PostgreSQL), recompute every line with
   services.line_amounts (the one rounding rule) and check each is postable;
2. reserve the numbers once per (series, year) with core.sequences.take(count=n), in (date, id) order, so the
   series stays gapless and chronological;
3. one bulk UPDATE (core.bulk.update_rows) moves the drafts to posted with their numbers and totals;
4. the batch hook ``invoicing_invoices_posted(invoices)`` (accounting: entries; field_service: orders invoiced),
   then the single hook ``invoicing_invoice_posted`` once per invoice for plugins that implement only that one
   (pluggy's subset_hook_caller: nothing skipped, nothing done twice);
5. the "posted" audit rows, then the customer's credit applied (services.apply_credit) for the few customers
   who have some.

If anything refuses (DomainError: a draft that is not postable, a date before the last number, a locked period,
a hook), the chunk's savepoint rolls back — numbers included — and that chunk is posted again by
services.post_each (one savepoint per invoice), which reports the refused invoice and posts the others.
Credit notes are always posted by post_each (they settle other documents).
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from types import SimpleNamespace

from flask import current_app
from sqlalchemy import select

from core import audit, sequences
from core.bulk import insert_rows, update_rows
from core.errors import DomainError
from core.extensions import db
from core.models import AuditLog, company, utcnow
from core.money import ZERO

from .models import CustomerCredit, Invoice, InvoiceLine, Tax

CHUNK = 1000


@dataclass(frozen=True)
class PostedLine:
    id: int
    product_id: int | None
    description: str
    tax_id: int | None
    quantity: Decimal
    unit_price: Decimal
    tax_rate: Decimal
    amount_untaxed: Decimal
    amount_tax: Decimal
    amount_total: Decimal
    origin_type: str | None
    origin_id: int | None


@dataclass
class PostedInvoice:
    """What the batch hook is told about one posted invoice (see hookspec invoicing_invoices_posted)."""
    id: int
    type: str
    number: str
    partner_id: int
    invoice_date: date
    due_date: date
    currency: str
    amount_untaxed: Decimal
    amount_tax: Decimal
    amount_total: Decimal
    origin_type: str | None
    origin_id: int | None
    redraft_of_id: int | None
    credited_invoice_id: int | None
    lines: list[PostedLine] = field(default_factory=list)


def _kernel():
    return current_app.extensions["kontor"]


def post_many(invoices: list[Invoice]) -> tuple[list[Invoice], list[tuple[Invoice, str]]]:
    """services.post_many for ORM drafts: posted (refreshed) and refused ``(invoice, message)``."""
    from . import services
    db.session.flush()
    by_id = {i.id: i for i in invoices}
    notes = [i for i in invoices if i.type != "invoice"]
    posted_ids, refused_ids = post_ids([i.id for i in invoices if i.type == "invoice"])
    if by_id:  # the rows changed under the ORM: reload them in one query
        db.session.execute(select(Invoice).where(Invoice.id.in_(list(by_id)))
                           .execution_options(populate_existing=True)).scalars().all()
    posted = [by_id[i] for i in posted_ids]
    refused = [(by_id[i], message) for i, message in refused_ids]
    if notes:
        more, more_refused = services.post_each(notes)
        posted += more
        refused += more_refused
    return posted, refused


def post_ids(ids: list[int], chunk: int = CHUNK) -> tuple[list[int], list[tuple[int, str]]]:
    """Post the draft invoices ``ids`` (type invoice) chunk by chunk; return (posted ids, refused (id, message))."""
    if not ids:
        return [], []
    order = db.session.execute(select(Invoice.id).where(Invoice.id.in_(ids))
                               .order_by(Invoice.invoice_date, Invoice.id)).scalars().all() \
        if len(ids) <= 30000 else _sorted_in_chunks(ids)
    missing = set(ids) - set(order)
    posted: list[int] = []
    refused: list[tuple[int, str]] = [(i, f"There is no invoice {i}.") for i in ids if i in missing]
    for start in range(0, len(order), chunk):
        part = list(order[start:start + chunk])
        try:
            with db.session.begin_nested():
                _post_chunk(part)
            posted += part
        except DomainError:
            p, r = _post_one_by_one(part)
            posted += p
            refused += r
    return posted, refused


def _sorted_in_chunks(ids: list[int]) -> list[int]:
    rows = []
    for start in range(0, len(ids), 30000):
        rows += db.session.execute(select(Invoice.id, Invoice.invoice_date)
                                   .where(Invoice.id.in_(ids[start:start + 30000]))).all()
    return [i for i, _ in sorted(rows, key=lambda r: (r[1], r[0]))]


def _post_one_by_one(ids: list[int]) -> tuple[list[int], list[tuple[int, str]]]:
    from . import services
    invoices = list(db.session.execute(select(Invoice).where(Invoice.id.in_(ids))
                                       .execution_options(populate_existing=True)).scalars())
    posted, refused = services.post_each(invoices)
    return [i.id for i in posted], [(i.id, message) for i, message in refused]


def _not_postable(row, lines, window: tuple[date, date]) -> str | None:
    """Why the set-based path leaves an invoice to the single path (services.post_each), which refuses it with
    its message; None when it is postable here."""
    if row.state != "draft":
        return "not_draft"
    if row.type != "invoice" or not lines or row.amount_total <= 0:
        return "not_postable"
    if not window[0] <= row.invoice_date <= window[1]:
        return "date_out_of_window"
    return None


def _post_chunk(ids: list[int]) -> None:
    from . import services
    t = Invoice.__table__
    lt = InvoiceLine.__table__
    query = select(t).where(t.c.id.in_(ids))
    if db.session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    heads = {r.id: r for r in db.session.execute(query)}
    lines_of: dict[int, list] = defaultdict(list)
    for line in db.session.execute(select(lt).where(lt.c.invoice_id.in_(ids))
                                   .order_by(lt.c.invoice_id, lt.c.sequence, lt.c.id)):
        lines_of[line.invoice_id].append(line)
    rates = dict(db.session.execute(select(Tax.id, Tax.rate)).all())

    snapshots: list[PostedInvoice] = []
    line_updates: list[dict] = []
    window = services.date_window()
    for invoice_id in ids:  # (date, id) order
        row = heads[invoice_id]
        posted_lines = []
        for l in lines_of.get(invoice_id, []):
            rate = rates.get(l.tax_id, ZERO) if l.tax_id else ZERO
            untaxed, tax, total = services.line_amounts(l.quantity, l.unit_price, rate, row.currency)
            if (rate, untaxed, tax, total) != (l.tax_rate, l.amount_untaxed, l.amount_tax, l.amount_total):
                line_updates.append({"id": l.id, "tax_rate": rate, "amount_untaxed": untaxed, "amount_tax": tax,
                                     "amount_total": total})
            posted_lines.append(PostedLine(l.id, l.product_id, l.description, l.tax_id, l.quantity, l.unit_price,
                                           rate, untaxed, tax, total, l.origin_type, l.origin_id))
        untaxed, tax, total = services.document_totals((l.amount_untaxed, l.amount_tax) for l in posted_lines)
        snapshot = PostedInvoice(row.id, row.type, "", row.partner_id, row.invoice_date, row.due_date, row.currency,
                                 untaxed, tax, total, row.origin_type, row.origin_id, row.redraft_of_id,
                                 row.credited_invoice_id, posted_lines)
        if _not_postable(SimpleNamespace(state=row.state, type=row.type, amount_total=snapshot.amount_total,
                                         invoice_date=row.invoice_date), posted_lines, window):
            raise DomainError(f"Invoice #{row.id} cannot be posted with the others.", code="batch_fallback")
        snapshots.append(snapshot)
    if line_updates:  # a tax rate changed since the draft was saved (the lines are still a draft's)
        update_rows(lt, line_updates)

    # Numbers: one reservation per (series, year), dates ascending.
    code, prefix = services.SERIES["invoice"]
    by_year: dict[int, list[PostedInvoice]] = defaultdict(list)
    for snapshot in snapshots:
        by_year[snapshot.invoice_date.year].append(snapshot)
    for year, group in sorted(by_year.items()):
        first = sequences.take(code, group[0].invoice_date, count=len(group), last_date=group[-1].invoice_date)
        for offset, snapshot in enumerate(group):
            snapshot.number = sequences.format_number(prefix, year, first + offset)

    now = utcnow()
    rows = []
    for s in snapshots:
        head = heads[s.id]
        due = max(ZERO, s.amount_total - head.amount_paid - head.amount_credited)
        state = services.payment_state(SimpleNamespace(amount_due=due, amount_total=s.amount_total,
                                                       amount_paid=head.amount_paid))
        rows.append({"id": s.id, "number": s.number, "state": "posted", "posted_at": now,
                     "amount_untaxed": s.amount_untaxed, "amount_tax": s.amount_tax, "amount_total": s.amount_total,
                     "amount_due": due, "payment_state": state})
    update_rows(t, rows)
    _expire(ids)

    _emit(snapshots)
    actor = audit._actor_id()
    insert_rows(AuditLog.__table__, [
        {"document_type": "invoice", "document_id": s.id, "action": "posted", "details": s.number,
         "user_id": actor, "at": now} for s in snapshots])
    if company().auto_apply_credit:
        _apply_credit(snapshots)
    db.session.flush()


def _expire(ids: list[int]) -> None:
    """ORM copies of these invoices (if the caller holds some) are stale now."""
    wanted = set(ids)
    for obj in list(db.session.identity_map.values()):
        if isinstance(obj, Invoice) and obj.id in wanted:
            db.session.expire(obj)


def _emit(snapshots: list[PostedInvoice]) -> None:
    pm = _kernel().pm
    batch_caller = pm.hook.invoicing_invoices_posted
    batch_plugins = [impl.plugin for impl in batch_caller.get_hookimpls()]
    if batch_plugins:
        batch_caller(invoices=snapshots)
    single = pm.subset_hook_caller("invoicing_invoice_posted", remove_plugins=batch_plugins)
    if single.get_hookimpls():
        ids = [s.id for s in snapshots]
        loaded = {i.id: i for i in db.session.execute(
            select(Invoice).where(Invoice.id.in_(ids)).execution_options(populate_existing=True)).scalars()}
        for s in snapshots:
            single(invoice=loaded[s.id])
        db.session.flush()


def _apply_credit(snapshots: list[PostedInvoice]) -> None:
    """Customer credit, only for the customers who have some (one query), through the normal apply_credit."""
    from . import services
    partners = {s.partner_id for s in snapshots}
    with_credit = set(db.session.scalars(
        select(CustomerCredit.partner_id).where(CustomerCredit.partner_id.in_(partners),
                                                CustomerCredit.amount > CustomerCredit.amount_used).distinct()))
    for s in snapshots:
        if s.partner_id in with_credit:
            services.apply_credit(db.session.get(Invoice, s.id))
