"""The invoice list searched by customer: (partner_id, invoice_date, id) and the open invoices by customer

Revision ID: invoicing_0006
Revises: invoicing_0006_batch (both 0006 migrations were written at once; chained so the branch has one head)
Create Date: 2026-11-25 21:15:00.000000
"""
from alembic import op
import sqlalchemy as sa

revision = 'invoicing_0006'
down_revision = 'invoicing_0006_batch'
branch_labels = None
depends_on = None

TABLE = 'invoicing_invoices'
OPEN_WHERE = "state = 'posted' AND type = 'invoice' AND amount_due > 0"


def upgrade() -> None:
    # The id after the date: a customer's invoices in the default sort's exact order, from the index alone.
    op.create_index('ix_invoicing_invoices_partner_date_id', TABLE, ['partner_id', 'invoice_date', 'id'])
    op.drop_index('ix_invoicing_invoices_partner_date', table_name=TABLE)
    op.create_index('ix_invoicing_invoices_open_partner', TABLE, ['state', 'type', 'partner_id', 'due_date', 'amount_due'],
                    sqlite_where=sa.text(OPEN_WHERE), postgresql_where=sa.text(OPEN_WHERE))


def downgrade() -> None:
    op.drop_index('ix_invoicing_invoices_open_partner', table_name=TABLE,
                  sqlite_where=sa.text(OPEN_WHERE), postgresql_where=sa.text(OPEN_WHERE))
    op.create_index('ix_invoicing_invoices_partner_date', TABLE, ['partner_id', 'invoice_date'])
    op.drop_index('ix_invoicing_invoices_partner_date_id', table_name=TABLE)
