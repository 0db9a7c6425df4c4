"""Text search ("contains", case-insensitive) served by a trigram index instead of a table scan.

A list declares what its ``q`` searches, once: ``NUMBER_SEARCH = TextSearch(Invoice.number)``, and its query adds
``NUMBER_SEARCH.contains(text)``. The migration that adds the index calls ``create_trigram_index(table, columns)``
(and ``drop_trigram_index`` on the way down). What the search returns is exactly what ``col ILIKE '%text%'``
returns (``%``, ``_`` and ``\\`` literal); the index only narrows the rows that LIKE then checks:

- PostgreSQL: a GIN index per column with ``pg_trgm``'s ``gin_trgm_ops``. The planner serves ``ILIKE '%x%'`` from it
  (a bitmap scan, every candidate rechecked), so the query stays the plain ILIKE. If the extension cannot be created
  (no privilege), the migration logs it and leaves the plain ILIKE scanning: slower, same rows.
- SQLite: an FTS5 table with the ``trigram`` tokenizer over the columns (external content: it stores the index,
  not a copy of the text), kept in step by three triggers. A text of 3 characters or more is looked up as a phrase
  (the rows holding every trigram of it, in order), and the LIKE of today rechecks those candidates: the trigram
  tokenizer folds case for all of Unicode, SQLite's LIKE for ASCII only, so the candidates are a superset and the
  recheck keeps today's answer exactly. Shorter texts have no trigram: they keep the scanning LIKE.
  A later migration that rebuilds such a table (Alembic batch mode's copy-and-move) must recreate the triggers.
"""
from __future__ import annotations

import logging

from sqlalchemy import (Column, Select, String, bindparam, column, literal_column, or_, select, table, text as sql,
                        union_all)
from sqlalchemy.exc import DBAPIError

log = logging.getLogger(__name__)

MIN_TRIGRAM = 3  # the tokenizer's unit: a shorter text has no trigram to look up


def like_pattern(text: str) -> str:
    """``%text%`` with LIKE's wildcards (and the escape character) taken literally; use with escape="\\"."""
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def refuse_nul(text: str) -> None:
    """A search text holding a NUL character is refused (422), the same on both databases: PostgreSQL cannot take
    one as a value, SQLite's LIKE ends the pattern there (matching what it should not) and FTS5's parser fails."""
    if "\x00" in text:
        from core.errors import ValidationError
        raise ValidationError("A search cannot contain a NUL character; remove it and search again.",
                              fields={"q": ["Contains a NUL character."]})


def fts_table(table_name: str) -> str:
    return f"{table_name}_search"


def _dialect() -> str:
    from core.extensions import db
    return db.session.get_bind().dialect.name


class TextSearch:
    """Rows whose any of ``columns`` (one table, with an integer primary key ``id``) contains a text."""

    def __init__(self, *columns: Column):
        self.columns = columns
        self.table = columns[0].table
        self.fts = fts_table(self.table.name)

    def contains(self, text: str, *also: Select):
        """The WHERE clause: any column ILIKE '%text%' (``text`` as given: the caller strips it), or the row's id
        is among ``also`` (selects of ids, e.g. the rows of the customers whose name matches).

        With ``also``, one ``id IN (... UNION ALL ...)``: each part is served by its own index, where an OR of
        ``ILIKE`` and ``partner_id IN (subquery)`` would make PostgreSQL filter every row of the table."""
        refuse_nul(text)
        if also:
            return self.table.c.id.in_(union_all(self.ids(text), *also))
        if self._indexed(text) and _dialect() == "sqlite":
            return self.table.c.id.in_(self.ids(text))
        return self._like(text)

    def contains_or_parent(self, text: str, foreign_key: Column, parents: Select):
        """The WHERE clause: the row contains ``text``, or its parent (``foreign_key``) is among ``parents`` (a
        select of ids: the customers whose name contains it).

        A word found in customers' names is rarely in a document's own text (``Cabinet`` in no invoice number).
        One indexed look-up (LIMIT 1) asks whether any row outside those parents contains it: if none does, the
        rows are exactly those of the parents, and the clause is ``foreign_key IN parents`` alone, which an index
        on (foreign key, sort key, id) answers for the count and the page without reading a row (PostgreSQL's
        index-only scan; the ``id IN (... UNION ALL ...)`` form reads each found row, thousands for a common word).
        Otherwise it is contains(text, the parents' rows), as before."""
        parents = parents.correlate(None)  # a list joined to the customers to sort keeps this a plain subquery
        if not self.found_outside(text, foreign_key, parents):
            return foreign_key.in_(parents)
        return self.contains(text, select(self.table.c.id).where(foreign_key.in_(parents)))

    def found_outside(self, text: str, foreign_key: Column, parents: Select) -> bool:
        """Whether a row whose parent is not among ``parents`` contains ``text`` (one look-up, LIMIT 1)."""
        from core.extensions import db
        outside = select(self.table.c.id).where(self.contains(text), foreign_key.not_in(parents)).limit(1)
        return db.session.scalar(outside) is not None

    def ids(self, text: str) -> Select:
        """The ids of the rows that contain ``text``."""
        refuse_nul(text)
        if not (self._indexed(text) and _dialect() == "sqlite"):
            return select(self.table.c.id).where(self._like(text))
        # The FTS table's rowid is the row's id; its columns read the row's text (external content) for the recheck.
        fts = table(self.fts, column("rowid"), *(column(c.name, String) for c in self.columns))
        phrase = '"' + text.replace('"', '""') + '"'
        return select(fts.c.rowid).where(
            literal_column(f'"{self.fts}"').op("MATCH")(bindparam(None, phrase, type_=String)),
            or_(*(fts.c[c.name].ilike(like_pattern(text), escape="\\") for c in self.columns)))

    def _like(self, text: str):
        like = like_pattern(text)
        return or_(*(c.ilike(like, escape="\\") for c in self.columns))

    @staticmethod
    def _indexed(text: str) -> bool:
        return len(text) >= MIN_TRIGRAM


