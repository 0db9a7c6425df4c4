"""Invoicing rules: drafts, posting, the one settle() path, customer credit (products and taxes: catalog.py,
re-exported here; credit notes: credit_notes.py; PDF, Factur-X and email: documents.py).

Every function flushes and never commits: the request (or CLI command) commits, so a refusal anywhere — here
or in a hook — leaves nothing behind.
"""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from flask import current_app
from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import set_committed_value

from core import audit, sequences
from core.errors import DomainError, InvalidTransition, NotFound, ValidationError
from core.extensions import db
from core.models import Company, Partner, company, utcnow
from core.money import ZERO, check_amount, exact_money, round_money, to_decimal

from .catalog import _decimal, create_tax, get_product, get_tax, save_product, update_tax  # noqa: F401 (API)
from .models import CreditUse, CustomerCredit, Invoice, InvoiceLine, Settlement, Tax

SERIES = {"invoice": ("invoicing.invoice", "INV"), "credit_note": ("invoicing.credit_note", "CN")}
TRANSITIONS = {"draft": {"posted", "cancelled"}, "posted": set(), "cancelled": set()}
LINE_FIELDS = ("product_id", "description", "quantity", "unit_price", "tax_id")


def hook():
    return current_app.extensions["kontor"].hook


# -- drafts --------------------------------------------------------------------------------------------------
# Statements every posting runs, built once (building one costs about as much as running it).
_WITH_LINES = [joinedload(Invoice.lines)]
# populate_existing: the loaded invoice is refreshed from the row we lock, so its amounts are the ones committed
# by whoever held the lock before us. Lines are read in the same query, not locked.
_LOCK = (select(Invoice).where(Invoice.id == bindparam("invoice_id")).options(*_WITH_LINES)
         .with_for_update(of=Invoice).execution_options(populate_existing=True))
# Core columns, not the ORM attributes: an ORM read would autoflush (and build ORM state) for one id.
_CREDITS = CustomerCredit.__table__
# The posting's read: the same locked invoice with its lines, and the company row (the lock date the accounting
# hook checks, auto_apply_credit) in the same statement, so company() finds it in the identity map. An outer join:
# without a company row, company() creates it as it always does.
_LOCK_FOR_POSTING = (select(Invoice, Company).select_from(Invoice).outerjoin(Company, Company.id == 1)
                     .where(Invoice.id == bindparam("invoice_id")).options(*_WITH_LINES)
                     .with_for_update(of=Invoice).execution_options(populate_existing=True))
_HAS_CREDIT = (select(_CREDITS.c.id).where(_CREDITS.c.partner_id == bindparam("partner_id"),
                                           _CREDITS.c.amount > _CREDITS.c.amount_used).limit(1))
_INVOICES = Invoice.__table__
# The posting itself, one UPDATE: only a draft moves (the row is locked; the ORM guard and the triggers stand
# behind it for any other path).
_MARK_POSTED = (_INVOICES.update()
                .where(_INVOICES.c.id == bindparam("invoice_id"), _INVOICES.c.state == "draft")
                .values(number=bindparam("invoice_number"), state="posted",
                        posted_at=bindparam("invoice_posted_at")))


def get_invoice(invoice_id: int, lock: bool = False) -> Invoice:
    """The invoice with its lines (one query); with ``lock``, its row is locked until the transaction ends
    (PostgreSQL)."""
    if lock:
        # Kept from the locking read, not read again with get(): an object nobody refers to leaves the identity
        # map, so get() would query once more.
        invoice = db.session.execute(_LOCK, {"invoice_id": invoice_id}).unique().scalars().one_or_none()
    else:
        invoice = db.session.get(Invoice, invoice_id, options=_WITH_LINES)
    if invoice is None:
        raise NotFound(f"There is no invoice {invoice_id}.")
    return invoice


def _ensure_draft(invoice: Invoice, action: str = "change") -> None:
    if invoice.state != "draft":
        label = invoice.number or f"#{invoice.id}"
        raise DomainError(f"Invoice {label} is {invoice.state}; only drafts can be {action}d. "
                          "Add a credit note to correct a posted invoice.", code="not_draft")


