"""accounting listens to the documents' hooks and writes the ledger in the same transaction (thin: documents.py)."""
from __future__ import annotations


from core.extensions import db
from core.hookspecs import hookimpl
from core.kernel import MenuItem, Tile
from core.security import can

from . import documents


# -- invoicing -----------------------------------------------------------------------------------------------
@hookimpl
def invoicing_invoice_posted(invoice):
    documents.invoice_posted(invoice)


@hookimpl
def invoicing_invoices_posted(invoices):
    from . import batch
    batch.invoices_posted(invoices)


@hookimpl
def invoicing_invoice_settled(invoice, settlement):
    documents.invoice_settled(invoice, settlement)


@hookimpl
def invoicing_credit_refunded(credit, amount, refund_type, refund_id):
    documents.credit_refunded(credit, amount, refund_type, refund_id)


@hookimpl
def invoicing_invoice_panels(invoice, user):
    if invoice.journal_entry_id is None or not can(user, "accounting.read"):
        return []
    from flask import render_template
    from markupsafe import Markup
    from .models import JournalEntry
    entry = db.session.get(JournalEntry, invoice.journal_entry_id)
    if entry is None:
        return []
    return [Markup(render_template("accounting/_entry_panel.html", entry=entry))]


# -- payments ---------------------------------------------------------------------------------------------------
@hookimpl
def payments_payment_registered(payment):
    documents.payment_registered(payment)


@hookimpl
def payments_refund_made(payment):
    documents.refund_made(payment)


# -- kernel -------------------------------------------------------------------------------------------------------
@hookimpl
def kontor_menu_items(user):
    items = []
    if can(user, "accounting.read"):
        items.append(MenuItem("Accounting", "accounting.entries", order=40))
    if can(user, "accounting.reports"):
        items.append(MenuItem("Reports", "accounting.reports_index", order=45))
    return items


@hookimpl
def kontor_dashboard_tiles(user):
    if not can(user, "accounting.reports"):
        return []
    from . import closing
    status = closing.chain_status_cached()
    drafts, unreconciled = closing.open_counts()
    return [
        Tile("Ledger chain", "Intact" if status["ok"] else "Broken",
             f"latest {status['entries_checked']} entries verified"
             + ("" if status["keyed"] else ", chain NOT keyed") + "; full check on Period close", "accounting.close",
             tone="" if status["ok"] else "bad", order=40),
        Tile("Drafts in period", str(drafts), "draft invoices and entries to post or delete", "accounting.close",
             tone="warn" if drafts else "", order=41),
        Tile("Unreconciled", str(unreconciled), "payments and credit notes with open credit", "accounting.close",
             tone="warn" if unreconciled else "", order=42),
    ]


@hookimpl
def kontor_cli_commands():
    from .cli import ledger
    return [ledger]


@hookimpl
def kontor_posted_documents():
    from sqlalchemy import func, select

    from .models import JournalEntry
    return db.session.scalar(select(func.count()).select_from(JournalEntry).where(JournalEntry.state == "posted"))