# -- migrations ----------------------------------------------------------------------------------------------------
def create_trigram_index(table_name: str, columns: list[str]) -> None:
    """In a migration: the trigram index of ``columns`` (see the module docstring), filled from the rows."""
    from alembic import op
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        fts, cols = fts_table(table_name), ", ".join(columns)
        new = ", ".join(f"new.{c}" for c in columns)
        old = ", ".join(f"old.{c}" for c in columns)
        op.execute(f"CREATE VIRTUAL TABLE {fts} USING fts5({cols}, content='{table_name}', content_rowid='id', "
                   f"tokenize='trigram')")
        op.execute(f"INSERT INTO {fts}({fts}) VALUES ('rebuild')")
        op.execute(f"CREATE TRIGGER {fts}_insert AFTER INSERT ON {table_name} BEGIN "
                   f"INSERT INTO {fts}(rowid, {cols}) VALUES (new.id, {new}); END")
        op.execute(f"CREATE TRIGGER {fts}_delete AFTER DELETE ON {table_name} BEGIN "
                   f"INSERT INTO {fts}({fts}, rowid, {cols}) VALUES ('delete', old.id, {old}); END")
        # Only updates that name a searched column (posting sets the number; payments touch amounts, not this).
        op.execute(f"CREATE TRIGGER {fts}_update AFTER UPDATE OF {cols} ON {table_name} BEGIN "
                   f"INSERT INTO {fts}({fts}, rowid, {cols}) VALUES ('delete', old.id, {old}); "
                   f"INSERT INTO {fts}(rowid, {cols}) VALUES (new.id, {new}); END")
        return
    if bind.dialect.name != "postgresql":
        return
    if not bind.scalar(sql("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")):
        try:
            with bind.begin_nested():
                bind.execute(sql("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
        except DBAPIError as exc:
            # E.g. a role without the privilege: the search keeps working as a plain ILIKE that scans the table.
            if not bind.scalar(sql("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")):
                log.warning("pg_trgm could not be created (%s): the search of %s stays an unindexed ILIKE",
                            str(exc.orig).strip(), table_name)
                return
    for c in columns:
        op.execute(f"CREATE INDEX ix_{table_name}_{c}_trgm ON {table_name} USING gin ({c} gin_trgm_ops)")


def drop_trigram_index(table_name: str, columns: list[str]) -> None:
    """In a migration's downgrade: what create_trigram_index made (pg_trgm stays: other schemas may use it)."""
    from alembic import op
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        fts = fts_table(table_name)
        for suffix in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER IF EXISTS {fts}_{suffix}")
        op.execute(f"DROP TABLE IF EXISTS {fts}")
    elif bind.dialect.name == "postgresql":
        for c in columns:
            op.execute(f"DROP INDEX IF EXISTS ix_{table_name}_{c}_trgm")


def list_index_migration(table_name: str, search: list[str], replaced: list[tuple] = (), added: list[tuple] = ()):
    """``(upgrade, downgrade)`` of a migration that gives a list its search index and its sort indexes:
    ``replaced``: (old single-column index, its replacement, the replacement's columns: the sort column then
    ``id``, the lists' tie-break); ``added``: (new index, columns)."""
    from alembic import op

    def upgrade() -> None:
        create_trigram_index(table_name, search)
        for old, new, columns in replaced:
            op.create_index(new, table_name, columns)
            op.drop_index(old, table_name=table_name)
        for new, columns in added:
            op.create_index(new, table_name, columns)

    def downgrade() -> None:
        for new, _ in added:
            op.drop_index(new, table_name=table_name)
        for old, new, columns in replaced:
            op.create_index(old, table_name, columns[:1])
            op.drop_index(new, table_name=table_name)
        drop_trigram_index(table_name, search)

    return upgrade, downgrade
