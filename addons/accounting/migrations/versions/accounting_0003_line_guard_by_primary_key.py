"""line guard by primary key (PostgreSQL): the lines trigger reads its entry's state by id alone

accounting_0001's trigger asked ``EXISTS (SELECT 1 FROM accounting_entries WHERE id = ... AND state = 'posted')``,
a query PL/pgSQL plans once per session with the statistics of that moment; any index leading with ``state``
can serve it, walking the posted entries for each line inserted. Reading the state by primary key can only use
the primary key, whatever the statistics say. SQLite's triggers already compare ``(SELECT state ... WHERE id =
...)``.

Revision ID: accounting_0003
Revises: accounting_0002
"""
import importlib.util
from pathlib import Path

from alembic import op

revision = "accounting_0003"
down_revision = "accounting_0002"
branch_labels = None
depends_on = None

GUARD = """CREATE OR REPLACE FUNCTION accounting_refuse_posted_change() RETURNS trigger AS $$
    DECLARE
        entry_state text;
    BEGIN
        IF TG_TABLE_NAME = 'accounting_entries' THEN
            IF OLD.state = 'posted' THEN
                RAISE EXCEPTION 'accounting: posted entry % cannot be changed or deleted; reverse it', OLD.number;
            END IF;
        ELSIF TG_OP = 'INSERT' THEN
            SELECT state INTO entry_state FROM accounting_entries WHERE id = NEW.entry_id;
            IF entry_state = 'posted' THEN
                RAISE EXCEPTION 'accounting: lines of a posted entry cannot be added';
            END IF;
            RETURN NEW;
        ELSE
            SELECT state INTO entry_state FROM accounting_entries WHERE id = OLD.entry_id;
            IF entry_state = 'posted' THEN
                RAISE EXCEPTION 'accounting: lines of a posted entry cannot be changed or deleted; reverse the entry';
            END IF;
        END IF;
        IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
        RETURN NEW;
    END;
    $$ LANGUAGE plpgsql"""


def _previous_guard() -> str:
    path = Path(__file__).with_name("accounting_0001_accounting_tables.py")
    spec = importlib.util.spec_from_file_location("accounting_0001", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return next(s for s in module.PG_UP if "FUNCTION accounting_refuse_posted_change()" in s)


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(GUARD)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_previous_guard())
