"""Payment rules: methods, registering a payment (one invoice, several, or oldest due first), refunds of customer
credit, form nonces. Every function flushes and never commits (the request commits).

A payment's flow (the hooks' order is in hookspecs.py): validate → flush the Payment row → hook payments_payment_registered → settle the
allocations through invoicing.services.settle() → what is left becomes customer credit (add_credit).
A refund's flow: check the available credit (locked) → flush the Payment row → hook payments_refund_made →
invoicing.services.refund_credit().
"""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from flask import current_app
from sqlalchemy import select

from addons.invoicing import services as invoicing
from addons.invoicing.models import Invoice
from core import audit
from core.errors import DomainError, NotFound, ValidationError
from core.extensions import db
from core.models import Partner, company
from core.money import ZERO, check_amount, exact_money, to_decimal

from .models import DIRECTIONS, JOURNALS, FormNonce, Payment, PaymentAllocation, PaymentMethod

DEFAULT_METHODS = (("cash", "Cash", "CSH"), ("bank_transfer", "Bank transfer", "BNK"), ("card", "Card", "BNK"))


def hook():
    return current_app.extensions["kontor"].hook


# -- methods -----------------------------------------------------------------------------------------------------
def install_default_methods() -> None:
    for code, name, journal in DEFAULT_METHODS:
        if db.session.get(PaymentMethod, code) is None:
            db.session.add(PaymentMethod(code=code, name=name, journal_code=journal, active=True))
    db.session.flush()


def methods(active_only: bool = True) -> list[PaymentMethod]:
    stmt = select(PaymentMethod).order_by(PaymentMethod.name)
    if active_only:
        stmt = stmt.where(PaymentMethod.active.is_(True))
    return list(db.session.scalars(stmt))


def get_method(code) -> PaymentMethod:
    """An active method, or 422 on ``method``."""
    method = db.session.get(PaymentMethod, code) if isinstance(code, str) and code else None
    if method is None or not method.active:
        names = ", ".join(m.code for m in methods())
        raise ValidationError(f"Unknown payment method {code!r}; choose one of {names}.",
                              fields={"method": ["Unknown or inactive payment method."]})
    return method


def create_method(code: str, name: str, journal: str = "BNK") -> PaymentMethod:
    code = (code or "").strip().lower()
    name = (name or "").strip()
    if not code or not code.replace("_", "").isalnum() or len(code) > 40:
        raise ValidationError("A method code is up to 40 letters, digits or underscores, such as \"cheque\".",
                              fields={"code": ["Letters, digits, underscores."]})
    if not name:
        raise ValidationError("A payment method needs a name.", fields={"name": ["Required."]})
    journal = (journal or "").strip().upper()
    if journal not in JOURNALS:
        raise ValidationError("The journal is BNK (bank) or CSH (cash).", fields={"journal": ["BNK or CSH."]})
    if db.session.get(PaymentMethod, code) is not None:
        raise ValidationError(f"The method code {code} exists already.", code="duplicate_code",
                              fields={"code": ["Already used."]})
    method = PaymentMethod(code=code, name=name, journal_code=journal, active=True)
    db.session.add(method)
    db.session.flush()
    return method


def set_method_active(code: str, active: bool) -> PaymentMethod:
    method = db.session.get(PaymentMethod, code)
    if method is None:
        raise NotFound(f"There is no payment method {code}.")
    method.active = active
    db.session.flush()
    return method


# -- checks ----------------------------------------------------------------------------------------------------
def _amount(value, field: str = "amount") -> Decimal:
    try:
        amount = to_decimal(value)
    except ValueError:
        raise ValidationError("The amount must be a number, such as 120.50.", fields={field: ["Not a number."]}) from None
    if not amount.is_finite():
        raise ValidationError("The amount must be a number, such as 120.50.", fields={field: ["Not a number."]})
    if amount <= 0:
        raise ValidationError("The amount must be more than zero.", fields={field: ["Must be more than zero."]})
    check_amount(amount, field, "The amount")
    return exact_money(amount, field, company().currency)


def _date(value) -> date:
    if value is None:
        return date.today()
    if not isinstance(value, date):
        try:
            value = date.fromisoformat(str(value))
        except ValueError:
            raise ValidationError("The date is YYYY-MM-DD.", fields={"date": ["Not a date."]}) from None
    invoicing.check_document_date(value, "date")  # the window every document keeps (far past or future: a typo)
    ahead = company().max_payment_days_ahead or 0
    latest = date.today() + timedelta(days=ahead)
    if value > latest:
        raise ValidationError(f"A payment cannot be dated after {latest.isoformat()} "
                              f"({ahead} day(s) ahead at most); use the day the money arrived.",
                              fields={"date": ["Too far in the future."]})
    return value


