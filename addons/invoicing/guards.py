"""Posted invoices and their lines never change: the ORM refuses here (core.immutability, at flush); the database
refuses raw SQL with the triggers of migration invoicing_0002. Only the settlement columns of a posted invoice
move."""
from __future__ import annotations

from core.errors import DomainError
from core.immutability import protect_posted

from .models import Invoice, InvoiceLine

IMMUTABLE = ("number", "type", "state", "partner_id", "invoice_date", "due_date", "currency", "amount_untaxed",
             "amount_tax", "amount_total", "credited_invoice_id")


class PostedInvoiceChanged(DomainError):
    code = "invoice_posted"


protect_posted(Invoice, InvoiceLine, parent="invoice", fields=IMMUTABLE, error=PostedInvoiceChanged,
               message=lambda invoice: f"Invoice {invoice.number} is posted; it cannot be changed or deleted. "
                                       "Add a credit note to correct it.")
