"""Trigram index for the invoice list's ?q= (number): pg_trgm GIN on PostgreSQL, FTS5 trigram table on SQLite

Revision ID: invoicing_0005
Revises: invoicing_0004
Create Date: 2026-11-25 18:45:00.000000
"""
from core.search import create_trigram_index, drop_trigram_index

revision = 'invoicing_0005'
down_revision = 'invoicing_0004'
branch_labels = None
depends_on = None

TABLE, COLUMNS = "invoicing_invoices", ['number']


def upgrade() -> None:
    create_trigram_index(TABLE, COLUMNS)


def downgrade() -> None:
    drop_trigram_index(TABLE, COLUMNS)