def _partner(partner_id) -> Partner:
    partner = db.session.get(Partner, partner_id) if isinstance(partner_id, int) else None
    if partner is None:
        raise ValidationError("Choose an existing customer.", fields={"partner_id": ["Unknown customer."]})
    return partner


def _reference(value) -> str:
    text = (value or "").strip()
    if len(text) > 200:
        raise ValidationError("The reference is 200 characters at most.", fields={"reference": ["Too long."]})
    return text


def get_payment(payment_id: int) -> Payment:
    payment = db.session.get(Payment, payment_id)
    if payment is None:
        raise NotFound(f"There is no payment {payment_id}.")
    return payment


def open_invoices(partner_id: int) -> list[Invoice]:
    """The partner's posted invoices with something due, oldest due first (due date, then id)."""
    return list(db.session.scalars(
        select(Invoice).where(Invoice.partner_id == partner_id, Invoice.state == "posted",
                              Invoice.type == "invoice", Invoice.amount_due > 0)
        .order_by(Invoice.due_date, Invoice.id)))


# -- registering -----------------------------------------------------------------------------------------------
def pay_invoice(invoice_id: int, amount, on=None, method: str = "", reference: str = "") -> Payment:
    """A payment for one posted invoice; what exceeds its amount due becomes customer credit."""
    invoice = invoicing.get_invoice(invoice_id)
    if invoice.type != "invoice" or invoice.state != "posted":
        label = invoice.number or f"#{invoice.id}"
        what = "a credit note" if invoice.type != "invoice" else invoice.state
        raise DomainError(f"Invoice {label} is {what}; payments are registered on posted invoices. "
                          "Post it first.", code="not_posted")
    return _register(invoice.partner_id, amount, on, method, reference, targets=[(invoice, None)])


def register_payment(partner_id, amount, on=None, method: str = "", reference: str = "",
                     allocations: list[dict] | None = None, direction: str = "inbound") -> Payment:
    """``POST /payments``: inbound with given allocations or oldest due first; outbound is a refund."""
    if direction not in DIRECTIONS:
        raise ValidationError("The direction is inbound or outbound.", fields={"direction": ["inbound or outbound."]})
    if direction == "outbound":
        if allocations:
            raise ValidationError("A refund pays credit back; it has no allocations.",
                                  fields={"allocations": ["Not allowed on a refund."]})
        return refund(partner_id, amount, on, method, reference)
    partner = _partner(partner_id)
    if allocations is None:
        return _register(partner.id, amount, on, method, reference, targets=None)
    value = _amount(amount)
    targets: list[tuple[Invoice, Decimal]] = []
    seen: set[int] = set()
    total = ZERO
    for position, item in enumerate(allocations, start=1):
        invoice_id = item.get("invoice_id")
        invoice = db.session.get(Invoice, invoice_id) if isinstance(invoice_id, int) else None
        if invoice is None:
            raise ValidationError(f"Allocation {position}: there is no invoice {invoice_id}.",
                                  fields={"allocations": [f"Item {position}: unknown invoice."]})
        if invoice.id in seen:
            raise ValidationError(f"Allocation {position}: invoice {invoice.number or invoice.id} is listed twice.",
                                  fields={"allocations": [f"Item {position}: duplicate invoice."]})
        seen.add(invoice.id)
        if invoice.partner_id != partner.id or invoice.type != "invoice" or invoice.state != "posted":
            raise ValidationError(f"Allocation {position}: invoice {invoice.number or invoice.id} is not a posted "
                                  f"invoice of {partner.name}.",
                                  fields={"allocations": [f"Item {position}: not a posted invoice of this customer."]})
        share = _amount(item.get("amount"), "allocations")
        invoice = invoicing.get_invoice(invoice.id, lock=True)  # the due checked is the due settled
        if share > invoice.amount_due:
            raise ValidationError(f"Allocation {position}: invoice {invoice.number} has {invoice.amount_due} due; "
                                  f"{share} is more.",
                                  fields={"allocations": [f"Item {position}: more than the amount due."]})
        total += share
        targets.append((invoice, share))
    if total > value:
        raise ValidationError(f"The allocations add up to {total}, more than the payment's {value}.",
                              fields={"allocations": ["They add up to more than the amount."]})
    return _register(partner.id, value, on, method, reference, targets=targets)


