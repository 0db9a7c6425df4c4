"""The window of dates documents may carry (invoicing.services.date_window): a year either side by default

Revision ID: core_0004
Revises: core_0003
"""
from alembic import op
import sqlalchemy as sa

revision = 'core_0004'
down_revision = 'core_0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ALTER TABLE (SQLite 3.35+ drops columns too): a batch would copy the table.
    op.add_column('core_company', sa.Column('document_date_window_days', sa.Integer(), nullable=False,
                                            server_default='365'))


def downgrade() -> None:
    op.drop_column('core_company', 'document_date_window_days')
