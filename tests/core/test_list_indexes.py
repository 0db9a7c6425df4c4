"""Every filter and every sort of every list reads its table through an index (EXPLAIN), on SQLite and PostgreSQL.

The lists are the ones registered in core.listing.LISTS (invoices, payments, service orders, customers, products).
The cases come from each list's declared filter schema and sort keys, not from a hand-written list here: a
filter added to a list's schema without an index makes this test fail.

For each case, the statements the page and the API really run are EXPLAINed: the page's ids (ORDER BY ... LIMIT
50 OFFSET 100), a deep page (OFFSET 50,000) whose ids must come from an index too, the page's rows read by primary
key (core.listing.fetch_page's deferred join), the total count, and the list's extra statements (the invoice
list's totals).

- SQLite: EXPLAIN QUERY PLAN; a step "SCAN <table>" without "USING ... INDEX" is a full table scan.
- PostgreSQL: EXPLAIN with enable_seqscan = off. The test database is nearly empty, and on a small table the
  planner rightly prefers a sequential scan, so the plain plan says nothing about 100,000 rows. With sequential
  scans disabled the planner takes an index whenever one can serve the query, and still shows "Seq Scan on
  <table>" when none can: exactly the question asked.

The text search ``q`` of the invoices, payments and service orders is held to its trigram index like any filter
(core.search: pg_trgm's GIN index, SQLite's FTS5 trigram table; the sample text "abc" is long enough to use it).
The customers' and products' ``q`` match a substring of small tables without such an index: declared as
``substring`` by their list, run here (the statements must be valid), and not held to an index.
"""
from __future__ import annotations

import re
from datetime import date

import marshmallow as ma
import pytest
from sqlalchemy import text

from core.extensions import db
from core.listing import LISTS, _primary_key, count_statement, page_ids, rows_by_key
from core.search import TextSearch

SKIP = {"limit", "offset", "sort"}
EXPECTED = {"invoices", "payments", "service_orders", "partners", "products"}


def _values(field: ma.fields.Field) -> list:
    """Sample values for one declared filter: each choice of a OneOf, else one value of the field's type."""
    for validator in field.validators:
        if isinstance(validator, ma.validate.OneOf):
            return list(validator.choices)
    if isinstance(field, ma.fields.Boolean):
        return [True]
    if isinstance(field, ma.fields.Integer):
        return [1]
    if isinstance(field, ma.fields.Date):
        return [date(2024, 3, 1)]
    if isinstance(field, ma.fields.String):
        return ["abc"]
    raise AssertionError(f"no sample value for a {type(field).__name__} filter: add one to _values")


def _cases(spec) -> list[tuple[str, dict, str | None]]:
    """(label, filters, sort): each declared filter with each of its values (default sort), and each sort both
    ways (no filter)."""
    cases = [("no filter", {}, None)]
    for name, field in spec.filters()._declared_fields.items():
        if name in SKIP:
            continue
        for value in _values(field):
            cases.append((f"{name}={value}", {name: value}, None))
    for key in spec.sorts():
        cases += [(f"sort={key}", {}, key), (f"sort=-{key}", {}, f"-{key}")]
    return cases


def _statements(spec, filters: dict, sort: str | None) -> list[tuple[object, bool]]:
    """(statement, ordered by the table's primary key) for the page of rows, the count and the extras."""
    query = spec.query(filters, sort)
    order = spec.order(sort)
    first = getattr(order[0], "element", order[0])
    by_key = bool(getattr(first, "primary_key", False)) and getattr(first, "table", None) is not None \
        and first.table.name == spec.table
    ordered = query.order_by(*order)
    rows = page_ids(ordered, _primary_key(ordered), 50, 100)  # core.listing.fetch_page's first statement
    return [(rows, by_key), (count_statement(query), False)] + [(s, False) for s in (spec.extra(filters) if spec.extra else [])]


