"""Trigram index for the service order list's ?q= (number, description, site address); sort=scheduled with the id

Revision ID: field_service_0003
Revises: field_service_0002
Create Date: 2026-11-25 18:45:00.000000
"""
from alembic import op

from core.search import create_trigram_index, drop_trigram_index

revision = 'field_service_0003'
down_revision = 'field_service_0002'
branch_labels = None
depends_on = None

# (old single-column index, its replacement with the id, the columns): the sorts' tie-break, see the model.
REPLACED = [
    ('ix_field_service_orders_scheduled_at', 'ix_field_service_orders_scheduled_id', ['scheduled_at', 'id']),
]
ADDED = []
TABLE, COLUMNS = "field_service_orders", ['number', 'description', 'site_address']


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
