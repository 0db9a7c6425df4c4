"""Indexes for the service order list: each filter with the default sort (number)

Revision ID: field_service_0002
Revises: field_service_0001
Create Date: 2026-11-25 15:45:52.682520
"""
from alembic import op


revision = 'field_service_0002'
down_revision = 'field_service_0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('field_service_orders', schema=None) as batch_op:
        batch_op.create_index('ix_field_service_orders_partner_id_id', ['partner_id', 'id'], unique=False)
        batch_op.create_index('ix_field_service_orders_state_id', ['state', 'id'], unique=False)
        batch_op.create_index('ix_field_service_orders_tech_id', ['technician_id', 'id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('field_service_orders', schema=None) as batch_op:
        batch_op.drop_index('ix_field_service_orders_tech_id')
        batch_op.drop_index('ix_field_service_orders_state_id')
        batch_op.drop_index('ix_field_service_orders_partner_id_id')

