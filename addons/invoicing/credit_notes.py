"""Credit notes: give back a posted invoice in whole, some lines (or part of their quantity), or an amount off a line.

A credit note is an ``Invoice`` of type ``credit_note`` with ``credited_invoice_id`` set; its lines point at the
invoice lines they give back (``credited_line_id`` for quantities, ``amount_off_line_id`` for amounts off). It starts
as a draft and is posted with services.post_invoice, which settles the invoice and turns a surplus into customer
credit. Never more than is left to credit: every credit note that is not cancelled counts, drafts included.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select

from core import audit
from core.errors import DomainError, ValidationError
from core.extensions import db
from core.money import ZERO, round_money

from . import services
from .models import Invoice, InvoiceLine

MODES = ("draft", "cancel", "modify")
# What becomes of the hours and parts a credit note gives back (docs/api.md, ``work``); origins that bill per line
# (field_service) read ``credit_note.work`` when it is posted (hook invoicing_lines_credited).
WORK = {
    "billed": "The work stays billed: nothing of it is invoiced again. For a price cut, a goodwill gesture, "
              "an hour not worked.",
    "bill_again": "The credited hours and parts go back to the order, which is Done again, to be invoiced again.",
    "cancel_order": "The order is cancelled: nothing of it is invoiced again. The whole invoice only.",
}
REDRAFT = "redraft"  # the work of a note made by "credit and re-draft" (mode modify): it moves to the re-draft
WORK_WORDS = {**WORK, REDRAFT: "The work moves to the re-draft made with this credit note."}


def check_work(work: str | None, mode: str, whole: bool) -> str:
    """The credit note's ``work``: "billed" by default; refused with mode "modify", whose work moves to the
    re-draft (kept as REDRAFT); "cancel_order" refused unless the whole invoice is credited."""
    if mode == "modify":
        if work is not None:
            raise ValidationError("Credit and re-draft moves the work to the new draft; leave work out.",
                                  fields={"work": ["Not with mode modify."]})
        return REDRAFT
    work = work or "billed"
    if work not in WORK:
        raise ValidationError(f"The work is one of {', '.join(WORK)}.", fields={"work": ["Unknown."]})
    if work == "cancel_order" and not whole:
        raise ValidationError("Only a credit of the whole invoice can cancel its order.",
                              fields={"work": ["Whole invoice only."]})
    return work


@dataclass
class Credited:
    """What credit notes (not cancelled) already took from one invoice line."""
    quantity: Decimal = ZERO
    amount: Decimal = ZERO  # untaxed


def credited_by_line(invoice: Invoice, exclude_id: int | None = None) -> dict[int, Credited]:
    """Per line of ``invoice``: quantity and untaxed amount credited so far (drafts included, cancelled not)."""
    line_ids = [line.id for line in invoice.lines]
    result = {line_id: Credited() for line_id in line_ids}
    if not line_ids:
        return result
    note_filter = [Invoice.type == "credit_note", Invoice.state != "cancelled"]
    if exclude_id is not None:
        note_filter.append(Invoice.id != exclude_id)
    for column, is_quantity in ((InvoiceLine.credited_line_id, True), (InvoiceLine.amount_off_line_id, False)):
        rows = db.session.execute(
            select(column, func.coalesce(func.sum(InvoiceLine.quantity), 0),
                   func.coalesce(func.sum(InvoiceLine.amount_untaxed), 0))
            .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
            .where(column.in_(line_ids), *note_filter).group_by(column))
        for line_id, quantity, amount in rows:
            entry = result[line_id]
            if is_quantity:
                entry.quantity += Decimal(quantity)
            entry.amount += Decimal(amount)
    return result


def quantity_credited(line: InvoiceLine) -> Decimal:
    """Quantity of an invoice line given back by credit notes not cancelled (for the API and the pages)."""
    total = db.session.scalar(
        select(func.coalesce(func.sum(InvoiceLine.quantity), 0))
        .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
        .where(InvoiceLine.credited_line_id == line.id, Invoice.state != "cancelled"))
    return Decimal(total or 0)


def credit_notes_of(invoice: Invoice) -> list[Invoice]:
    return list(db.session.scalars(select(Invoice).where(Invoice.credited_invoice_id == invoice.id)
                                   .order_by(Invoice.id)))


def check_creditable(invoice: Invoice) -> None:
    if invoice.type == "credit_note":
        raise DomainError("A credit note cannot be credited.", code="not_creditable")
    if invoice.state != "posted":
        raise DomainError(f"Only posted invoices can be credited; this one is {invoice.state}. "
                          "Change or delete a draft instead.", code="not_posted")


def _line_left(line: InvoiceLine, done: Credited) -> tuple[Decimal, Decimal]:
    """(quantity, untaxed amount) still creditable on ``line``."""
    return line.quantity - done.quantity, line.amount_untaxed - done.amount


def _whole(invoice: Invoice, done: dict[int, Credited]) -> list[dict]:
    """Lines that credit everything still left on ``invoice``: the quantity left, then any amount left."""
    lines = []
    for line in invoice.lines:
        quantity_left, amount_left = _line_left(line, done[line.id])
        if quantity_left > 0:
            quantity_amount = round_money(quantity_left * line.unit_price, invoice.currency)
            if line.unit_price < 0 or quantity_amount <= amount_left:
                lines.append(_quantity_line(line, quantity_left))
                amount_left -= quantity_amount
        if amount_left > 0 and line.unit_price > 0:
            lines.append(_amount_line(line, amount_left))
    return lines


def _quantity_line(line: InvoiceLine, quantity: Decimal) -> dict:
    return {"product_id": line.product_id, "description": line.description, "quantity": quantity,
            "unit_price": line.unit_price, "tax_id": line.tax_id, "origin_type": line.origin_type,
            "origin_id": line.origin_id, "credited_line_id": line.id}


def _amount_line(line: InvoiceLine, amount: Decimal) -> dict:
    return {"product_id": line.product_id, "description": f"Price reduction: {line.description}"[:2000],
            "quantity": Decimal(1), "unit_price": amount, "tax_id": line.tax_id, "amount_off_line_id": line.id}


def _requested(invoice: Invoice, items: list[dict], done: dict[int, Credited]) -> list[dict]:
    by_id = {line.id: line for line in invoice.lines}
    lines, asked_quantity, asked_amount = [], {}, {}
    for position, item in enumerate(items, start=1):
        line = by_id.get(item.get("line_id"))
        if line is None:
            raise ValidationError(f"Line {item.get('line_id')} is not on invoice {invoice.number}.",
                                  fields={"lines": [f"Item {position}: unknown line."]})
        has_quantity, has_amount = item.get("quantity") is not None, item.get("amount") is not None
        if has_quantity == has_amount:
            raise ValidationError("Give either a quantity or an amount for each line to credit.",
                                  fields={"lines": [f"Item {position}: quantity or amount."]})
        if has_quantity:
            quantity = services._decimal(item["quantity"], "quantity", allow_zero=False)
            asked_quantity[line.id] = asked_quantity.get(line.id, ZERO) + quantity
            lines.append(_quantity_line(line, quantity))
            amount = round_money(quantity * line.unit_price, invoice.currency)
        else:
            amount = round_money(services._decimal(item["amount"], "amount", allow_zero=False), invoice.currency)
            lines.append(_amount_line(line, amount))
        asked_amount[line.id] = asked_amount.get(line.id, ZERO) + amount
    for line_id in asked_amount:
        _check_line(by_id[line_id], done[line_id], asked_quantity.get(line_id, ZERO), asked_amount[line_id],
                    invoice.currency)
    return lines


def _check_line(line: InvoiceLine, done: Credited, quantity: Decimal, amount: Decimal, currency: str) -> None:
    quantity_left, amount_left = _line_left(line, done)
    label = (line.description or f"line {line.id}")[:60]
    if quantity > quantity_left:
        raise ValidationError(f"Only {quantity_left.normalize():f} of “{label}” is left to credit; "
                              f"{quantity.normalize():f} asked.", code="exceeds_creditable",
                              fields={"lines": [f"At most {quantity_left.normalize():f} for line {line.id}."]})
    if line.unit_price >= 0 and amount > amount_left:
        raise ValidationError(f"Only {round_money(amount_left, currency)} (untaxed) of “{label}” is left to "
                              f"credit; {amount} asked.", code="exceeds_creditable",
                              fields={"lines": [f"At most {round_money(amount_left, currency)} for line {line.id}."]})


def credits_the_whole_invoice(credit_note: Invoice) -> bool:
    """Whether ``credit_note`` alone gives back every line of its invoice in full (no other note counted)."""
    invoice = services.get_invoice(credit_note.credited_invoice_id)
    if any(d.quantity or d.amount for d in credited_by_line(invoice, exclude_id=credit_note.id).values()):
        return False
    given = {}
    for line in credit_note.lines:
        if line.amount_off_line_id is not None:
            return False
        if line.credited_line_id is not None:
            given[line.credited_line_id] = given.get(line.credited_line_id, ZERO) + line.quantity
    return all(given.get(line.id, ZERO) >= line.quantity for line in invoice.lines)


def set_work(credit_note: Invoice, work: str) -> None:
    """A draft credit note's ``work`` changed (it takes effect when the note is posted)."""
    if credit_note.credited_invoice_id is None:
        raise ValidationError("Only a credit note of an invoice says what becomes of its work.",
                              fields={"work": ["Not for this credit note."]})
    credit_note.work = check_work(work, "draft", whole=credits_the_whole_invoice(credit_note))