def line_amounts(quantity: Decimal, unit_price: Decimal, tax_rate: Decimal, currency: str) -> tuple[Decimal, Decimal, Decimal]:
    """A line's (untaxed, tax, total): each rounded to the currency. The ONE rule, for the ORM path
    (compute_line) and the batch path (invoicing.batch)."""
    untaxed = check_amount(round_money(quantity * unit_price, currency), "lines", "A line")
    tax = round_money(untaxed * tax_rate / 100, currency)
    return untaxed, tax, check_amount(untaxed + tax, "lines", "A line")


def document_totals(lines) -> tuple[Decimal, Decimal, Decimal]:
    """A document's (untaxed, tax, total) from its lines' ``(amount_untaxed, amount_tax)``: sums of the lines,
    each rounded already (never rounded again as a whole), refused beyond MAX_AMOUNT. The ORM path (recompute)
    and the batch paths (invoicing.batch, field_service.batch) all use it."""
    untaxed = tax = ZERO
    for line_untaxed, line_tax in lines:
        untaxed += line_untaxed
        tax += line_tax
    check_amount(untaxed, "lines", "The untaxed total")
    return untaxed, tax, check_amount(untaxed + tax, "lines", "The total")


def _assign(obj, **values) -> None:
    """Set only what differs: setting an attribute to its own value still marks the object modified, and every
    later statement's autoflush would then walk it (the posting re-computes amounts that are almost always final)."""
    for key, value in values.items():
        if getattr(obj, key) != value:
            setattr(obj, key, value)


def compute_line(line: InvoiceLine, currency: str) -> None:
    tax = db.session.get(Tax, line.tax_id) if line.tax_id else None  # identity map: no query once loaded
    rate = tax.rate if tax is not None else ZERO
    untaxed, tax_amount, total = line_amounts(line.quantity, line.unit_price, rate, currency)
    _assign(line, tax_rate=rate, amount_untaxed=untaxed, amount_tax=tax_amount, amount_total=total)


def recompute(invoice: Invoice) -> None:
    """Totals are sums of the lines, each rounded to the currency (never rounded again as a whole)."""
    for line in invoice.lines:
        compute_line(line, invoice.currency)
    untaxed, tax, total = document_totals((l.amount_untaxed, l.amount_tax) for l in invoice.lines)
    _assign(invoice, amount_untaxed=untaxed, amount_tax=tax, amount_total=total)
    _refresh_balance(invoice)


def _refresh_balance(invoice: Invoice) -> None:
    due = max(ZERO, invoice.amount_total - invoice.amount_paid - invoice.amount_credited)
    _assign(invoice, amount_due=due)
    _assign(invoice, payment_state=payment_state(invoice))


def payment_state(invoice: Invoice) -> str:
    """docs/api.md (Invoicing): not_paid while nothing is settled; partial while 0 < due < total; paid / credited at zero."""
    if invoice.amount_due <= 0 and invoice.amount_total > 0:
        return "paid" if invoice.amount_paid > 0 else "credited"
    if invoice.amount_due < invoice.amount_total:
        return "partial"
    return "not_paid"


def _line_values(values: dict, existing: InvoiceLine | None = None) -> dict:
    out: dict = {}
    if "product_id" in values:
        product = get_product(values["product_id"]) if values["product_id"] is not None else None
        out["product_id"] = product.id if product else None
        if product is not None and existing is None:
            out.setdefault("description", product.name)
            out.setdefault("unit_price", product.unit_price)
            out.setdefault("tax_id", product.tax_id)
    if "description" in values:
        out["description"] = (values["description"] or "").strip()
    if "quantity" in values:
        out["quantity"] = _decimal(values["quantity"], "quantity", minimum=ZERO, allow_zero=False)
    if "unit_price" in values:
        out["unit_price"] = exact_money(_decimal(values["unit_price"], "unit_price", minimum=None), "unit_price",
                                        company().currency)
    if "tax_id" in values:
        out["tax_id"] = get_tax(values["tax_id"]).id if values["tax_id"] is not None else None
    for key in ("origin_type", "origin_id", "credited_line_id", "amount_off_line_id", "sequence"):
        if key in values:
            out[key] = values[key]
    return out


