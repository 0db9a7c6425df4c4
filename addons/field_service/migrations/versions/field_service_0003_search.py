"""Trigram index for the service order list's ?q= (number, description, site address): pg_trgm GIN on PostgreSQL, FTS5 trigram table on SQLite

Revision ID: field_service_0003
Revises: field_service_0002
Create Date: 2026-11-25 18:45:00.000000
"""
from core.search import create_trigram_index, drop_trigram_index

revision = 'field_service_0003'
down_revision = 'field_service_0002'
branch_labels = None
depends_on = None

TABLE, COLUMNS = "field_service_orders", ['number', 'description', 'site_address']


def upgrade() -> None:
    create_trigram_index(TABLE, COLUMNS)


def downgrade() -> None:
    drop_trigram_index(TABLE, COLUMNS)
