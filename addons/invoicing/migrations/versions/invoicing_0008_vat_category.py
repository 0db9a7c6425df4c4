"""Taxes: the EN 16931 VAT category and the exemption reason (an exempt tax, category E, needs one: BR-E-10)

Revision ID: invoicing_0008_vat_category
Revises: invoicing_0007
Create Date: 2026-12-07 02:00:00.000000
"""
from alembic import op
import sqlalchemy as sa

revision = 'invoicing_0008_vat_category'
down_revision = 'invoicing_0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # "" on the taxes there are: their category follows from the rate (S above 0 %, Z at 0 %), as before
    with op.batch_alter_table('invoicing_taxes') as batch:
        batch.add_column(sa.Column('vat_category', sa.String(length=2), nullable=False, server_default=''))
        batch.add_column(sa.Column('exemption_reason', sa.String(length=300), nullable=False, server_default=''))


def downgrade() -> None:
    with op.batch_alter_table('invoicing_taxes') as batch:
        batch.drop_column('exemption_reason')
        batch.drop_column('vat_category')