def _apply_lines(invoice: Invoice, lines: list[dict]) -> None:
    """The rule of docs/api.md (PATCH /invoices/{id}): an item with ``id`` keeps and changes that line, one without adds a line, others go."""
    by_id = {l.id: l for l in invoice.lines}
    keep: list[InvoiceLine] = []
    for position, item in enumerate(lines, start=1):
        if item.get("id") is not None:
            line = by_id.get(item["id"])
            if line is None:
                raise ValidationError(f"Line {item['id']} is not on this invoice.", fields={"lines": ["Unknown line."]})
            for key, value in _line_values(item, existing=line).items():
                setattr(line, key, value)
        else:
            data = _line_values(item)
            if not data.get("description") and data.get("product_id") is None:
                raise ValidationError("Each line needs a product or a description.",
                                      fields={"lines": [f"Line {position}: product or description required."]})
            data.setdefault("quantity", Decimal(1))
            data.setdefault("unit_price", ZERO)
            line = InvoiceLine(**data)
        line.sequence = position * 10
        keep.append(line)
    invoice.lines = keep
    db.session.flush()


def create_invoice(partner_id: int, lines: list[dict] | None = None, invoice_date: date | None = None,
                   due_date: date | None = None, payment_terms_days: int | None = None, currency: str | None = None,
                   origin: tuple[str, int] | None = None, notes: str = "", type: str = "invoice",
                   credited_invoice_id: int | None = None, reason: str = "", redraft_of_id: int | None = None,
                   audit_action: str = "created") -> Invoice:
    """A new draft."""
    partner = db.session.get(Partner, partner_id) if partner_id is not None else None
    if partner is None:
        raise ValidationError("Choose an existing customer.", fields={"partner_id": ["Unknown customer."]})
    settings = company()
    invoice_date = check_document_date(invoice_date or date.today())
    terms = settings.payment_terms_days if payment_terms_days is None else payment_terms_days
    if terms < 0 or terms > 3650:
        raise ValidationError("Payment terms are 0 to 3650 days.", fields={"payment_terms_days": ["Out of range."]})
    invoice = Invoice(type=type, partner_id=partner.id, invoice_date=invoice_date, payment_terms_days=terms,
                      due_date=due_date or invoice_date + timedelta(days=terms),
                      currency=(currency or settings.currency).upper(), notes=notes or "", reason=reason or "",
                      credited_invoice_id=credited_invoice_id, redraft_of_id=redraft_of_id,
                      origin_type=origin[0] if origin else None, origin_id=origin[1] if origin else None,
                      state="draft", payment_state="not_paid")
    if invoice.due_date < invoice.invoice_date:
        raise ValidationError("The due date cannot be before the invoice date.", fields={"due_date": ["Too early."]})
    db.session.add(invoice)
    db.session.flush()
    _apply_lines(invoice, lines or [])
    recompute(invoice)
    db.session.flush()
    audit.record(invoice, audit_action)
    return invoice


