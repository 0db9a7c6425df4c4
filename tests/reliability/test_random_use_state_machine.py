"""Invariants under random use (hypothesis stateful): create, post, credit (whole, lines, amount, modify), pay
(part, over), refund, apply credit, in any order, through the real services with accounting listening.

After every step: amount_due = total − paid − credited ≥ 0 for every document; each posted document's due equals
its receivable line's open amount in the ledger; every posted entry balances; the trial balance balances; the
customer's available credit equals the open credit on the ledger and is never negative."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test
from sqlalchemy import select

from addons.accounting import checks, reports
from addons.accounting.services import receivable_open_amount, unbalanced_entry_count
from addons.invoicing import credit_notes, services
from addons.invoicing.models import Invoice
from addons.payments import services as payments
from addons.payments.models import Payment
from core.errors import DomainError
from core.extensions import db
from core.models import Partner

ZERO = Decimal(0)
amounts = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("300"), places=2)


def test_invariants_hold_under_random_use(ctx):
    tax = services.create_tax("VAT 20 (machine)", "20")
    db.session.commit()
    today = date.today()

    class Shop(RuleBasedStateMachine):
        def __init__(self):
            super().__init__()
            partner = Partner(name="Random customer")  # a fresh customer per run: invariants per customer
            db.session.add(partner)
            db.session.commit()
            self.partner_id = partner.id

        def _invoices(self, state=None, type_="invoice"):
            query = select(Invoice).where(Invoice.partner_id == self.partner_id, Invoice.type == type_)
            if state:
                query = query.where(Invoice.state == state)
            return list(db.session.scalars(query.order_by(Invoice.id)))

        def _do(self, action):
            try:
                with db.session.begin_nested():
                    action()
                db.session.commit()
            except DomainError:
                db.session.rollback()  # a refusal changes nothing

        @rule(quantity=st.decimals(min_value=Decimal("0.5"), max_value=Decimal("3"), places=1), price=amounts)
        def create(self, quantity, price):
            self._do(lambda: services.create_invoice(self.partner_id, invoice_date=today, lines=[
                {"description": "Labour", "quantity": quantity, "unit_price": price, "tax_id": tax.id},
                {"description": "Part", "quantity": "1", "unit_price": "19.99", "tax_id": tax.id}]))

        @rule(pick=st.integers(0, 50))
        def post(self, pick):
            drafts = self._invoices("draft") + self._invoices("draft", "credit_note")
            if drafts:
                self._do(lambda: services.post_invoice(drafts[pick % len(drafts)]))

        @precondition(lambda self: self._invoices("posted"))
        @rule(pick=st.integers(0, 50), how=st.sampled_from(["whole", "cancel", "modify", "lines", "amount"]),
              quantity=st.decimals(min_value=Decimal("0.1"), max_value=Decimal("2"), places=1), amount=amounts,
              post=st.booleans())
        def credit(self, pick, how, quantity, amount, post):
            invoices = self._invoices("posted")
            invoice = invoices[pick % len(invoices)]

            def act():
                line = invoice.lines[pick % len(invoice.lines)]
                if how in ("whole", "cancel", "modify"):
                    note, _ = credit_notes.create_credit_note(invoice, mode="draft" if how == "whole" else how)
                elif how == "lines":
                    note, _ = credit_notes.create_credit_note(invoice, [{"line_id": line.id, "quantity": quantity}])
                else:
                    note, _ = credit_notes.create_credit_note(invoice, [{"line_id": line.id, "amount": amount}])
                if post and note.state == "draft":
                    services.post_invoice(note)
            self._do(act)

        @precondition(lambda self: self._invoices("posted"))
        @rule(pick=st.integers(0, 50), part=st.sampled_from([Decimal("0.3"), Decimal("1"), Decimal("1.5")]))
        def pay(self, pick, part):
            invoices = self._invoices("posted")
            invoice = invoices[pick % len(invoices)]
            amount = max(Decimal("0.01"), (invoice.amount_total * part).quantize(Decimal("0.01")))
            self._do(lambda: payments.pay_invoice(invoice.id, amount, on=today, method="bank_transfer"))

        @rule(amount=amounts)
        def refund(self, amount):
            self._do(lambda: payments.refund(self.partner_id, amount, on=today, method="bank_transfer"))

        @precondition(lambda self: self._invoices("posted"))
        @rule(pick=st.integers(0, 50), amount=st.one_of(st.none(), amounts))
        def apply_credit(self, pick, amount):
            invoices = self._invoices("posted")
            self._do(lambda: services.apply_credit(invoices[pick % len(invoices)], amount))

        @invariant()
        def balances(self):
            for doc in self._invoices("posted") + self._invoices("posted", "credit_note"):
                assert doc.amount_due == doc.amount_total - doc.amount_paid - doc.amount_credited, doc.number
                assert doc.amount_due >= 0 and doc.amount_paid >= 0 and doc.amount_credited >= 0
                if doc.type == "invoice":
                    assert receivable_open_amount(doc.type, doc.id) == doc.amount_due, (doc.number, doc.amount_due)
            credit = services.partner_balance(self.partner_id)["credit_available"]
            assert credit >= 0
            inbound = db.session.scalars(select(Payment.id).where(Payment.partner_id == self.partner_id,
                                                                  Payment.direction == "inbound"))
            notes = self._invoices("posted", "credit_note")
            ledger_credit = sum((receivable_open_amount("payment", i) for i in inbound), ZERO) + \
                sum((receivable_open_amount(n.type, n.id) for n in notes), ZERO)
            assert ledger_credit == credit

        @invariant()
        def ledger(self):
            assert unbalanced_entry_count() == 0
            # every posted document agrees with its entry and its balance with what settled it (ledger verify)
            documents = checks.verify_documents()
            assert documents["ok"], documents["problems"]
            trial = reports.trial_balance()
            assert trial["total_debit"] == trial["total_credit"]

    run_state_machine_as_test(Shop, settings=settings(max_examples=20, stateful_step_count=15, deadline=None,
                                                       database=None,
                                                       suppress_health_check=list(HealthCheck)))