def _register(partner_id: int, amount, on, method: str, reference: str,
              targets: list[tuple[Invoice, Decimal | None]] | None) -> Payment:
    """``targets``: (invoice, share or None for "as much as is due"); None: the partner's oldest due first."""
    value = _amount(amount)
    day = _date(on)
    payment_method = get_method(method)
    payment = Payment(partner_id=partner_id, direction="inbound", amount=value, date=day,
                      method_code=payment_method.code, reference=_reference(reference), unallocated=ZERO)
    db.session.add(payment)
    db.session.flush()
    hook().payments_payment_registered(payment=payment)
    left = value
    plan = targets if targets is not None else [(inv, None) for inv in open_invoices(partner_id)]
    for invoice, share in plan:
        if left <= 0:
            break
        wanted = min(left, share) if share is not None else left
        applied = invoicing.settle(invoice, wanted, kind="payment", source_type="payment", source_id=payment.id,
                                   on=day)
        if applied > 0:
            db.session.add(PaymentAllocation(payment_id=payment.id, invoice_id=invoice.id, amount=applied))
            left -= applied
            audit.record(invoice, "payment_registered", f"{applied} by payment #{payment.id}")
    if left > 0:
        invoicing.add_credit(partner_id, left, "payment", payment.id, day)
    payment.unallocated = left
    db.session.flush()
    db.session.refresh(payment, ["allocations"])
    audit.record(payment, "registered", f"{value} {payment_method.name}"
                 + (f", {left} to customer credit" if left > 0 else ""))
    return payment


def refund(partner_id, amount, on=None, method: str = "", reference: str = "") -> Payment:
    """Pay ``amount`` of the customer's available credit back; never more than is available (422)."""
    partner = _partner(partner_id)
    value = _amount(amount)
    day = _date(on)
    payment_method = get_method(method)
    credits = invoicing.open_credits(partner.id, lock=True)  # locked: two refunds cannot spend the same credit
    available = sum((c.remaining for c in credits), ZERO)
    if value > available:
        raise ValidationError(f"{partner.name} has {available} of credit; a refund cannot be more.",
                              code="refund_exceeds_credit", fields={"amount": ["More than the available credit."]})
    payment = Payment(partner_id=partner.id, direction="outbound", amount=value, date=day,
                      method_code=payment_method.code, reference=_reference(reference), unallocated=ZERO)
    db.session.add(payment)
    db.session.flush()
    hook().payments_refund_made(payment=payment)
    invoicing.refund_credit(partner.id, value, "payment", payment.id, day)
    audit.record(payment, "refunded", f"{value} {payment_method.name}")
    db.session.flush()
    return payment


# -- one-time form tokens -----------------------------------------------------------------------------------------
class AlreadyRegistered(DomainError):
    code = "already_registered"

    def __init__(self, payment_id: int | None):
        super().__init__("This payment was already registered.")
        self.payment_id = payment_id


def claim_nonce(nonce: str) -> FormNonce:
    """Take the form's one-time token in this transaction (UNIQUE key): a second submit raises AlreadyRegistered.

    On PostgreSQL a concurrent twin waits on the key until the first commits, then fails the insert
    (IntegrityError, which the view turns into the same message)."""
    nonce = (nonce or "").strip()
    if not nonce or len(nonce) > 64:
        raise ValidationError("This form has expired; open it again.", fields={"nonce": ["Missing."]})
    existing = db.session.get(FormNonce, nonce)
    if existing is not None:
        raise AlreadyRegistered(existing.payment_id)
    row = FormNonce(nonce=nonce)
    db.session.add(row)
    db.session.flush()
    return row


def nonce_payment(nonce: str) -> int | None:
    row = db.session.get(FormNonce, nonce)
    return row.payment_id if row is not None else None


# -- reading -------------------------------------------------------------------------------------------------------
def invoice_payments(invoice_id: int) -> list[tuple[Payment, Decimal]]:
    """The payments that settled ``invoice_id``, with the part each applied."""
    rows = db.session.execute(select(Payment, PaymentAllocation.amount)
                              .join(PaymentAllocation, PaymentAllocation.payment_id == Payment.id)
                              .where(PaymentAllocation.invoice_id == invoice_id)
                              .order_by(Payment.date, Payment.id))
    return [(p, a) for p, a in rows]


def invoice_numbers(ids) -> dict[int, str]:
    ids = set(ids)
    if not ids:
        return {}
    return {i: n or f"#{i}" for i, n in db.session.execute(select(Invoice.id, Invoice.number)
                                                            .where(Invoice.id.in_(ids)))}
