"""Batch invoicing, set-based: drafts for many orders in a few statements, and the batch form of "posted →
the orders are invoiced". The rules are billing.py's (invoice_lines, _reserve, on_invoice_final); this only
writes them with bulk INSERT / executemany UPDATE instead of one ORM flush per object.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from types import SimpleNamespace

from sqlalchemy import select, update

from core import audit
from core.bulk import insert_returning_ids, insert_rows, update_rows
from core.extensions import db
from core.models import AuditLog, company, utcnow
from core.money import ZERO, ValueOutOfRange, round_money

from addons.invoicing import services as invoicing
from addons.invoicing.models import Invoice, InvoiceLine, Tax

from .models import PART_ORIGIN, TIME_ENTRY_ORIGIN, Part, ServiceOrder, TimeEntry

ORIGIN = "service_order"


@dataclass
class _Row:
    """A time entry or a part as billing.invoice_lines reads it (no ORM object: thousands are read at once)."""
    id: int
    product_id: int
    quantity: Decimal
    invoiced_qty: Decimal
    unit_price: Decimal | None = None
    technician_id: int | None = None
    date: date | None = None
    description: str = ""

    @property
    def hours(self) -> Decimal:
        return self.quantity

    @property
    def billable(self) -> Decimal:
        return max(ZERO, self.quantity - (self.invoiced_qty or ZERO))


@dataclass
class _Order:
    id: int
    number: str
    partner_id: int
    state: str
    invoice_id: int | None
    time_entries: list = field(default_factory=list)
    parts: list = field(default_factory=list)


def load_orders(ids: list[int], lock: bool = True) -> list[_Order]:
    """The orders to invoice, without the ORM (locked on PostgreSQL) with their hours and parts, in
    three queries, sorted by customer then id. ORM copies of these rows the session may hold are expired."""
    if not ids:
        return []
    ot, et, pt = ServiceOrder.__table__, TimeEntry.__table__, Part.__table__
    query = select(ot.c.id, ot.c.number, ot.c.partner_id, ot.c.state, ot.c.invoice_id).where(ot.c.id.in_(ids))
    if lock and db.session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    orders = {r.id: _Order(*r) for r in db.session.execute(query.order_by(ot.c.partner_id, ot.c.id))}
    for r in db.session.execute(select(et.c.id, et.c.order_id, et.c.product_id, et.c.hours, et.c.invoiced_qty,
                                       et.c.technician_id, et.c.date, et.c.description)
                                .where(et.c.order_id.in_(ids)).order_by(et.c.id)):
        orders[r.order_id].time_entries.append(_Row(r.id, r.product_id, r.hours, r.invoiced_qty, None,
                                                    r.technician_id, r.date, r.description))
    for r in db.session.execute(select(pt.c.id, pt.c.order_id, pt.c.product_id, pt.c.quantity, pt.c.invoiced_qty,
                                       pt.c.unit_price, pt.c.description)
                                .where(pt.c.order_id.in_(ids)).order_by(pt.c.id)):
        orders[r.order_id].parts.append(_Row(r.id, r.product_id, r.quantity, r.invoiced_qty, r.unit_price,
                                             description=r.description))
    return list(orders.values())


def expire_copies(order_ids) -> None:
    """The session's ORM copies of these orders (and their hours and parts) are stale after set-based writes."""
    wanted = set(order_ids)
    for obj in list(db.session.identity_map.values()):
        if isinstance(obj, ServiceOrder) and obj.id in wanted:
            db.session.expire(obj, ["state", "invoice_id"])
        elif isinstance(obj, (TimeEntry, Part)) and obj.order_id in wanted:
            db.session.expire(obj, ["invoiced_qty"])


