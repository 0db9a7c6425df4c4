"""The batch path (billing.invoice_orders → invoicing.batch) gives exactly what the per-invoice path
(create_invoice_for_order + services.post_each) gives: invoices, lines, amounts, numbers, journal entries and their
lines, reconciliation of customer credit, audit rows, orders invoiced, and a ledger chain that verifies.

Two identical sets of orders in one database: set A through the per-invoice path, then set B through the batch
path; numbers and ids are compared by their position in each set."""
from __future__ import annotations

import re
from collections import Counter
from datetime import date, datetime, timezone
from decimal import Decimal

from sqlalchemy import func, select

from core.errors import DomainError
from core.extensions import db
from core.hookspecs import hookimpl
from core.models import AuditLog
from core.partners import create_partner

HOURS = ["0.333", "1", "2.5", "1.25", "0.75", "3"]
QTY = ["1", "2", "3", "1.5"]


def _catalog():
    from addons.invoicing import services
    from addons.invoicing.models import Tax
    vat = db.session.scalar(select(Tax).where(Tax.rate == 20).limit(1))
    reduced = db.session.scalar(select(Tax).where(Tax.rate == Decimal("5.5")).limit(1))
    labour = services.save_product(None, code="EQ-LAB", name="Labour", type="labour", unit_price="65.00",
                                   tax_id=vat.id)
    urgent = services.save_product(None, code="EQ-URG", name="Urgent", type="labour", unit_price="95.55",
                                   tax_id=reduced.id)
    part = services.save_product(None, code="EQ-PRT", name="Valve", type="part", unit_price="12.35",
                                 tax_id=vat.id)  # (12.345 was rounded here; more decimals are refused now)
    return [labour, urgent], part


def _orders(partners, labour, part, count: int, tag: str) -> list[int]:
    """``count`` Done orders, 2 time entries and 2 parts each, spread over the partners (same content per tag)."""
    from addons.field_service.models import Part, ServiceOrder, TimeEntry
    ids = []
    for i in range(count):
        order = ServiceOrder(number=f"SO-{tag}-{i:03d}", partner_id=partners[i % len(partners)].id,
                             description=f"Job {i}", state="done", done_at=datetime.now(timezone.utc))
        db.session.add(order)
        db.session.flush()
        for k in range(2):
            db.session.add(TimeEntry(order_id=order.id, product_id=labour[(i + k) % 2].id, date=date(2026, 3, 2),
                                     hours=Decimal(HOURS[(i + k) % len(HOURS)]), description=f"work {k}",
                                     invoiced_qty=Decimal(0)))
            db.session.add(Part(order_id=order.id, product_id=part.id, quantity=Decimal(QTY[(i + k) % len(QTY)]),
                                unit_price=Decimal("12.35") + i, description="", invoiced_qty=Decimal(0)))
        ids.append(order.id)
    db.session.flush()
    return ids


