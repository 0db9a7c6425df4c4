"""lines of posted invoices refused once per statement (PostgreSQL): the insert guard reads its invoices together

invoicing_0004's row trigger read the invoice's state for every line inserted: 40,000 PL/pgSQL calls for batch
invoicing's 10,000 invoices, a few seconds' worth under load. Inserted lines are now checked once per statement
(INSERT, and so core.bulk's COPY), from the statement's new rows: their invoices read by primary key alone (a
generic plan on ``id = ANY(...)`` can only use it; see invoicing_0004), refused if any is posted, the whole
statement with it. Changing or deleting a line keeps the row trigger. SQLite's triggers are unchanged.

Revision ID: invoicing_0006_batch
Revises: invoicing_0005
"""
from alembic import op

from core.immutability import insert_guard_sql

revision = "invoicing_0006_batch"
down_revision = "invoicing_0005"
branch_labels = None
depends_on = None

INSERT_GUARD, DROP_INSERT_GUARD = insert_guard_sql(
    "invoicing", "invoicing_invoice_lines", "invoicing_invoices", "invoice_id",
    "invoicing: lines cannot be added to a posted invoice", row_function="invoicing_refuse_posted_line_change")


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in INSERT_GUARD:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in DROP_INSERT_GUARD:
            op.execute(statement)
