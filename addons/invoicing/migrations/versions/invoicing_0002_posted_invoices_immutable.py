"""posted invoices immutable: database triggers (hand-written; kept apart from the generated 0001)

A posted invoice keeps its number, type, customer, dates, currency, totals and credited invoice, never leaves
``posted`` and is never deleted; the lines of a posted invoice are never added, changed or deleted. The
settlement columns (amount_paid, amount_credited, amount_due, payment_state, credit_applied, journal_entry_id,
sent_at) still change. Draft -> posted (one row or a bulk UPDATE) is allowed: OLD.state is 'draft' then.
The ORM refuses the same earlier (addons/invoicing/guards.py).

Revision ID: invoicing_0002
Revises: invoicing_0001
"""
from alembic import op

revision = "invoicing_0002"
down_revision = "invoicing_0001"
branch_labels = None
depends_on = None

IMMUTABLE = ("number", "type", "state", "partner_id", "invoice_date", "due_date", "currency", "amount_untaxed",
             "amount_tax", "amount_total", "credited_invoice_id")

PG_UP = [
    """CREATE OR REPLACE FUNCTION invoicing_refuse_posted_invoice_change() RETURNS trigger AS $$
    BEGIN
        IF TG_OP = 'DELETE' THEN
            IF OLD.state = 'posted' THEN
                RAISE EXCEPTION 'invoicing: a posted invoice cannot be deleted; add a credit note';
            END IF;
            RETURN OLD;
        END IF;
        IF OLD.state = 'posted' AND (""" + " OR ".join(f"NEW.{c} IS DISTINCT FROM OLD.{c}" for c in IMMUTABLE) + """) THEN
            RAISE EXCEPTION 'invoicing: a posted invoice cannot be changed; add a credit note';
        END IF;
        RETURN NEW;
    END;
    $$ LANGUAGE plpgsql""",
    """CREATE OR REPLACE FUNCTION invoicing_refuse_posted_line_change() RETURNS trigger AS $$
    BEGIN
        IF TG_OP IN ('UPDATE', 'DELETE')
           AND EXISTS (SELECT 1 FROM invoicing_invoices WHERE id = OLD.invoice_id AND state = 'posted') THEN
            RAISE EXCEPTION 'invoicing: lines of a posted invoice cannot be changed or deleted';
        END IF;
        IF TG_OP IN ('UPDATE', 'INSERT')
           AND EXISTS (SELECT 1 FROM invoicing_invoices WHERE id = NEW.invoice_id AND state = 'posted') THEN
            RAISE EXCEPTION 'invoicing: lines cannot be added to a posted invoice';
        END IF;
        IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
        RETURN NEW;
    END;
    $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER invoicing_invoices_immutable BEFORE UPDATE OR DELETE ON invoicing_invoices
       FOR EACH ROW EXECUTE FUNCTION invoicing_refuse_posted_invoice_change()""",
    """CREATE TRIGGER invoicing_lines_immutable BEFORE INSERT OR UPDATE OR DELETE ON invoicing_invoice_lines
       FOR EACH ROW EXECUTE FUNCTION invoicing_refuse_posted_line_change()""",
]
PG_DOWN = [
    "DROP TRIGGER IF EXISTS invoicing_lines_immutable ON invoicing_invoice_lines",
    "DROP TRIGGER IF EXISTS invoicing_invoices_immutable ON invoicing_invoices",
    "DROP FUNCTION IF EXISTS invoicing_refuse_posted_line_change()",
    "DROP FUNCTION IF EXISTS invoicing_refuse_posted_invoice_change()",
]
_POSTED = "(SELECT state FROM invoicing_invoices WHERE id = {}.invoice_id) = 'posted'"
SQLITE_UP = [
    f"""CREATE TRIGGER invoicing_invoices_no_update BEFORE UPDATE OF {", ".join(IMMUTABLE)} ON invoicing_invoices
       WHEN OLD.state = 'posted' AND ({" OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in IMMUTABLE)})
       BEGIN SELECT RAISE(ABORT, 'invoicing: a posted invoice cannot be changed; add a credit note'); END""",
    """CREATE TRIGGER invoicing_invoices_no_delete BEFORE DELETE ON invoicing_invoices
       WHEN OLD.state = 'posted'
       BEGIN SELECT RAISE(ABORT, 'invoicing: a posted invoice cannot be deleted; add a credit note'); END""",
    f"""CREATE TRIGGER invoicing_lines_no_insert BEFORE INSERT ON invoicing_invoice_lines
       WHEN {_POSTED.format("NEW")}
       BEGIN SELECT RAISE(ABORT, 'invoicing: lines cannot be added to a posted invoice'); END""",
    f"""CREATE TRIGGER invoicing_lines_no_update BEFORE UPDATE ON invoicing_invoice_lines
       WHEN {_POSTED.format("OLD")} OR {_POSTED.format("NEW")}
       BEGIN SELECT RAISE(ABORT, 'invoicing: lines of a posted invoice cannot be changed'); END""",
    f"""CREATE TRIGGER invoicing_lines_no_delete BEFORE DELETE ON invoicing_invoice_lines
       WHEN {_POSTED.format("OLD")}
       BEGIN SELECT RAISE(ABORT, 'invoicing: lines of a posted invoice cannot be deleted'); END""",
]
SQLITE_DOWN = [f"DROP TRIGGER IF EXISTS {name}" for name in (
    "invoicing_invoices_no_update", "invoicing_invoices_no_delete", "invoicing_lines_no_insert",
    "invoicing_lines_no_update", "invoicing_lines_no_delete")]


def _run(up: bool) -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        statements = PG_UP if up else PG_DOWN
    elif dialect == "sqlite":
        statements = SQLITE_UP if up else SQLITE_DOWN
    else:
        raise NotImplementedError(f"invoicing triggers: no DDL for {dialect}")
    for statement in statements:
        op.execute(statement)


def upgrade() -> None:
    _run(True)


def downgrade() -> None:
    _run(False)
