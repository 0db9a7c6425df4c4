"""line guard by primary key (PostgreSQL): the lines trigger reads its invoice's state by id alone

invoicing_0002's trigger asked ``EXISTS (SELECT 1 FROM invoicing_invoices WHERE id = ... AND state = 'posted')``.
PL/pgSQL caches a generic plan for it, and with statistics taken while few invoices were posted the planner
served it from a ``(state, ...)`` list index, walking every posted invoice for each line inserted: batch invoicing
on PostgreSQL spent half its time there (0.5 ms a line at 10,000 invoices, growing with the history). Reading
the state by primary key can only use the primary key. SQLite's triggers already compare
``(SELECT state ... WHERE id = ...)``.

Revision ID: invoicing_0004
Revises: invoicing_0003
"""
import importlib.util
from pathlib import Path

from alembic import op

revision = "invoicing_0004"
down_revision = "invoicing_0003"
branch_labels = None
depends_on = None

LINE_GUARD = """CREATE OR REPLACE FUNCTION invoicing_refuse_posted_line_change() RETURNS trigger AS $$
    DECLARE
        old_state text;
        new_state text;
    BEGIN
        IF TG_OP IN ('UPDATE', 'DELETE') THEN
            SELECT state INTO old_state FROM invoicing_invoices WHERE id = OLD.invoice_id;
        END IF;
        IF TG_OP IN ('UPDATE', 'INSERT') THEN
            SELECT state INTO new_state FROM invoicing_invoices WHERE id = NEW.invoice_id;
        END IF;
        IF old_state = 'posted' THEN
            RAISE EXCEPTION 'invoicing: lines of a posted invoice cannot be changed or deleted';
        ELSIF new_state = 'posted' THEN
            RAISE EXCEPTION 'invoicing: lines cannot be added to a posted invoice';
        END IF;
        IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
        RETURN NEW;
    END;
    $$ LANGUAGE plpgsql"""


def _previous_guard() -> str:
    path = Path(__file__).with_name("invoicing_0002_posted_invoices_immutable.py")
    spec = importlib.util.spec_from_file_location("invoicing_0002", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return next(s for s in module.PG_UP if "invoicing_refuse_posted_line_change()" in s and "FUNCTION" in s)


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(LINE_GUARD)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_previous_guard())
