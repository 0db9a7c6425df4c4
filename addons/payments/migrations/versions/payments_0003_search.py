"""Trigram index for the payment list's ?q= (reference): pg_trgm GIN on PostgreSQL, FTS5 trigram table on SQLite

Revision ID: payments_0003
Revises: payments_0002
Create Date: 2026-11-25 18:45:00.000000
"""
from core.search import create_trigram_index, drop_trigram_index

revision = 'payments_0003'
down_revision = 'payments_0002'
branch_labels = None
depends_on = None

TABLE, COLUMNS = "payments_payments", ['reference']


def upgrade() -> None:
    create_trigram_index(TABLE, COLUMNS)


def downgrade() -> None:
    drop_trigram_index(TABLE, COLUMNS)
