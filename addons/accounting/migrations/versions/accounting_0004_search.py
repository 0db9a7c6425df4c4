"""Trigram index for the journal entry list's ?q= (number, reference): pg_trgm GIN on PostgreSQL, FTS5 trigram table on SQLite

Revision ID: accounting_0004_search
Revises: accounting_0004
Create Date: 2026-11-25 18:45:00.000000
"""
from core.search import create_trigram_index, drop_trigram_index

revision = 'accounting_0004_search'
down_revision = 'accounting_0004'
branch_labels = None
depends_on = None

TABLE, COLUMNS = "accounting_entries", ['number', 'ref']


def upgrade() -> None:
    create_trigram_index(TABLE, COLUMNS)


def downgrade() -> None:
    drop_trigram_index(TABLE, COLUMNS)