def update_invoice(invoice: Invoice, **values) -> Invoice:
    """Change a draft's fields; ``lines`` replaces the lines as docs/api.md says. Totals are recomputed."""
    _ensure_draft(invoice, "change")
    if values.get("work") is not None and not invoice.is_credit_note:
        raise ValidationError("Only a credit note says what becomes of the work it credits.",
                              fields={"work": ["Credit notes only."]})
    changed = []
    if "partner_id" in values and values["partner_id"] != invoice.partner_id:
        if db.session.get(Partner, values["partner_id"]) is None:
            raise ValidationError("Choose an existing customer.", fields={"partner_id": ["Unknown customer."]})
        invoice.partner_id = values["partner_id"]
        changed.append("customer")
    if "invoice_date" in values and values["invoice_date"] and values["invoice_date"] != invoice.invoice_date:
        invoice.invoice_date = check_document_date(values["invoice_date"])
        changed.append("invoice date")
        if "due_date" not in values:
            invoice.due_date = invoice.invoice_date + timedelta(days=invoice.payment_terms_days)
    if "payment_terms_days" in values and values["payment_terms_days"] is not None:
        terms = int(values["payment_terms_days"])
        if terms < 0 or terms > 3650:
            raise ValidationError("Payment terms are 0 to 3650 days.", fields={"payment_terms_days": ["Out of range."]})
        invoice.payment_terms_days = terms
        invoice.due_date = invoice.invoice_date + timedelta(days=terms)
        changed.append("payment terms")
    if values.get("due_date"):
        invoice.due_date = values["due_date"]
        changed.append("due date")
    if invoice.due_date < invoice.invoice_date:
        raise ValidationError("The due date cannot be before the invoice date.", fields={"due_date": ["Too early."]})
    for key in ("notes", "reason"):
        if key in values and values[key] is not None:
            setattr(invoice, key, values[key])
            changed.append(key)
    if "lines" in values and values["lines"] is not None:
        _apply_lines(invoice, values["lines"])
        changed.append("lines")
    recompute(invoice)
    db.session.flush()
    if invoice.is_credit_note:
        from .credit_notes import check_limits, set_work
        check_limits(invoice)
        if values.get("work") is not None and values["work"] != invoice.work:
            set_work(invoice, values["work"])
            changed.append("work")
    if changed:
        audit.record(invoice, "changed", ", ".join(changed))
    return invoice


def delete_draft(invoice: Invoice, cancel_origin: bool = False) -> None:
    """Delete a draft; tell the origin (release what it billed, or cancel it with ``cancel_origin``)."""
    _ensure_draft(invoice, "delete")
    hook().invoicing_draft_deleted(invoice=invoice, cancel_origin=cancel_origin)
    audit.record(invoice, "deleted", "origin cancelled" if cancel_origin else "")
    db.session.delete(invoice)
    db.session.flush()


def invoice_externally(invoice: Invoice) -> Invoice:
    """A draft invoiced in another system: closed without number or entry; its origin counts as invoiced."""
    _ensure_draft(invoice, "close")
    invoice.state = "cancelled"
    hook().invoicing_invoice_cancelled(invoice=invoice, reason="invoiced_externally")
    audit.record(invoice, "invoiced_externally")
    db.session.flush()
    return invoice


# -- posting -------------------------------------------------------------------------------------------------
def date_window(today: date | None = None) -> tuple[date, date]:
    """The dates a document may carry: the company's window (``document_date_window_days``, a year by default)
    either side of today. A date outside is a typo far more often than a wish: an invoice dated 0001-01-01 got
    INV/1/00001, and with numbers in date order a far-future one would block every later posting of its year."""
    today = today or date.today()
    days = company().document_date_window_days
    return today - timedelta(days=days), today + timedelta(days=days)


def check_document_date(on: date, field: str = "invoice_date") -> date:
    first, last = date_window()
    if not first <= on <= last:
        raise ValidationError(f"The date {on.isoformat()} is outside the dates documents may carry, "
                              f"{first.isoformat()} to {last.isoformat()}. Check the year; an administrator can "
                              "widen the window in Settings.", code="date_out_of_window",
                              fields={field: [f"From {first.isoformat()} to {last.isoformat()}."]})
    return on


def _check_postable(invoice: Invoice) -> None:
    if invoice.state != "draft":
        raise InvalidTransition(f"Invoice {invoice.number or invoice.id} is already {invoice.state}.",
                                code="already_posted" if invoice.state == "posted" else "not_draft")
    check_document_date(invoice.invoice_date)
    if not invoice.lines:
        raise ValidationError("Add at least one line before posting.", code="no_lines", fields={"lines": ["Empty."]})
    if invoice.amount_total <= 0:
        raise ValidationError("The total must be more than zero to post.", code="zero_total",
                              fields={"lines": ["Total is zero or negative."]})
    if invoice.is_credit_note:
        from .credit_notes import check_limits
        check_limits(invoice)


