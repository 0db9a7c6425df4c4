"""Indexes for the payment list: each filter with the default sort (date), each sort

Revision ID: payments_0002
Revises: payments_0001
Create Date: 2026-11-25 15:45:45.225849
"""
from alembic import op


revision = 'payments_0002'
down_revision = 'payments_0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('payments_payments', schema=None) as batch_op:
        batch_op.create_index('ix_payments_amount', ['amount'], unique=False)
        batch_op.create_index('ix_payments_direction_date', ['direction', 'date'], unique=False)
        batch_op.create_index('ix_payments_method_date', ['method_code', 'date'], unique=False)
        batch_op.create_index('ix_payments_reference', ['reference'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('payments_payments', schema=None) as batch_op:
        batch_op.drop_index('ix_payments_reference')
        batch_op.drop_index('ix_payments_method_date')
        batch_op.drop_index('ix_payments_direction_date')
        batch_op.drop_index('ix_payments_amount')

