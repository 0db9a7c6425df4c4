"""The payment list searched by customer: (partner_id, date, id)

Revision ID: payments_0004
Revises: payments_0003
Create Date: 2026-11-25 21:15:00.000000
"""
from alembic import op

revision = 'payments_0004'
down_revision = 'payments_0003'
branch_labels = None
depends_on = None

TABLE = 'payments_payments'


def upgrade() -> None:
    # The id after the date: a customer's payments in the default sort's exact order, from the index alone.
    op.create_index('ix_payments_partner_date_id', TABLE, ['partner_id', 'date', 'id'])
    op.drop_index('ix_payments_partner_date', table_name=TABLE)


def downgrade() -> None:
    op.create_index('ix_payments_partner_date', TABLE, ['partner_id', 'date'])
    op.drop_index('ix_payments_partner_date_id', table_name=TABLE)
