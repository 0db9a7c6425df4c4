"""Trigram index for the invoice list's ?q= (number); the sorts' indexes end with the id, the list's tie-break

Revision ID: invoicing_0005
Revises: invoicing_0004
Create Date: 2026-11-25 18:45:00.000000
"""
from alembic import op

from core.search import create_trigram_index, drop_trigram_index

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


def upgrade() -> None:
    create_trigram_index(TABLE, COLUMNS)
    for old, new, columns in REPLACED:
        op.create_index(new, TABLE, columns)
        op.drop_index(old, table_name=TABLE)
    for new, columns in ADDED:
        op.create_index(new, TABLE, columns)


def downgrade() -> None:
    for new, _ in ADDED:
        op.drop_index(new, table_name=TABLE)
    for old, new, columns in REPLACED:
        op.create_index(old, TABLE, columns[:1])
        op.drop_index(new, table_name=TABLE)
    drop_trigram_index(TABLE, COLUMNS)
