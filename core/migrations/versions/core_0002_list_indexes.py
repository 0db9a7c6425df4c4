"""Index for the customer list sorted by city

Revision ID: core_0002
Revises: core_0001
Create Date: 2026-11-25 15:46:01.536549
"""
from alembic import op


revision = 'core_0002'
down_revision = 'core_0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('core_partners', schema=None) as batch_op:
        batch_op.create_index('ix_core_partners_city', ['city', 'name'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('core_partners', schema=None) as batch_op:
        batch_op.drop_index('ix_core_partners_city')