def post_invoice(invoice: Invoice | int) -> Invoice:
    """Draft -> posted: the final number, the hooks (the journal entry), then what the posting settles.

    ``invoice`` is an Invoice or its id (the API passes the id: the row is then read once, already locked).
    All in the caller's transaction: if anything refuses, the caller rolls back and the number is not used.
    """
    invoice_id = invoice if isinstance(invoice, int) else invoice.id
    row = db.session.execute(_LOCK_FOR_POSTING, {"invoice_id": invoice_id}).unique().first()
    if row is None:
        raise NotFound(f"There is no invoice {invoice_id}.")
    invoice = row[0]
    # Held for the whole posting: the accounting hook reads the lock date from the same row, and the session's
    # identity map keeps an object only while someone refers to it (else each company() reads it again).
    settings = company()
    _check_postable(invoice)
    recompute(invoice)
    if db.session.new or db.session.deleted or any(db.session.is_modified(o) for o in db.session.dirty):
        db.session.flush()  # the lines' final amounts, while still a draft (the database refuses line changes after)
    code, prefix = SERIES[invoice.type]
    number = sequences.format_number(prefix, invoice.invoice_date.year, sequences.take(code, invoice.invoice_date))
    _mark_posted(invoice, number)
    hook().invoicing_invoice_posted(invoice=invoice)
    audit.record(invoice, "posted", invoice.number)
    if invoice.is_credit_note:
        _settle_credited_invoice(invoice)
    elif settings.auto_apply_credit and has_credit(invoice.partner_id):
        apply_credit(invoice)
    db.session.flush()
    return invoice


def _mark_posted(invoice: Invoice, number: str) -> None:
    """Number, state and posting time: in the database with one Core UPDATE, and on ``invoice`` as its committed
    state (the ORM has nothing left to write for them, so no flush of its own)."""
    posted_at = utcnow()
    done = db.session.execute(_MARK_POSTED, {"invoice_id": invoice.id, "invoice_number": number,
                                             "invoice_posted_at": posted_at}).rowcount
    if done != 1:  # the row was read locked as a draft just before: only a broken invariant lands here
        raise InvalidTransition(f"Invoice {invoice.id} is no longer a draft.", code="not_draft")
    for key, value in (("number", number), ("state", "posted"), ("posted_at", posted_at)):
        set_committed_value(invoice, key, value)


def has_credit(partner_id: int) -> bool:
    """Whether the customer has any unused credit (one indexed query; apply_credit locks and reads more)."""
    return db.session.scalar(_HAS_CREDIT, {"partner_id": partner_id}) is not None


def post_many(invoices: list[Invoice]) -> tuple[list[Invoice], list[tuple[Invoice, str]]]:
    """Post many drafts: the batch path (invoicing.batch: set-based, chunk by chunk) with, for any chunk where
    something refuses, post_each's one savepoint per invoice. Same result as post_each, faster."""
    from . import batch
    return batch.post_many(invoices)


def post_each(invoices: list[Invoice]) -> tuple[list[Invoice], list[tuple[Invoice, str]]]:
    """Post each in its own savepoint: one refusal does not stop the others, and takes no number."""
    posted, refused = [], []
    for invoice in sorted(invoices, key=lambda i: (i.invoice_date, i.id)):
        try:
            with db.session.begin_nested():
                post_invoice(invoice)
            posted.append(invoice)
        except DomainError as exc:
            refused.append((invoice, exc.message))
    return posted, refused


