"""SQLite: money, quantities and rates stored as exact scaled integers instead of floats

core.money.ExactDecimal stores a NUMERIC(p, s) value on SQLite as the integer value * 10**s (12.34 as 1234), so
that values and their SUM are exact; before, SQLAlchemy handed SQLite floats (REAL). This converts what is stored:
every column of every table declared NUMERIC(p, s), whichever addon's table it is, since the storage rule is the
type's, not the addon's (the same type on all of them). The guards (triggers) that refuse changes to posted rows
are set aside for the conversion and put back as they were: the values do not change, only how they are written.
Nothing to do on PostgreSQL, whose NUMERIC was exact already.

Revision ID: core_0003
Revises: core_0002
"""
import re

from alembic import op
from sqlalchemy import text

revision = 'core_0003'
down_revision = 'core_0002'
branch_labels = None
depends_on = None

_NUMERIC = re.compile(r"^\s*NUMERIC\s*\(\s*(\d+)\s*,\s*(\d+)\s*\)\s*$", re.IGNORECASE)


def _numeric_columns(connection) -> list[tuple[str, str, int]]:
    """(table, column, scale) of every NUMERIC(p, s) column with s > 0 in the database's ordinary tables."""
    tables = connection.scalars(text(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
        "AND sql NOT LIKE 'CREATE VIRTUAL%' ORDER BY name")).all()
    found = []
    for table in tables:
        for column in connection.execute(text(f'PRAGMA table_info("{table}")')).mappings():
            match = _NUMERIC.match(column["type"] or "")
            if match and int(match.group(2)) > 0:
                found.append((table, column["name"], int(match.group(2))))
    return found


def _convert(expression) -> None:
    connection = op.get_bind()
    if connection.dialect.name != "sqlite":
        return
    triggers = connection.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
                                       "AND sql IS NOT NULL ORDER BY name")).all()
    for name, _ in triggers:
        connection.exec_driver_sql(f'DROP TRIGGER "{name}"')
    for table, column, scale in _numeric_columns(connection):
        connection.exec_driver_sql(f'UPDATE "{table}" SET "{column}" = {expression.format(c=column, s=scale)} '
                                   f'WHERE "{column}" IS NOT NULL')
    for _, sql in triggers:
        connection.exec_driver_sql(sql)


def upgrade() -> None:
    # ROUND first: a stored float such as 0.29 is 28.999999999999996 once multiplied by 100.
    _convert('CAST(ROUND("{c}" * 1e{s}) AS INTEGER)')


def downgrade() -> None:
    _convert('ROUND("{c}" / 1e{s}, {s})')
