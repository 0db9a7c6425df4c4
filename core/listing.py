"""Lists that filter, search, sort and paginate, for pages and CSV alike.

A view declares its sortable columns by name; ``?sort=-date`` sorts descending. Unknown sort keys fall back to the
default (never an error, never raw SQL from the query string).
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Callable, Iterable

from flask import Response, request
from sqlalchemy import Select, func, select
from sqlalchemy.sql import operators

from core.extensions import db

PER_PAGE = 50
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER = re.compile(r"-?[0-9]+(?:[.,][0-9]+)?")  # nothing a spreadsheet could run


def skip_parents_pays(offset: int, total: int | None) -> bool:
    """Whether a page of a list sorted by its parent's column is read through per-parent counts (see
    _page_ids_by_parent). Those count every row (one index scan); the plain page walks the parents by name and
    their rows from indexes up to ``offset`` (invoicing_0006's (partner_id, invoice_date, id): no sort of all
    rows, no row read). Measured at 100,000 invoices, both databases: equal at half the list, the counts twice
    as fast near its end, slower before the middle. So: past the middle only."""
    return total is not None and offset >= 2000 and 2 * offset > total


@dataclass
class Page:
    items: list
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


@dataclass(frozen=True)
class ListSpec:
    """A list's declared filters and sorts and the functions that build its query: what its page and its API run,
    and what tests/core/test_list_indexes.py EXPLAINs for every filter and every sort (so a filter added to
    ``filters`` without an index fails that test)."""
    name: str
    table: str  # the list's own table: never read without an index
    query: Callable[[dict, str | None], Select]  # (filters, sort key) -> the select, unordered
    order: Callable[[str | None], list]  # sort key -> ORDER BY clauses
    filters: Callable[[], type]  # -> the marshmallow schema declaring the filters
    sorts: Callable[[], Iterable[str]]
    # Filters that match a substring without a trigram index (core.search): no b-tree index can answer them, so
    # they scan by design (the customers' and products' small tables); the test still runs them.
    substring: tuple[str, ...] = ()
    # Further statements the list runs for the same filters (the invoice list's totals).
    extra: Callable[[dict], list[Select]] | None = None


LISTS: dict[str, ListSpec] = {}


def register_list(spec: ListSpec) -> ListSpec:
    LISTS[spec.name] = spec
    return spec


def order_by(columns: dict[str, Any], key: str | None, default: str) -> list:
    """``key`` ("name" or "-name") as ORDER BY clauses; unknown keys fall back to ``default``."""
    key = key or default
    descending = key.startswith("-")
    column = columns.get(key.lstrip("-"))
    if column is None:
        key = default
        descending = key.startswith("-")
        column = columns[key.lstrip("-")]
    return [column.desc() if descending else column.asc()]


def sorted_query(query: Select, columns: dict[str, Any], default: str) -> Select:
    return query.order_by(*order_by(columns, request.args.get("sort"), default))


@dataclass(frozen=True)
class ParentSort:
    """A list joined to its parent (many-to-one, never null: invoice -> customer) only to sort by one of the
    parent's columns. Every row has exactly one parent, so the join changes neither the rows nor their number:
    the count and the per-parent counts read the list's own table alone, and a deep page starts at its parent."""
    parent: Any  # the parent's mapped class (Partner)
    foreign_key: Any  # the list's column naming it (Invoice.partner_id), NOT NULL
    column: Any  # the parent's column the list sorts by (Partner.name)


def join_parent(query: Select, parent, foreign_key, column) -> Select:
    """``query`` joined to ``parent`` through ``foreign_key`` (NOT NULL) to sort by ``parent``'s ``column``."""
    assert not foreign_key.property.columns[0].nullable, f"{foreign_key} may be null: a join would drop rows"
    key = parent.__mapper__.primary_key[0]
    return query.join(parent, key == foreign_key).execution_options(
        kontor_parent_sort=ParentSort(parent, foreign_key, column))


def _unjoined(query: Select, *columns) -> Select | None:
    """``query``'s filters over its own table alone, selecting ``columns``: the parent join left out (see
    ParentSort), or None when the query is not such a list or a filter reads the parent (then the join counts)."""
    sort = query.get_execution_options().get("kontor_parent_sort")
    if sort is None or query._group_by_clauses or query._having_criteria or query._distinct \
            or query._limit_clause is not None or query._offset_clause is not None:
        return None
    table = sort.foreign_key.property.columns[0].table
    bare = select(*columns).select_from(table)
    if query.whereclause is not None:
        bare = bare.where(query.whereclause)
    return bare if bare.get_final_froms() == [table] else None


def count_statement(query: Select) -> Select:
    """How many rows ``query`` has (the pager's and the API's total)."""
    unjoined = _unjoined(query, func.count())
    if unjoined is not None:
        return unjoined
    return select(func.count()).select_from(query.order_by(None).subquery())


def fetch_page(query: Select, limit: int, offset: int, total: int | None = None) -> list:
    """The rows (ORM objects) of ``query`` (ordered, ending with the primary key: a total order) from ``offset``.

    A deferred join in two statements: the page's ids are picked first, from the sort's index alone where it has
    one (what OFFSET skips are index entries, not rows: PostgreSQL otherwise reads each skipped row from the heap;
    and what a sort that no index serves — by customer, the 8,000 hits of a search by date — sorts are (key, id)
    pairs, not whole rows with their customer joined), then those rows are read by primary key (``id IN (50
    ids)``: no plan can prefer anything else) and put back in the ids' order. Same rows, same order; only the
    work behind the rows not shown changes. ``total`` (the list's count, when the caller has it): a page past the
    middle of a list sorted by its parent's column starts at its parent (_page_ids_by_parent)."""
    key = _primary_key(query)
    if key is None:
        return list(db.session.scalars(query.limit(limit).offset(offset)))
    statement = page_ids(query, key, limit, offset)
    if skip_parents_pays(offset, total):
        statement = _page_ids_by_parent(query, key, limit, offset)
    ids = list(db.session.scalars(statement)) if statement is not None else []
    if not ids:
        return []
    rows = {getattr(row, key.key): row for row in db.session.scalars(rows_by_key(query, key, ids)).unique()}
    return [rows[i] for i in ids]