def check_limits(credit_note: Invoice) -> None:
    """Refuse (422) a credit note that gives back more than its invoice has left (other notes counted)."""
    if credit_note.credited_invoice_id is None:
        return
    invoice = services.get_invoice(credit_note.credited_invoice_id)
    done = credited_by_line(invoice, exclude_id=credit_note.id)
    by_id = {line.id: line for line in invoice.lines}
    quantity, amount = {}, {}
    for line in credit_note.lines:
        target = line.credited_line_id or line.amount_off_line_id
        if target is None:
            continue
        if target not in by_id:
            raise ValidationError("A credit note line points at a line of another invoice.",
                                  fields={"lines": ["Unknown line."]})
        if line.credited_line_id:
            quantity[target] = quantity.get(target, ZERO) + line.quantity
        amount[target] = amount.get(target, ZERO) + line.amount_untaxed
    for target, asked in amount.items():
        _check_line(by_id[target], done[target], quantity.get(target, ZERO), asked, invoice.currency)


def create_credit_note(invoice: Invoice, lines: list[dict] | None = None, reason: str = "", mode: str = "draft",
                       on: date | None = None, work: str | None = None) -> tuple[Invoice, Invoice | None]:
    """A credit note for ``invoice``: whole (``lines`` empty) or the given ``[{line_id, quantity | amount}]``.

    ``mode`` "draft" leaves it draft; "cancel" (whole only) posts it at once, which settles the invoice;
    "modify" does as cancel and then makes a new draft copy of the invoice to correct. ``work`` (check_work):
    what becomes of the credited hours and parts of service orders, when the note is posted. Returns (credit
    note, new draft or None).
    """
    if mode not in MODES:
        raise ValidationError(f"The mode is one of {', '.join(MODES)}.", fields={"mode": ["Unknown mode."]})
    invoice = services.get_invoice(invoice.id, lock=True)
    check_creditable(invoice)
    if mode != "draft" and lines:
        raise ValidationError("Cancel and modify credit the whole invoice: leave the lines out.",
                              fields={"lines": ["Not with this mode."]})
    done = credited_by_line(invoice)
    work = check_work(work, mode, whole=not lines and not any(d.quantity or d.amount for d in done.values()))
    values = _requested(invoice, lines, done) if lines else _whole(invoice, done)
    if not values or sum(round_money(v["quantity"] * v["unit_price"], invoice.currency) for v in values) <= 0:
        raise ValidationError(f"Invoice {invoice.number} is already fully credited.", code="nothing_to_credit",
                              fields={"lines": ["Nothing left to credit."]})
    on = on or max(date.today(), invoice.invoice_date)
    if on < invoice.invoice_date:
        raise ValidationError("A credit note cannot be dated before its invoice.", fields={"date": ["Too early."]})
    reason = (reason or "").strip()
    note = services.create_invoice(invoice.partner_id, lines=values, invoice_date=on, payment_terms_days=0,
                                   currency=invoice.currency, type="credit_note", credited_invoice_id=invoice.id,
                                   reason=reason, audit_action="created")
    note.work = work
    audit.record(note, "credit_note_of", invoice.number or "")
    audit.record(invoice, "credited", f"credit note #{note.id}" + (f": {reason}" if reason else ""))
    if mode == "draft":
        return note, None
    services.post_invoice(note)
    if mode == "cancel":
        return note, None
    return note, redraft(invoice)


def redraft(invoice: Invoice) -> Invoice:
    """A new draft copy of ``invoice`` (same customer, lines and origins) to correct and post again."""
    lines = [{"product_id": l.product_id, "description": l.description, "quantity": l.quantity,
              "unit_price": l.unit_price, "tax_id": l.tax_id, "origin_type": l.origin_type, "origin_id": l.origin_id}
             for l in invoice.lines]
    draft = services.create_invoice(invoice.partner_id, lines=lines, invoice_date=max(date.today(),
                                                                                      invoice.invoice_date),
                                    payment_terms_days=invoice.payment_terms_days, currency=invoice.currency,
                                    origin=(invoice.origin_type, invoice.origin_id) if invoice.origin_type else None,
                                    notes=invoice.notes, redraft_of_id=invoice.id, audit_action="created")
    audit.record(draft, "redraft_of", invoice.number or "")
    return draft
