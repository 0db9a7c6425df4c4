"""posted lines by account and date

Lines get ``posted_date`` (the entry's date once posted, NULL while draft) and ``due_date`` (the invoice's due date
for invoice and credit note entries, else the entry's date), filled for the lines already posted, and two partial
covering indexes the reports read instead of joining every entry; the journal-entries list gets indexes for its
ref and state sorts.

Revision ID: accounting_0002
Revises: accounting_0001
Create Date: 2026-11-25 15:40:06.793873
"""
from alembic import op
import sqlalchemy as sa


revision = 'accounting_0002'
down_revision = 'accounting_0001'
branch_labels = None
depends_on = None

POSTED = "posted_date IS NOT NULL"
# accounting_0001's trigger, dropped while the lines already posted get their copy of the dates.
SQLITE_LINES_NO_UPDATE = """CREATE TRIGGER accounting_lines_no_update BEFORE UPDATE ON accounting_lines
       WHEN (SELECT state FROM accounting_entries WHERE id = OLD.entry_id) = 'posted'
       BEGIN SELECT RAISE(ABORT, 'accounting: lines of a posted entry cannot be changed; reverse the entry'); END"""
DUE = ("COALESCE((SELECT i.due_date FROM invoicing_invoices i WHERE e.origin_type IN ('invoice', 'credit_note') "
       "AND i.id = e.origin_id), e.date)")


def _backfill() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("ALTER TABLE accounting_lines DISABLE TRIGGER accounting_lines_immutable")
        op.execute(f"UPDATE accounting_lines l SET posted_date = e.date, due_date = {DUE} "
                   "FROM accounting_entries e WHERE e.id = l.entry_id AND e.state = 'posted'")
        op.execute("ALTER TABLE accounting_lines ENABLE TRIGGER accounting_lines_immutable")
    elif dialect == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS accounting_lines_no_update")
        op.execute(f"UPDATE accounting_lines SET (posted_date, due_date) = (SELECT e.date, {DUE} "
                   "FROM accounting_entries e WHERE e.id = accounting_lines.entry_id AND e.state = 'posted')")
        op.execute(SQLITE_LINES_NO_UPDATE)
    else:
        raise NotImplementedError(f"accounting_0002: no backfill for {dialect}")


def upgrade() -> None:
    op.create_index('ix_accounting_entries_ref', 'accounting_entries', ['ref', 'id'], unique=False)
    op.create_index('ix_accounting_entries_state_id', 'accounting_entries', ['state', 'id'], unique=False)
    op.add_column('accounting_lines', sa.Column('posted_date', sa.Date(), nullable=True))
    op.add_column('accounting_lines', sa.Column('due_date', sa.Date(), nullable=True))
    _backfill()
    op.create_index('ix_accounting_lines_posted_account', 'accounting_lines',
                    ['account_id', 'posted_date', 'entry_id', 'id', 'debit', 'credit'], unique=False,
                    sqlite_where=sa.text(POSTED), postgresql_where=sa.text(POSTED))
    where = POSTED + " AND partner_id IS NOT NULL"
    op.create_index('ix_accounting_lines_posted_partner', 'accounting_lines',
                    ['partner_id', 'posted_date', 'entry_id', 'id', 'account_id', 'due_date', 'debit', 'credit'],
                    unique=False, sqlite_where=sa.text(where), postgresql_where=sa.text(where))


def downgrade() -> None:
    op.drop_index('ix_accounting_lines_posted_partner', table_name='accounting_lines')
    op.drop_index('ix_accounting_lines_posted_account', table_name='accounting_lines')
    # A plain ALTER TABLE (SQLite >= 3.35 and PostgreSQL): batch mode would rebuild the table on SQLite and lose
    # accounting_0001's triggers with it.
    op.execute("ALTER TABLE accounting_lines DROP COLUMN due_date")
    op.execute("ALTER TABLE accounting_lines DROP COLUMN posted_date")
    op.drop_index('ix_accounting_entries_state_id', table_name='accounting_entries')
    op.drop_index('ix_accounting_entries_ref', table_name='accounting_entries')
