"""The guards of posted lines read the parent's state by primary key alone: SQLite's triggers always did, the
PostgreSQL functions since invoicing_0004 and accounting_0003 (journal lines got a guard function of their own).
Their first PostgreSQL version asked ``EXISTS (... WHERE id = NEW.x AND state = 'posted')``; PL/pgSQL plans that once
per session, and with the statistics of a young database the planner served it from a ``(state, ...)`` index,
walking every posted document for each line inserted (batch invoicing on PostgreSQL: 49 s instead of 17 s for
10,000 invoices). A lookup whose only condition is ``id = ...`` can be served by the primary key alone."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import text

from core.extensions import db

PARENTS = {"invoicing_invoice_lines": "invoicing_invoices", "accounting_lines": "accounting_entries"}
# PostgreSQL: the trigger functions of the lines (one per table); SQLite: the lines' triggers themselves.
# Since invoicing_0006_batch and accounting_0005_entries inserted lines are checked once per statement, their parents
# read together (``id = ANY(...)``): a generic plan on that can still use the primary key alone.
PG_GUARDS = {"invoicing_invoice_lines": ["invoicing_refuse_posted_line_change", "invoicing_refuse_lines_on_posted"],
             "accounting_lines": ["accounting_refuse_posted_line_change", "accounting_refuse_lines_on_posted"]}


def _guard_sources(lines_table: str) -> list[str]:
    if db.engine.dialect.name == "postgresql":
        return [db.session.scalar(text("SELECT prosrc FROM pg_proc WHERE proname = :f"), {"f": function})
                for function in PG_GUARDS[lines_table]]
    return list(db.session.scalars(text("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = :t"),
                                   {"t": lines_table}))


@pytest.mark.parametrize("lines_table", sorted(PARENTS))
def test_the_guard_reads_its_parent_by_primary_key_alone(app, lines_table):
    with app.app_context():
        sources = _guard_sources(lines_table)
    assert sources and all(sources), sources
    for source in sources:
        # the condition of each lookup: up to the PL/pgSQL ";" or the ")" closing SQLite's scalar subquery
        lookups = re.findall(r"FROM\s+(\w+)\s+WHERE\s+([^;)]*)", source, flags=re.S)
        assert lookups, source
        for table, condition in lookups:
            assert table == PARENTS[lines_table]
            # one value or one array of them (the regex stops at its ")"), no other column
            assert re.fullmatch(r"id = (((NEW|OLD)\.)?\w+|ANY\(\w+)", condition.strip()), condition
