"""Trigram index for the payment list's ?q= (reference); the sorts' indexes end with the id, the list's tie-break

Revision ID: payments_0003
Revises: payments_0002
Create Date: 2026-11-25 18:45:00.000000
"""
from core.search import list_index_migration

revision = 'payments_0003'
down_revision = 'payments_0002'
branch_labels = None
depends_on = None

# (old single-column index, its replacement with the id, the columns): the sorts' tie-break, see the model.
REPLACED = [
    ('ix_payments_date', 'ix_payments_date_id', ['date', 'id']),
    ('ix_payments_amount', 'ix_payments_amount_id', ['amount', 'id']),
    ('ix_payments_reference', 'ix_payments_reference_id', ['reference', 'id']),
]
ADDED = [
    ('ix_payments_method_id', ['method_code', 'id']),
]
TABLE, COLUMNS = "payments_payments", ['reference']


upgrade, downgrade = list_index_migration(TABLE, COLUMNS, REPLACED, ADDED)
