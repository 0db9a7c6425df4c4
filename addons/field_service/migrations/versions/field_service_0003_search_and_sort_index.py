"""Trigram index for the service order list's ?q= (number, description, site address); sort=scheduled with the id

Revision ID: field_service_0003
Revises: field_service_0002
Create Date: 2026-11-25 18:45:00.000000
"""
from core.search import list_index_migration

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


upgrade, downgrade = list_index_migration(TABLE, COLUMNS, REPLACED, ADDED)
