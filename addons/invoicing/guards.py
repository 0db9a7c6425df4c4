"""Posted invoices and their lines never change: the ORM refuses here (before_flush); the database refuses raw
SQL with the triggers of migration invoicing_0002. Only the settlement columns of a posted invoice move."""
from __future__ import annotations

from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from core.errors import DomainError

from .models import Invoice, InvoiceLine

IMMUTABLE = ("number", "type", "state", "partner_id", "invoice_date", "due_date", "currency", "amount_untaxed",
             "amount_tax", "amount_total", "credited_invoice_id")


class PostedInvoiceChanged(DomainError):
    code = "invoice_posted"


def _was_posted(invoice: Invoice) -> bool:
    """Posted before this flush (an invoice being posted now is still allowed its final changes)."""
    history = inspect(invoice).attrs.state.history
    if history.deleted:
        return "posted" in history.deleted
    return invoice.state == "posted" and inspect(invoice).persistent


def _refuse(invoice: Invoice) -> None:
    raise PostedInvoiceChanged(f"Invoice {invoice.number} is posted; it cannot be changed or deleted. "
                               "Add a credit note to correct it.")


@event.listens_for(Session, "before_flush")
def _protect_posted(session, _context, _instances) -> None:
    with session.no_autoflush:
        _check(session)


def _changed(invoice: Invoice) -> bool:
    state = inspect(invoice)
    return any(state.attrs[name].history.has_changes() for name in IMMUTABLE)


def _line_invoices(session, line: InvoiceLine) -> list[Invoice]:
    """The invoice the line belonged to before this flush, and the one it belongs to now."""
    state = inspect(line)
    found = list(state.attrs.invoice.history.deleted or []) + ([line.invoice] if line.invoice is not None else [])
    ids = set(state.attrs.invoice_id.history.deleted or []) | {line.invoice_id}
    found += [session.get(Invoice, i) for i in ids if i is not None]
    return [invoice for invoice in found if invoice is not None]


def _check(session) -> None:
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, Invoice):
            if (obj in session.deleted or _changed(obj)) and _was_posted(obj):
                _refuse(obj)
        elif isinstance(obj, InvoiceLine):
            if obj in session.deleted or session.is_modified(obj):
                for invoice in _line_invoices(session, obj):
                    if _was_posted(invoice):
                        _refuse(invoice)
    for obj in session.new:
        if isinstance(obj, InvoiceLine) and obj.invoice is not None and _was_posted(obj.invoice):
            _refuse(obj.invoice)