def _settle_credited_invoice(credit_note: Invoice) -> None:
    """A posted credit note reduces its invoice's due; what exceeds it becomes customer credit."""
    hook().invoicing_lines_credited(credit_note=credit_note)
    if credit_note.credited_invoice_id is None:
        _new_credit(credit_note.partner_id, "credit_note", credit_note.id, credit_note.invoice_date,
                    credit_note.amount_total)
        return
    original = get_invoice(credit_note.credited_invoice_id, lock=True)
    audit.record(original, "credit_note_posted", credit_note.number or "")
    applied = settle(original, credit_note.amount_total, kind="credit_note", source_type="credit_note",
                     source_id=credit_note.id, on=credit_note.invoice_date)
    _settle_document(credit_note, applied)
    surplus = credit_note.amount_total - applied
    if surplus > 0:
        _new_credit(credit_note.partner_id, "credit_note", credit_note.id, credit_note.invoice_date, surplus)


def _settle_document(credit_note: Invoice, amount: Decimal) -> None:
    """A credit note's own due is the part of it not yet used (matched to an invoice or paid back)."""
    credit_note.amount_credited = credit_note.amount_credited + amount
    _refresh_balance(credit_note)


# -- the one settle() path ------------------------------------------------------------------------------------
def settle(invoice: Invoice, amount, kind: str, source_type: str, source_id: int, on: date | None = None,
           credit_id: int | None = None) -> Decimal:
    """Reduce ``invoice``'s amount due by up to ``amount``; return what was applied (never more than the due).

    Payments, credit notes and customer credit all come through here, so ``amount_due = total − paid − credited``
    holds by construction. The caller keeps any surplus (as customer credit). Locks the invoice row.
    """
    amount = round_money(to_decimal(amount), invoice.currency)
    if amount <= 0:
        raise ValidationError("The amount must be more than zero.", fields={"amount": ["Must be positive."]})
    invoice = get_invoice(invoice.id, lock=True)
    if invoice.state != "posted" or invoice.type != "invoice":
        raise DomainError(f"Only posted invoices can be settled; this one is {invoice.state}.", code="not_posted")
    applied = min(amount, invoice.amount_due)
    if applied <= 0:
        return ZERO
    if kind == "credit_note":
        invoice.amount_credited = invoice.amount_credited + applied
    else:
        invoice.amount_paid = invoice.amount_paid + applied
        if kind == "credit":
            invoice.credit_applied = invoice.credit_applied + applied
    _refresh_balance(invoice)
    row = Settlement(invoice_id=invoice.id, kind=kind, amount=applied, date=on or date.today(),
                     source_type=source_type, source_id=source_id, credit_id=credit_id)
    db.session.add(row)
    db.session.flush()
    hook().invoicing_invoice_settled(invoice=invoice, settlement=row)
    return applied


# -- customer credit -------------------------------------------------------------------------------------------
def _new_credit(partner_id: int, source_type: str, source_id: int, on: date, amount: Decimal) -> CustomerCredit:
    credit = CustomerCredit(partner_id=partner_id, source_type=source_type, source_id=source_id, date=on,
                            amount=amount, amount_used=ZERO)
    db.session.add(credit)
    db.session.flush()
    hook().invoicing_credit_created(credit=credit)
    return credit


def add_credit(partner_id: int, amount, source_type: str, source_id: int, on: date | None = None) -> CustomerCredit:
    """Record money the customer has with us (payments call this for an overpayment)."""
    amount = round_money(to_decimal(amount))
    if amount <= 0:
        raise ValidationError("A credit must be more than zero.", fields={"amount": ["Must be positive."]})
    return _new_credit(partner_id, source_type, source_id, on or date.today(), amount)


def open_credits(partner_id: int, lock: bool = False) -> list[CustomerCredit]:
    """The partner's unused credits, oldest first."""
    stmt = (select(CustomerCredit).where(CustomerCredit.partner_id == partner_id,
                                         CustomerCredit.amount > CustomerCredit.amount_used)
            .order_by(CustomerCredit.date, CustomerCredit.id))
    if lock:
        stmt = stmt.with_for_update()
    return list(db.session.scalars(stmt))


def available_credit(partner_id: int) -> Decimal:
    return db.session.scalar(select(func.coalesce(func.sum(CustomerCredit.amount - CustomerCredit.amount_used), 0))
                             .where(CustomerCredit.partner_id == partner_id)) or ZERO


