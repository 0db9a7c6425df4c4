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
    op.add_column('invoicing_taxes', sa.Column('vat_category', sa.String(length=2), nullable=False, server_default=''))
    op.add_column('invoicing_taxes', sa.Column('exemption_reason', sa.String(length=300), nullable=False,
                                               server_default=''))


def downgrade() -> None:
    # plain DROP COLUMN (SQLite 3.35+): a batch copy of the table would trip the triggers that guard posted rows
    op.drop_column('invoicing_taxes', 'exemption_reason')
    op.drop_column('invoicing_taxes', 'vat_category')
