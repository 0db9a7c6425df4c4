"""The balance invariant, over random sequences of credit notes, payments and applied credit:
amount_due = total − paid − credited ≥ 0, the payment state follows from it, and customer credit is never negative."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from addons.invoicing import credit_notes, services
from addons.invoicing.models import CustomerCredit, Invoice, Settlement
from core.errors import DomainError
from core.extensions import db
from core.models import Partner

amounts = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("400"), places=2)
quantities = st.decimals(min_value=Decimal("0.25"), max_value=Decimal("3"), places=2)
operation = st.one_of(
    st.tuples(st.just("pay"), amounts),
    st.tuples(st.just("credit_quantity"), st.integers(0, 1), quantities, st.booleans()),
    st.tuples(st.just("credit_amount"), st.integers(0, 1), amounts, st.booleans()),
    st.tuples(st.just("credit_whole"), st.booleans()),
    st.tuples(st.just("post_drafts")),
    st.tuples(st.just("apply_credit"), st.one_of(st.none(), amounts)),
    st.tuples(st.just("next_invoice")),
)


def _check(invoice: Invoice) -> None:
    db.session.refresh(invoice)
    assert invoice.amount_due == invoice.amount_total - invoice.amount_paid - invoice.amount_credited
    assert invoice.amount_due >= 0 and invoice.amount_paid >= 0 and invoice.amount_credited >= 0
    assert invoice.credit_applied <= invoice.amount_paid
    settled = db.session.scalar(select(func.coalesce(func.sum(Settlement.amount), 0))
                                .where(Settlement.invoice_id == invoice.id))
    assert Decimal(settled) == invoice.amount_paid + invoice.amount_credited
    expected = ("not_paid" if invoice.amount_due == invoice.amount_total else
                "partial" if invoice.amount_due > 0 else "paid" if invoice.amount_paid > 0 else "credited")
    assert invoice.payment_state == expected


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=st.lists(operation, min_size=1, max_size=10))
def test_amount_due_invariant(ctx, ops):
    tax = services.create_tax("VAT 20", "20")
    partner = Partner(name="Random")
    db.session.add(partner)
    db.session.flush()
    day = date(2026, 3, 1)
    invoices = [services.post_invoice(services.create_invoice(partner.id, invoice_date=day, lines=[
        {"description": "Labour", "quantity": "2", "unit_price": "60", "tax_id": tax.id},
        {"description": "Part", "quantity": "3", "unit_price": "19.99", "tax_id": tax.id}]))]
    payment_id = 0
    try:
        for op in ops:
            invoice = invoices[-1]
            try:
                with db.session.begin_nested():
                    if op[0] == "pay":
                        payment_id += 1
                        applied = services.settle(invoice, op[1], kind="payment", source_type="payment",
                                                  source_id=payment_id)
                        if op[1] - applied > 0:
                            services.add_credit(partner.id, op[1] - applied, "payment", payment_id, day)
                    elif op[0] == "credit_quantity":
                        line = invoice.lines[op[1] % len(invoice.lines)]
                        note, _ = credit_notes.create_credit_note(invoice, [{"line_id": line.id, "quantity": op[2]}])
                        if op[3]:
                            services.post_invoice(note)
                    elif op[0] == "credit_amount":
                        line = invoice.lines[op[1] % len(invoice.lines)]
                        note, _ = credit_notes.create_credit_note(invoice, [{"line_id": line.id, "amount": op[2]}])
                        if op[3]:
                            services.post_invoice(note)
                    elif op[0] == "credit_whole":
                        credit_notes.create_credit_note(invoice, mode="cancel" if op[1] else "draft")
                    elif op[0] == "post_drafts":
                        drafts = list(db.session.scalars(select(Invoice).where(
                            Invoice.partner_id == partner.id, Invoice.state == "draft")))
                        services.post_many(drafts)
                    elif op[0] == "apply_credit":
                        services.apply_credit(invoice, op[1])
                    elif op[0] == "next_invoice":
                        invoices.append(services.post_invoice(services.create_invoice(
                            partner.id, invoice_date=day, lines=[{"description": "More", "unit_price": "50",
                                                                  "tax_id": tax.id}])))
            except DomainError:
                pass  # a refusal (more than is left, not enough credit, ...) changes nothing
            for inv in invoices:
                _check(inv)
            # what was credited by posted credit notes never exceeds each line's untaxed amount
            for inv in invoices:
                done = credit_notes.credited_by_line(inv)
                for line in inv.lines:
                    assert done[line.id].quantity <= line.quantity
                    assert done[line.id].amount <= line.amount_untaxed
            credits = list(db.session.scalars(select(CustomerCredit).where(CustomerCredit.partner_id == partner.id)))
            assert all(Decimal(0) <= c.amount_used <= c.amount for c in credits)
            balance = services.partner_balance(partner.id)
            assert balance["credit_available"] >= 0
            assert balance["receivable"] == sum((i.amount_due for i in invoices), Decimal(0))
    finally:
        db.session.rollback()
