"""Lists that filter, search, sort and paginate, for pages and CSV alike.

A view declares its sortable columns by name; ``?sort=-date`` sorts descending. Unknown sort keys fall back to the
default (never an error, never raw SQL from the query string).
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any, Callable, Iterable

from flask import Response, request
from sqlalchemy import Select, func, select

from core.extensions import db

PER_PAGE = 50
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


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
    # Filters that match a substring: no b-tree index can answer them, so they scan by design (each query's
    # comment says how it is bounded); the test still runs them.
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


def count_statement(query: Select) -> Select:
    """How many rows ``query`` has (the pager's and the API's total)."""
    return select(func.count()).select_from(query.order_by(None).subquery())


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
    result = db.session.execute(query.limit(per_page).offset((number - 1) * per_page))
    return Page(items=list(result.scalars() if scalars else result), total=total, page=number, per_page=per_page)


def safe_cell(value) -> str:
    """A CSV cell a spreadsheet will not run: formula prefixes get a leading apostrophe."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


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