def _use_credit(credit: CustomerCredit, amount: Decimal, target_type: str, target_id: int, on: date) -> None:
    credit.amount_used = credit.amount_used + amount
    db.session.add(CreditUse(credit_id=credit.id, amount=amount, target_type=target_type, target_id=target_id,
                             date=on))
    if credit.source_type == "credit_note":
        source = db.session.get(Invoice, credit.source_id)
        if source is not None:
            _settle_document(source, amount)


def apply_credit(invoice: Invoice, amount=None, on: date | None = None) -> Decimal:
    """Use the customer's credit on ``invoice``, oldest credit first; return what was applied."""
    invoice = get_invoice(invoice.id, lock=True)
    if invoice.state != "posted" or invoice.type != "invoice":
        raise DomainError("Credit can only be applied to a posted invoice.", code="not_posted")
    wanted = invoice.amount_due if amount is None else round_money(_decimal(amount, "amount", allow_zero=False))
    if amount is not None and wanted > available_credit(invoice.partner_id):
        raise ValidationError(f"The customer has only {available_credit(invoice.partner_id)} of credit.",
                              code="not_enough_credit", fields={"amount": ["More than the available credit."]})
    wanted = min(wanted, invoice.amount_due)
    applied_total = ZERO
    on = on or max(invoice.invoice_date, date.today())
    for credit in open_credits(invoice.partner_id, lock=True):
        if wanted <= 0:
            break
        take = min(credit.remaining, wanted)
        applied = settle(invoice, take, kind="credit", source_type=credit.source_type, source_id=credit.source_id,
                         on=on, credit_id=credit.id)
        _use_credit(credit, applied, "invoice", invoice.id, on)
        applied_total += applied
        wanted -= applied
    if applied_total > 0:
        audit.record(invoice, "credit_applied", str(applied_total))
    db.session.flush()
    return applied_total


def apply_credit_by_hand(invoice: Invoice, amount=None) -> Decimal:
    """The "Apply credit" button: like apply_credit, but says why when there is nothing to do."""
    if invoice.state == "posted" and invoice.type == "invoice" and invoice.amount_due <= 0:
        raise DomainError(f"Invoice {invoice.number} has nothing left to pay.", code="nothing_due")
    if invoice.state == "posted" and available_credit(invoice.partner_id) <= 0:
        raise DomainError(f"{invoice.partner.name} has no credit to apply.", code="no_credit")
    return apply_credit(invoice, amount)


def refund_credit(partner_id: int, amount, refund_type: str, refund_id: int,
                  on: date) -> list[tuple[CustomerCredit, Decimal]]:
    """Pay ``amount`` of the partner's credit back (oldest first); 422 if more than is available."""
    amount = round_money(_decimal(amount, "amount", allow_zero=False))
    credits = open_credits(partner_id, lock=True)
    available = sum((c.remaining for c in credits), ZERO)
    if amount > available:
        raise ValidationError(f"The customer has {available} of credit; a refund cannot be more.",
                              code="refund_exceeds_credit", fields={"amount": ["More than the available credit."]})
    uses = []
    left = amount
    for credit in credits:
        if left <= 0:
            break
        take = min(credit.remaining, left)
        _use_credit(credit, take, "refund", refund_id, on)
        hook().invoicing_credit_refunded(credit=credit, amount=take, refund_type=refund_type, refund_id=refund_id)
        uses.append((credit, take))
        left -= take
    db.session.flush()
    return uses


def partner_balance(partner_id: int) -> dict:
    """What the customer owes in total (posted invoices' due) and their unused credit."""
    receivable = db.session.scalar(
        select(func.coalesce(func.sum(Invoice.amount_due), 0))
        .where(Invoice.partner_id == partner_id, Invoice.state == "posted", Invoice.type == "invoice")) or ZERO
    return {"receivable": round_money(receivable), "credit_available": round_money(available_credit(partner_id))}