def create_drafts(groups: list[list[ServiceOrder]], lines_of, invoice_date: date | None = None,
                  link_orders: bool = True, refused: list | None = None) -> list[tuple]:
    """One draft per group of orders (as invoicing.create_invoice would make it, then billing._reserve).

    ``lines_of(members)`` gives the line dicts (billing.invoice_lines). Returns ``(invoice_id, amount_total,
    members)`` for each draft made; groups with nothing to bill are skipped (the caller reports them), and groups
    an amount rule refuses (a line or total beyond core.money.MAX_AMOUNT) are skipped and appended to ``refused``
    as ``(members, message)``, as the single path would refuse them. The ORM
    copies of the orders and their hours and parts are stale afterwards: the caller expires them.

    ``link_orders=False``: the orders do not get their draft's id here; a caller that posts the drafts at once
    links them with the posting (on_invoices_posted) and calls link_orders for the drafts left unposted. Each
    UPDATE of an order writes all 12 of its indexes (three of them trigram GIN: the changed columns are indexed,
    so it is never a HOT update), so one write per order instead of two."""
    settings = company()
    on = invoice_date or date.today()
    terms = settings.payment_terms_days
    currency = settings.currency.upper()
    rates = dict(db.session.execute(select(Tax.id, Tax.rate)).all())
    heads, bodies, made = [], [], []
    for members in groups:
        lines = lines_of(members)
        if not lines:
            continue
        rows = []
        try:
            for position, item in enumerate(lines, start=1):
                price = round_money(item["unit_price"])
                rate = rates.get(item["tax_id"], ZERO) if item["tax_id"] else ZERO
                untaxed, tax, total = invoicing.line_amounts(item["quantity"], price, rate, currency)
                rows.append({"sequence": position * 10, "product_id": item["product_id"],
                             "description": (item["description"] or "").strip(), "quantity": item["quantity"],
                             "unit_price": price, "tax_id": item["tax_id"], "tax_rate": rate,
                             "amount_untaxed": untaxed, "amount_tax": tax, "amount_total": total,
                             "origin_type": item["origin_type"], "origin_id": item["origin_id"],
                             "credited_line_id": None, "amount_off_line_id": None})
            untaxed, tax, total = invoicing.document_totals((r["amount_untaxed"], r["amount_tax"]) for r in rows)
        except ValueOutOfRange as exc:
            if refused is None:
                raise
            refused.append((members, exc.message))
            continue
        state = invoicing.payment_state(SimpleNamespace(amount_due=max(ZERO, total), amount_total=total,
                                                        amount_paid=ZERO))
        single = len(members) == 1
        heads.append({"type": "invoice", "partner_id": members[0].partner_id, "invoice_date": on,
                      "payment_terms_days": terms, "due_date": on + timedelta(days=terms), "currency": currency,
                      "notes": "", "reason": "", "credited_invoice_id": None, "redraft_of_id": None,
                      "origin_type": ORIGIN if single else None, "origin_id": members[0].id if single else None,
                      "state": "draft", "payment_state": state, "amount_untaxed": untaxed, "amount_tax": tax,
                      "amount_total": total, "amount_paid": ZERO, "amount_credited": ZERO,
                      "amount_due": max(ZERO, total), "credit_applied": ZERO})
        bodies.append(rows)
        made.append(members)
    if not heads:
        return []
    ids = insert_returning_ids(Invoice.__table__, heads)
    insert_rows(InvoiceLine.__table__, [dict(row, invoice_id=invoice_id)
                                        for invoice_id, rows in zip(ids, bodies) for row in rows])
    actor, now = audit._actor_id(), utcnow()
    insert_rows(AuditLog.__table__, [{"document_type": "invoice", "document_id": i, "action": "created",
                                     "details": "", "user_id": actor, "at": now} for i in ids])
    # billing._reserve: everything on the order is on the draft now.
    order_ids = [o.id for members in made for o in members]
    et, pt = TimeEntry.__table__, Part.__table__
    db.session.execute(update(et).where(et.c.order_id.in_(order_ids)).values(invoiced_qty=et.c.hours))
    db.session.execute(update(pt).where(pt.c.order_id.in_(order_ids)).values(invoiced_qty=pt.c.quantity))
    drafts = [(i, h["amount_total"], members) for i, h, members in zip(ids, heads, made)]
    if link_orders:
        link_orders_to(drafts)
    return drafts


def link_orders_to(drafts: list[tuple]) -> None:
    """billing._reserve's link: each order names its draft (``drafts`` as create_drafts returns them)."""
    rows = [{"id": o.id, "invoice_id": invoice_id} for invoice_id, _, members in drafts for o in members]
    if rows:
        update_rows(ServiceOrder.__table__, rows)


def on_invoices_posted(invoices) -> None:
    """billing.on_invoice_final for a batch: the orders of each invoice are invoiced and name it."""
    from . import billing
    simple, others = [], []
    for invoice in invoices:
        if invoice.type != "invoice":
            continue
        if invoice.origin_type == ORIGIN and invoice.origin_id and invoice.redraft_of_id is None:
            simple.append({"id": invoice.origin_id, "state": "invoiced", "invoice_id": invoice.id})
        elif invoice.redraft_of_id is None and invoice.origin_type is None:
            others.append(invoice)
        else:
            billing.on_invoice_final(db.session.get(Invoice, invoice.id))
    # One invoice per customer: the orders come from the lines' origins.
    entry_ids = {l.origin_id: inv.id for inv in others for l in inv.lines if l.origin_type == TIME_ENTRY_ORIGIN}
    part_ids = {l.origin_id: inv.id for inv in others for l in inv.lines if l.origin_type == PART_ORIGIN}
    orders: dict[int, int] = {}
    if entry_ids:
        for entry_id, order_id in db.session.execute(select(TimeEntry.id, TimeEntry.order_id)
                                                     .where(TimeEntry.id.in_(list(entry_ids)))):
            orders[order_id] = entry_ids[entry_id]
    if part_ids:
        for part_id, order_id in db.session.execute(select(Part.id, Part.order_id).where(Part.id.in_(list(part_ids)))):
            orders[order_id] = part_ids[part_id]
    simple += [{"id": order_id, "state": "invoiced", "invoice_id": invoice_id} for order_id, invoice_id in orders.items()]
    if not simple:
        return
    update_rows(ServiceOrder.__table__, simple, only_if="state IN ('done', 'invoiced')")
    expire_copies(row["id"] for row in simple)
