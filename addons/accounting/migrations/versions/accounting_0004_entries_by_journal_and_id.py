"""entries by journal and id: the journal-entries list sorted by journal

``sort=journal`` orders by the journal's code, then the entry's id. With a handful of journals the list reads them in
code order and, for each, its entries from this index in id order (queries.entry_page), instead of sorting every
entry by a column of another table.

Revision ID: accounting_0004
Revises: accounting_0003
"""
from alembic import op

revision = "accounting_0004"
down_revision = "accounting_0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_accounting_entries_journal_id", "accounting_entries", ["journal_id", "id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_accounting_entries_journal_id", table_name="accounting_entries")