def _snapshot(order_ids: list[int], partners) -> dict:
    from addons.accounting.models import Account, JournalEntry, JournalLine, Reconciliation
    from addons.field_service.models import ServiceOrder
    from addons.invoicing.models import Invoice, InvoiceLine
    position = {oid: n for n, oid in enumerate(order_ids)}
    who = {p.id: n for n, p in enumerate(partners)}
    invoices = list(db.session.scalars(select(Invoice).where(Invoice.origin_type == "service_order",
                                                             Invoice.origin_id.in_(order_ids))))
    invoices.sort(key=lambda i: position[i.origin_id])
    seqs = [int(i.number.rsplit("/", 1)[1]) for i in invoices if i.number]
    base = min(seqs) if seqs else 0
    names = {i.number: f"N{int(i.number.rsplit('/', 1)[1]) - base}" for i in invoices if i.number}
    entry_ids = [i.journal_entry_id for i in invoices if i.journal_entry_id]
    entries = {e.id: e for e in db.session.scalars(select(JournalEntry).where(JournalEntry.id.in_(entry_ids)))}
    entry_seqs = [e.seq for e in entries.values()]
    entry_base = min(entry_seqs) if entry_seqs else 0

    def norm(text):
        return re.sub(r"INV/\d{4}/\d{5}", lambda m: names.get(m.group(0), m.group(0)), text or "")

    rows = []
    for inv in invoices:
        lines = [(l.sequence, l.product_id, l.description, l.quantity, l.unit_price, l.tax_id, l.tax_rate,
                  l.amount_untaxed, l.amount_tax, l.amount_total, l.origin_type)
                 for l in db.session.scalars(select(InvoiceLine).where(InvoiceLine.invoice_id == inv.id)
                                             .order_by(InvoiceLine.sequence, InvoiceLine.id))]
        entry = entries.get(inv.journal_entry_id)
        entry_row = None
        if entry is not None:
            entry_lines = db.session.execute(
                select(Account.code, JournalLine.partner_id, JournalLine.label, JournalLine.debit, JournalLine.credit,
                       JournalLine.id).join(Account, Account.id == JournalLine.account_id)
                .where(JournalLine.entry_id == entry.id).order_by(JournalLine.id)).all()
            matched = db.session.scalar(select(func.coalesce(func.sum(Reconciliation.amount), 0)).where(
                Reconciliation.debit_line_id.in_([l.id for l in entry_lines]))) or 0
            entry_row = (entry.journal.code, entry.date, entry.state, norm(entry.ref), entry.seq - entry_base,
                         entry.fiscal_year, entry.origin_type, entry.hash is not None,
                         [(c, who.get(p), norm(label), d, cr) for c, p, label, d, cr, _ in entry_lines],
                         Decimal(matched))
        order = db.session.get(ServiceOrder, inv.origin_id)
        rows.append({
            "invoice": (inv.type, inv.state, inv.payment_state, who[inv.partner_id], inv.invoice_date, inv.due_date,
                        inv.currency, inv.amount_untaxed, inv.amount_tax, inv.amount_total, inv.amount_paid,
                        inv.amount_credited, inv.amount_due, inv.credit_applied, names.get(inv.number),
                        inv.posted_at is not None),
            "lines": lines, "entry": entry_row, "order": (order.state, order.invoice_id == inv.id)})
    ids = [i.id for i in invoices]
    audit = Counter(
        (t, a, norm(d)) for t, a, d in db.session.execute(
            select(AuditLog.document_type, AuditLog.action, AuditLog.details).where(
                ((AuditLog.document_type == "invoice") & AuditLog.document_id.in_(ids))
                | ((AuditLog.document_type == "journal_entry") & AuditLog.document_id.in_(entry_ids)))))
    audit = Counter({(t, a, re.sub(r"INV/\d{4}/\d{5}", "E", d) if t == "journal_entry" else d): n
                     for (t, a, d), n in audit.items()})
    orders_audit = Counter(a for (a,) in db.session.execute(
        select(AuditLog.action).where(AuditLog.document_type == "service_order",
                                      AuditLog.document_id.in_(order_ids))))
    return {"rows": rows, "audit": audit, "orders_audit": orders_audit, "count": len(invoices),
            "seqs": sorted(s - base for s in seqs)}


def _credit(partner_id: int, amount: str) -> None:
    """An overpayment with nothing to pay: customer credit with its own journal entry."""
    from addons.payments import services as payments
    payments.register_payment(partner_id, amount, on=date(2026, 3, 1), method="bank_transfer", reference="credit")


def test_batch_path_equals_the_per_invoice_path(ctx):
    from addons.accounting import services as accounting
    from addons.field_service import billing
    from addons.invoicing import services
    partners = [create_partner(name=f"Client {n}") for n in range(4)]
    twins = [create_partner(name=f"Client {n}") for n in range(4)]  # set B's customers, the same but fresh
    labour, part = _catalog()
    db.session.commit()

    # Set A: one draft per order, then one posting per invoice (each in its savepoint).
    a_ids = _orders(partners, labour, part, 14, "A")
    _credit(partners[1].id, "100.00")
    by_customer = sorted(a_ids, key=lambda oid: (partners[a_ids.index(oid) % 4].id, oid))  # the batch's order
    drafts = [billing.create_invoice_for_order(oid, invoice_date=date(2026, 3, 2)) for oid in by_customer]
    posted, refused = services.post_each(drafts)
    assert len(posted) == 14 and refused == []
    db.session.commit()

    # Set B: the same orders through the batch path.
    b_ids = _orders(twins, labour, part, 14, "B")
    _credit(twins[1].id, "100.00")
    db.session.commit()
    result = billing.invoice_orders(b_ids, post=True, invoice_date=date(2026, 3, 2))
    assert result.refused == [] and result.posted == 14
    db.session.commit()

    a, b = _snapshot(a_ids, partners), _snapshot(b_ids, twins)
    assert a["count"] == b["count"] == 14
    assert a["seqs"] == b["seqs"] == list(range(14))
    for row_a, row_b in zip(a["rows"], b["rows"]):
        assert row_a == row_b
    assert a["audit"] == b["audit"]
    assert a["orders_audit"]["invoice_created"] == b["orders_audit"]["invoice_created"] == 14
    # Credit was used in both (the same invoice, the same amount), and reconciled.
    assert any(r["invoice"][13] > 0 for r in b["rows"])
    assert [r["invoice"][13] for r in a["rows"]] == [r["invoice"][13] for r in b["rows"]]
    # The whole ledger: balanced, and the chain (A's links, then B's bulk links) verifies.
    assert accounting.unbalanced_entry_count() == 0
    assert accounting.verify_chain()["ok"] is True


