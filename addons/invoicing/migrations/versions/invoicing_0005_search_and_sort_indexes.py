"""Trigram index for the invoice list's ?q= (number); the sorts' indexes end with the id, the list's tie-break

Revision ID: invoicing_0005
Revises: invoicing_0004
Create Date: 2026-11-25 18:45:00.000000
"""
from core.search import list_index_migration

revision = 'invoicing_0005'
down_revision = 'invoicing_0004'
branch_labels = None
depends_on = None

# (old single-column index, its replacement with the id, the columns): the sorts' tie-break, see the model.
REPLACED = [
    ('ix_invoicing_invoices_invoice_date', 'ix_invoicing_invoices_date_id', ['invoice_date', 'id']),
    ('ix_invoicing_invoices_due_date', 'ix_invoicing_invoices_due_date_id', ['due_date', 'id']),
    ('ix_invoicing_invoices_total', 'ix_invoicing_invoices_total_id', ['amount_total', 'id']),
    ('ix_invoicing_invoices_amount_due', 'ix_invoicing_invoices_amount_due_id', ['amount_due', 'id']),
]
ADDED = []
TABLE, COLUMNS = "invoicing_invoices", ['number']


upgrade, downgrade = list_index_migration(TABLE, COLUMNS, REPLACED, ADDED)
