"""Random sequences of everyday operations (post, credit part or whole, pay part or over, refund, apply credit)
keep the ledger in step with the documents: every invoice's amount due equals its receivable line's open amount,
every credit note's and payment's unused credit equals theirs, every entry balances, and the chain verifies."""
from datetime import date
from decimal import Decimal

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from core.errors import DomainError
from core.extensions import db

DAY = date(2026, 6, 1)

operation = st.one_of(
    st.tuples(st.just("invoice"), st.integers(1, 5)),
    st.tuples(st.just("credit_whole"), st.integers(0, 9)),
    st.tuples(st.just("credit_part"), st.integers(0, 9), st.integers(1, 9000)),
    st.tuples(st.just("pay"), st.integers(0, 9), st.integers(1, 40000)),
    st.tuples(st.just("pay"), st.integers(0, 9), st.integers(1, 9000)),
    st.tuples(st.just("refund"), st.integers(1, 20000)),
    st.tuples(st.just("apply_credit"), st.integers(0, 9)),
)


def _run(op, partner_id: int, product_id: int, invoices: list[int]) -> None:
    from addons.invoicing import credit_notes
    from addons.invoicing import services as invoicing
    from addons.payments import services as payments

    def pick(index):
        if not invoices:
            raise DomainError("no invoice yet")
        return invoicing.get_invoice(invoices[index % len(invoices)])

    kind = op[0]
    if kind == "invoice":
        inv = invoicing.create_invoice(partner_id, lines=[{"product_id": product_id, "quantity": str(op[1])}],
                                       invoice_date=DAY)
        invoicing.post_invoice(inv)
        invoices.append(inv.id)
    elif kind == "credit_whole":
        credit_notes.create_credit_note(pick(op[1]), mode="cancel", on=DAY)
    elif kind == "credit_part":
        inv = pick(op[1])
        note, _ = credit_notes.create_credit_note(inv, lines=[{"line_id": inv.lines[0].id,
                                                                "amount": str(Decimal(op[2]) / 100)}], on=DAY)
        invoicing.post_invoice(note)
    elif kind == "pay":
        payments.pay_invoice(pick(op[1]).id, str(Decimal(op[2]) / 100), on=DAY, method="bank_transfer")
    elif kind == "refund":
        payments.refund(partner_id, str(Decimal(op[1]) / 100), on=DAY, method="cash")
    elif kind == "apply_credit":
        invoicing.apply_credit(pick(op[1]))


def _check(partner_id: int) -> None:
    from addons.accounting.models import JournalLine
    from addons.accounting.services import receivable_open_amount
    from addons.invoicing.models import Invoice
    from addons.invoicing.services import available_credit
    from addons.payments.models import Payment
    docs = db.session.scalars(select(Invoice).where(Invoice.partner_id == partner_id, Invoice.state == "posted"))
    for doc in docs:
        assert receivable_open_amount(doc.type, doc.id) == doc.amount_due, (doc.number, doc.amount_due)
    inbound = db.session.scalars(select(Payment.id).where(Payment.partner_id == partner_id,
                                                          Payment.direction == "inbound")).all()
    notes = db.session.scalars(select(Invoice.id).where(Invoice.partner_id == partner_id, Invoice.state == "posted",
                                                        Invoice.type == "credit_note")).all()
    open_credit = sum((receivable_open_amount("payment", i) for i in inbound), Decimal(0)) + \
        sum((receivable_open_amount("credit_note", i) for i in notes), Decimal(0))
    assert open_credit == available_credit(partner_id)
    unbalanced = db.session.execute(select(JournalLine.entry_id).group_by(JournalLine.entry_id).having(
        func.round(func.sum(JournalLine.debit) - func.sum(JournalLine.credit), 2) != 0)).all()
    assert unbalanced == []


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(first=st.integers(1, 5), ops=st.lists(operation, min_size=1, max_size=14))
def test_random_operations_keep_ledger_and_documents_in_step(ctx, first, ops):
    from addons.accounting import chain
    from addons.invoicing import services as invoicing
    from core.partners import create_partner
    partner = create_partner(name="Random customer")
    tax = invoicing.create_tax("VAT 20 (test)", "20")
    product = invoicing.save_product(None, code=f"P{partner.id}", name="Labour", type="labour",
                                     unit_price="33.33", tax_id=tax.id)
    db.session.commit()
    invoices: list[int] = []
    for op in [("invoice", first), *ops]:
        try:
            _run(op, partner.id, product.id, invoices)
            db.session.commit()
            event(f"{op[0]} done")
        except DomainError as exc:
            db.session.rollback()
            event(f"{op[0]} refused: {exc.code}")
            invoices[:] = [i for i in invoices if db.session.get(__import__("addons.invoicing.models",
                                                                            fromlist=["Invoice"]).Invoice, i)]
        _check(partner.id)
    assert chain.verify()["ok"] is True