def _deep_page(spec, filters: dict, sort: str | None, table: str, dialect: str) -> list[str]:
    """What is wrong with a deep page's two statements: its ids not from an index, its rows not read by key."""
    ordered = spec.query(filters, sort).order_by(*spec.order(sort))
    key = _primary_key(ordered)
    order = spec.order(sort)
    first = getattr(order[0], "element", order[0])
    by_key = bool(getattr(first, "primary_key", False)) and getattr(first, "table", None) is not None \
        and first.table.name == table
    problems = []
    plan = _plan(page_ids(ordered, key, 50, 50000))
    if _table_scans(plan, table, dialect, by_key):
        problems.append(f"the page's ids read {table} without an index\n{plan}")
    plan = _plan(rows_by_key(ordered, key, list(range(1, 51))))
    by_primary_key = (rf"SEARCH {table}(?: AS \w+)? USING INTEGER PRIMARY KEY" if dialect == "sqlite"
                      else rf"Index (?:Only )?Scan (?:using|on) {table}_pkey")
    if not re.search(by_primary_key, plan):
        problems.append(f"the page's rows not read by primary key\n{plan}")
    return problems


def _plan(statement) -> str:
    connection = db.session.connection()
    compiled = statement.compile(dialect=connection.dialect, compile_kwargs={"render_postcompile": True})
    if connection.dialect.name == "sqlite":
        rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}", compiled.positiontup and tuple(
            compiled.params[name] for name in compiled.positiontup) or ()).all()
        return "\n".join(row[-1] for row in rows)
    connection.execute(text("SET LOCAL enable_seqscan = off"))
    rows = connection.exec_driver_sql(f"EXPLAIN {compiled}", compiled.params).all()
    return "\n".join(row[0] for row in rows)


def _table_scans(plan: str, table: str, dialect: str, by_key: bool = False) -> list[str]:
    if dialect == "sqlite":
        # SQLite's table is the b-tree of its INTEGER PRIMARY KEY: walking it in key order for ORDER BY id ...
        # LIMIT shows as a bare "SCAN t" (PostgreSQL: "Index Scan using t_pkey"). That is an index walk that stops
        # at the LIMIT, as long as no temporary b-tree sorts the rows afterwards.
        if by_key and "TEMP B-TREE FOR ORDER BY" not in plan:
            return []
        pattern = re.compile(rf"^\s*SCAN {table}(?: AS \w+)?\s*$")
    else:
        pattern = re.compile(rf"Seq Scan on {table}\b")
    return [line for line in plan.splitlines() if pattern.search(line)]


def test_every_list_is_registered(app):
    assert EXPECTED <= set(LISTS), f"lists not registered in core.listing.LISTS: {EXPECTED - set(LISTS)}"


@pytest.mark.parametrize("outside", [False, True], ids=["q by customers only", "q by text and customers"])
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_filter_and_sort_uses_an_index(app, monkeypatch, name, outside):
    # A search whose text only customers' names hold reads ``partner_id IN (...)``; one that rows hold too, the
    # text's trigram index as well (core.search.TextSearch.contains_or_parent asks the data): both forms.
    monkeypatch.setattr(TextSearch, "found_outside", lambda self, *args: outside)
    spec = LISTS[name]
    failures = []
    with app.test_request_context():
        dialect = db.session.get_bind().dialect.name
        for label, filters, sort in _cases(spec):
            for statement, by_key in _statements(spec, filters, sort):
                plan = _plan(statement)
                scans = _table_scans(plan, spec.table, dialect, by_key)
                if scans and not set(filters) & set(spec.substring):
                    failures.append(f"{name} {label}: {spec.table} read without an index\n{plan}")
            if not set(filters) & set(spec.substring):
                failures += [f"{name} {label}, deep page: {problem}"
                             for problem in _deep_page(spec, filters, sort, spec.table, dialect)]
        db.session.rollback()
    assert not failures, "\n\n".join(failures)


def test_the_check_sees_a_table_scan(app):
    """The detector itself: a filter on a column without an index is reported (so the test above can fail)."""
    from sqlalchemy import select

    from addons.invoicing.models import Invoice
    with app.test_request_context():
        dialect = db.session.get_bind().dialect.name
        statement = select(Invoice.id).where(Invoice.notes == "x")
        assert _table_scans(_plan(statement), Invoice.__tablename__, dialect)
        indexed = select(Invoice.id).where(Invoice.partner_id == 1)
        assert not _table_scans(_plan(indexed), Invoice.__tablename__, dialect)
        db.session.rollback()
