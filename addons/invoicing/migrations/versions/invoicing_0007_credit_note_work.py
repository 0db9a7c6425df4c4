"""Credit notes say what becomes of the work they credit (credit_notes.WORK): billed, bill_again, cancel_order

Credit notes made before gave every credited hour and part back to its order ("bill_again"), so they keep that;
new ones default to "billed" (nothing is billed again).

Revision ID: invoicing_0007
Revises: invoicing_0006
"""
from alembic import op
import sqlalchemy as sa

revision = 'invoicing_0007'
down_revision = 'invoicing_0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('invoicing_invoices', sa.Column('work', sa.String(length=20), nullable=True))
    op.execute("UPDATE invoicing_invoices SET work = 'bill_again' WHERE type = 'credit_note' "
               "AND credited_invoice_id IS NOT NULL")


def downgrade() -> None:
    # Plain DROP COLUMN (SQLite 3.35+), not a batch: a batch copies the table, and the triggers that guard posted
    # invoices' lines (invoicing_0002) refuse the rename.
    op.drop_column('invoicing_invoices', 'work')
