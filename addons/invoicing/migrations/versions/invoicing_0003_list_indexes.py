"""Indexes for the lists: every filter with the default sort, every sort, open invoices (partial)

Revision ID: invoicing_0003
Revises: invoicing_0002
Create Date: 2026-11-25 15:45:37.887765
"""
from alembic import op
import sqlalchemy as sa


revision = 'invoicing_0003'
down_revision = 'invoicing_0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('invoicing_invoices', schema=None) as batch_op:
        batch_op.create_index('ix_invoicing_invoices_amount_due', ['amount_due'], unique=False)
        batch_op.create_index('ix_invoicing_invoices_due_date', ['due_date'], unique=False)
        batch_op.create_index('ix_invoicing_invoices_open_date', ['state', 'type', 'invoice_date', 'amount_due'], unique=False, sqlite_where=sa.text("state = 'posted' AND type = 'invoice' AND amount_due > 0"), postgresql_where=sa.text("state = 'posted' AND type = 'invoice' AND amount_due > 0"))
        batch_op.create_index('ix_invoicing_invoices_open_due', ['state', 'type', 'due_date', 'amount_due'], unique=False, sqlite_where=sa.text("state = 'posted' AND type = 'invoice' AND amount_due > 0"), postgresql_where=sa.text("state = 'posted' AND type = 'invoice' AND amount_due > 0"))
        batch_op.create_index('ix_invoicing_invoices_partner_date', ['partner_id', 'invoice_date'], unique=False)
        batch_op.create_index('ix_invoicing_invoices_payment_date', ['payment_state', 'state', 'type', 'invoice_date'], unique=False)
        batch_op.create_index('ix_invoicing_invoices_total', ['amount_total'], unique=False)
        batch_op.create_index('ix_invoicing_invoices_type_date', ['type', 'invoice_date'], unique=False)

    with op.batch_alter_table('invoicing_products', schema=None) as batch_op:
        batch_op.create_index('ix_invoicing_products_active', ['active', 'code'], unique=False)
        batch_op.create_index('ix_invoicing_products_price', ['unit_price'], unique=False)
        batch_op.create_index('ix_invoicing_products_type', ['type', 'code'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('invoicing_products', schema=None) as batch_op:
        batch_op.drop_index('ix_invoicing_products_type')
        batch_op.drop_index('ix_invoicing_products_price')
        batch_op.drop_index('ix_invoicing_products_active')

    with op.batch_alter_table('invoicing_invoices', schema=None) as batch_op:
        batch_op.drop_index('ix_invoicing_invoices_type_date')
        batch_op.drop_index('ix_invoicing_invoices_total')
        batch_op.drop_index('ix_invoicing_invoices_payment_date')
        batch_op.drop_index('ix_invoicing_invoices_partner_date')
        batch_op.drop_index('ix_invoicing_invoices_open_due', sqlite_where=sa.text("state = 'posted' AND type = 'invoice' AND amount_due > 0"), postgresql_where=sa.text("state = 'posted' AND type = 'invoice' AND amount_due > 0"))
        batch_op.drop_index('ix_invoicing_invoices_open_date', sqlite_where=sa.text("state = 'posted' AND type = 'invoice' AND amount_due > 0"), postgresql_where=sa.text("state = 'posted' AND type = 'invoice' AND amount_due > 0"))
        batch_op.drop_index('ix_invoicing_invoices_due_date')
        batch_op.drop_index('ix_invoicing_invoices_amount_due')

