"""line guard by primary key (PostgreSQL): journal lines get a guard of their own that reads the entry by id alone

accounting_0001's trigger function served entries and lines; for a line it asked
``EXISTS (SELECT 1 FROM accounting_entries WHERE id = ... AND state = 'posted')``, a query PL/pgSQL plans once per
session with the statistics of that moment: any index leading with ``state`` could serve it, walking the posted
entries for each line inserted. The lines' trigger now calls ``accounting_refuse_posted_line_change``, which reads
the entry's state by primary key, the only index that can serve ``id = ...`` alone. The entries' trigger keeps
accounting_0001's function (its line branch is no longer reached). SQLite's triggers already compare
``(SELECT state ... WHERE id = ...)``.

Revision ID: accounting_0003
Revises: accounting_0002
"""
from alembic import op

revision = "accounting_0003"
down_revision = "accounting_0002"
branch_labels = None
depends_on = None

LINE_GUARD = """CREATE OR REPLACE FUNCTION accounting_refuse_posted_line_change() RETURNS trigger AS $$
    DECLARE
        line_entry integer := CASE WHEN TG_OP = 'INSERT' THEN NEW.entry_id ELSE OLD.entry_id END;
        entry_state text;
    BEGIN
        SELECT state INTO entry_state FROM accounting_entries WHERE id = line_entry;
        IF entry_state = 'posted' AND TG_OP = 'INSERT' THEN
            RAISE EXCEPTION 'accounting: lines of a posted entry cannot be added';
        ELSIF entry_state = 'posted' THEN
            RAISE EXCEPTION 'accounting: lines of a posted entry cannot be changed or deleted; reverse the entry';
        END IF;
        IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
        RETURN NEW;
    END;
    $$ LANGUAGE plpgsql"""


def _point_lines_trigger_at(function: str) -> None:
    op.execute("DROP TRIGGER IF EXISTS accounting_lines_immutable ON accounting_lines")
    op.execute("CREATE TRIGGER accounting_lines_immutable BEFORE INSERT OR UPDATE OR DELETE ON accounting_lines "
               f"FOR EACH ROW EXECUTE FUNCTION {function}()")


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(LINE_GUARD)
        _point_lines_trigger_at("accounting_refuse_posted_line_change")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _point_lines_trigger_at("accounting_refuse_posted_change")
        op.execute("DROP FUNCTION IF EXISTS accounting_refuse_posted_line_change()")