class RefuseOne:
    """A plugin with only the single hook, refusing one invoice (by the order it bills)."""

    def __init__(self, order_id: int):
        self.order_id = order_id
        self.calls = 0

    @hookimpl
    def invoicing_invoice_posted(self, invoice):
        self.calls += 1
        if invoice.origin_id == self.order_id:
            raise DomainError("refused by the test hook", code="test_refusal")


def test_a_refusing_hook_in_the_middle_leaves_that_invoice_draft_and_posts_the_rest(app, ctx):
    from addons.accounting import services as accounting
    from addons.field_service import billing
    from addons.field_service.models import ServiceOrder
    from addons.invoicing.models import Invoice
    partners = [create_partner(name=f"Client {n}") for n in range(3)]
    labour, part = _catalog()
    ids = _orders(partners, labour, part, 9, "R")
    db.session.commit()
    plugin = RefuseOne(ids[4])
    app.extensions["kontor"].pm.register(plugin, name="refuse-one")
    try:
        result = billing.invoice_orders(ids, post=True, invoice_date=date(2026, 3, 2))
        db.session.commit()
    finally:
        app.extensions["kontor"].pm.unregister(plugin)
    assert result.posted == 8
    assert [r["order_id"] for r in result.refused] == [ids[4]]
    assert "refused by the test hook" in result.refused[0]["message"]
    invoices = {i.origin_id: i for i in db.session.scalars(select(Invoice).where(Invoice.origin_id.in_(ids)))}
    assert invoices[ids[4]].state == "draft" and invoices[ids[4]].number is None
    assert invoices[ids[4]].journal_entry_id is None
    numbers = sorted(int(i.number.rsplit("/", 1)[1]) for i in invoices.values() if i.state == "posted")
    assert numbers == list(range(1, 9))  # gapless: the refused chunk's reservation rolled back
    states = dict(db.session.execute(select(ServiceOrder.id, ServiceOrder.state).where(ServiceOrder.id.in_(ids))).all())
    assert states[ids[4]] == "done" and sum(1 for s in states.values() if s == "invoiced") == 8
    # Every order names its invoice: the posted ones, and the refused one its draft (linked after the posting).
    linked = dict(db.session.execute(select(ServiceOrder.id, ServiceOrder.invoice_id)
                                     .where(ServiceOrder.id.in_(ids))).all())
    assert linked == {order_id: invoices[order_id].id for order_id in ids}
    assert accounting.unbalanced_entry_count() == 0
    assert accounting.verify_chain() == {"ok": True, "entries_checked": 8, "keyed": True, "first_broken": None}


def test_a_locked_period_refuses_each_invoice_by_name(app, ctx):
    """A lock date after the invoice date: accounting refuses; every invoice is reported, none posted."""
    from addons.field_service import billing
    from core.models import company
    partners = [create_partner(name="Client")]
    labour, part = _catalog()
    ids = _orders(partners, labour, part, 3, "L")
    company().lock_date = date(2026, 3, 5)
    db.session.commit()
    result = billing.invoice_orders(ids, post=True, invoice_date=date(2026, 3, 2))
    db.session.commit()
    assert result.posted == 0
    assert sorted(r["order_id"] for r in result.refused) == sorted(ids)
    assert all("locked" in r["message"] for r in result.refused)


def test_batch_post_of_api_drafts(app, ctx):
    """services.post_many (used by POST /invoices/post) posts drafts and returns them fresh, numbers in date order."""
    from addons.invoicing import services
    partner = create_partner(name="Client")
    db.session.commit()
    drafts = [services.create_invoice(partner.id, invoice_date=date(2026, 3, 3 - n % 2),
                                      lines=[{"description": f"Job {n}", "quantity": "1", "unit_price": "10.00"}])
              for n in range(4)]
    drafts.append(services.create_invoice(partner.id, invoice_date=date(2026, 3, 3)))  # no lines: refused
    db.session.commit()
    posted, refused = services.post_many(drafts)
    db.session.commit()
    assert len(posted) == 4 and [i.id for i, _ in refused] == [drafts[4].id]
    assert "Add at least one line" in refused[0][1]
    by_number = sorted(posted, key=lambda i: i.number)
    assert [i.invoice_date for i in by_number] == sorted(i.invoice_date for i in posted)
    assert all(i.state == "posted" and i.journal_entry_id for i in posted)
    assert db.session.scalar(select(func.count()).select_from(AuditLog).where(
        AuditLog.document_type == "invoice", AuditLog.action == "posted")) == 4