def _primary_key(query: Select):
    entity = query.column_descriptions[0]["entity"]
    mapper = getattr(entity, "__mapper__", None)
    return mapper.primary_key[0] if mapper is not None and len(mapper.primary_key) == 1 else None


def page_ids(query: Select, key, limit: int, offset: int) -> Select:
    """The page's primary keys in the page's order: ``query``'s FROM, joins, WHERE and ORDER BY, no loader options
    (they belong to the statement that reads the rows), so an index holding the sort key and the id serves it."""
    bare = query.with_only_columns(key, maintain_column_froms=True)
    bare._with_options = ()  # no public way to drop selectinload() & co. from a select; they apply to entities only
    return bare.limit(limit).offset(offset)


def _page_ids_by_parent(query: Select, key, limit: int, offset: int) -> Select | None:
    """page_ids() of a deep page of a list sorted by its parent's column (ORDER BY parent.column, id), found
    without sorting the ``offset`` rows before it: the parents in the sort's order with how many rows each has
    (one GROUP BY over the list's own table, from an index on the foreign key) tell whose rows the page holds
    and how many rows come before the first of them; the page is then those parents' rows, sorted as before, from
    that offset. Parents sharing a sort value form one group (their rows interleave by id). Same rows, same
    order as page_ids(); None if the page is past the end; page_ids() itself when the query is not such a list."""
    sort = query.get_execution_options().get("kontor_parent_sort")
    plain = page_ids(query, key, limit, offset)
    order = query._order_by_clauses
    if sort is None or len(order) != 2:
        return plain
    first = order[0]
    descending = getattr(first, "modifier", None) is operators.desc_op
    column = sort.column.__clause_element__()
    if not getattr(first, "element", first).compare(column):
        return plain
    fk = sort.foreign_key
    counted = _unjoined(query, fk, func.count().label("n"))
    if counted is None:
        return plain
    counts = counted.group_by(fk).subquery()
    parent_key = sort.parent.__mapper__.primary_key[0]
    counted_parent = counts.c[fk.property.columns[0].name]
    parents = db.session.execute(select(parent_key, column, counts.c.n).join(counts, counted_parent == parent_key)
                                 .order_by(column.desc() if descending else column.asc())).all()
    groups: list[tuple[list, int]] = []  # ([parent ids], rows) per sort value, in the sort's order
    previous = object()
    for parent_id, value, n in parents:
        if groups and value == previous:
            groups[-1][0].append(parent_id)
            groups[-1] = (groups[-1][0], groups[-1][1] + n)
        else:
            groups.append(([parent_id], n))
        previous = value
    before, skip, chosen = 0, None, []
    for ids, n in groups:
        if skip is None and before + n <= offset:
            before += n  # the whole group is before the page
            continue
        if skip is None:
            skip = offset - before
        chosen += ids
        before += n
        if before >= offset + limit:
            break
    if skip is None:
        return None
    return page_ids(query.where(fk.in_(chosen)), key, limit, skip)


def rows_by_key(query: Select, key, ids: list) -> Select:
    """The rows of ``ids`` with ``query``'s loader options, and only ``id IN (...)`` (the filters hold for them,
    and repeating them would let a planner without statistics walk a filter's index instead of the key)."""
    rows = select(query.column_descriptions[0]["entity"]).where(key.in_(ids))
    rows._with_options = query._with_options  # (private, as in page_ids) selectinload() & co. of the list
    return rows


def page_number() -> int:
    """The ``?page=`` asked for, from 1 (a page that is not a number is the first)."""
    try:
        return max(1, int(request.args.get("page", 1)))
    except ValueError:
        return 1


def paginate(query: Select, per_page: int = PER_PAGE, scalars: bool = True) -> Page:
    """The ``?page=`` slice of ``query`` and the total count; rows as ORM objects, or tuples with scalars=False."""
    number = page_number()
    total = db.session.scalar(count_statement(query)) or 0
    offset = (number - 1) * per_page
    items = fetch_page(query, per_page, offset, total) if scalars else \
        list(db.session.execute(query.limit(per_page).offset(offset)))
    return Page(items=items, total=total, page=number, per_page=per_page)


def safe_cell(value) -> str:
    """An exported cell (every CSV export, the FEC) that a spreadsheet opens as text, never runs as a formula.

    OWASP's advice on CSV injection: text beginning with = + - @ tab or CR gets a leading apostrophe (also past
    leading spaces, which some spreadsheets skip). A number stays a number: an amount (int, Decimal) or a text that
    is only a number (-12.50, the FEC's -12,50) is written as it is, so a refund or a credit balance can be summed.
    """
    if value is None:
        return ""
    text = str(value)
    if isinstance(value, (int, float, Decimal)):
        return text
    head = text.lstrip(" ")
    if head.startswith(FORMULA_PREFIXES) and not PLAIN_NUMBER.fullmatch(head):
        return "'" + text
    return text


def csv_response(filename: str, header: list[str], rows: Iterable[Iterable]) -> Response:
    def generate():
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(header)
        yield buffer.getvalue()
        for row in rows:
            buffer.seek(0)
            buffer.truncate()
            writer.writerow([safe_cell(v) for v in row])
            yield buffer.getvalue()
    return Response(generate(), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})
