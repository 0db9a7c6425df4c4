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

revision = "invoicing_0006_batch"
down_revision = "invoicing_0005"
branch_labels = None
depends_on = None

INSERT_GUARD = """CREATE OR REPLACE FUNCTION invoicing_refuse_lines_on_posted() RETURNS trigger AS $$
    DECLARE
        parents integer[];
        posted boolean;
    BEGIN
        SELECT array_agg(DISTINCT invoice_id) INTO parents FROM new_lines;
        SELECT bool_or(state = 'posted') INTO posted FROM invoicing_invoices WHERE id = ANY(parents);
        IF posted THEN
            RAISE EXCEPTION 'invoicing: lines cannot be added to a posted invoice';
        END IF;
        RETURN NULL;
    END;
    $$ LANGUAGE plpgsql"""


def _row_trigger(events: str) -> None:
    op.execute("DROP TRIGGER IF EXISTS invoicing_lines_immutable ON invoicing_invoice_lines")
    op.execute(f"CREATE TRIGGER invoicing_lines_immutable BEFORE {events} ON invoicing_invoice_lines "
               "FOR EACH ROW EXECUTE FUNCTION invoicing_refuse_posted_line_change()")


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(INSERT_GUARD)
        op.execute("CREATE TRIGGER invoicing_lines_insert_guard AFTER INSERT ON invoicing_invoice_lines "
                   "REFERENCING NEW TABLE AS new_lines FOR EACH STATEMENT "
                   "EXECUTE FUNCTION invoicing_refuse_lines_on_posted()")
        _row_trigger("UPDATE OR DELETE")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _row_trigger("INSERT OR UPDATE OR DELETE")
        op.execute("DROP TRIGGER IF EXISTS invoicing_lines_insert_guard ON invoicing_invoice_lines")
        op.execute("DROP FUNCTION IF EXISTS invoicing_refuse_lines_on_posted()")
