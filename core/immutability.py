"""Posted documents never change: one ORM guard for a document model and its line model (invoices and their
lines, journal entries and theirs). The database refuses raw SQL too, with the triggers of each addon's
migrations; this guard gives the ORM a clear DomainError before anything reaches the database.

An addon declares its guard once, at import time::

    protect_posted(Invoice, InvoiceLine, parent="invoice", fields=IMMUTABLE, error=PostedInvoiceChanged,
                   message=lambda invoice: f"Invoice {invoice.number} is posted; ...")

``fields=None`` protects every column of the document; a tuple protects only those (the others, such as the
settlement columns of a posted invoice, may still move).
"""
from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from core.errors import DomainError


def protect_posted(document: type, line: type, *, parent: str, fields: tuple[str, ...] | None,
                   error: type[DomainError], message: Callable[[object], str]) -> None:
    """Refuse, at flush, any change to a posted ``document`` (all columns or ``fields``), and any new, changed,
    deleted or moved ``line`` of one. ``parent`` is the line's relationship to its document (its foreign key is
    ``<parent>_id``)."""
    parent_id = f"{parent}_id"

    def was_posted(doc) -> bool:
        """Posted before this flush (a document being posted now is still allowed its final changes)."""
        history = inspect(doc).attrs.state.history
        if history.deleted:
            return "posted" in history.deleted
        return doc.state == "posted" and inspect(doc).persistent

    def changed(session, doc) -> bool:
        if fields is None:
            return session.is_modified(doc, include_collections=False)
        attrs = inspect(doc).attrs
        return any(attrs[name].history.has_changes() for name in fields)

    def documents_of(session, obj) -> list:
        """The document the line belonged to before this flush (by relationship or by id), and its current one."""
        attrs = inspect(obj).attrs
        current = getattr(obj, parent)
        found = list(attrs[parent].history.deleted or []) + ([current] if current is not None else [])
        ids = set(attrs[parent_id].history.deleted or []) | {getattr(obj, parent_id)}
        found += [session.get(document, i) for i in ids if i is not None]
        return [doc for doc in found if doc is not None]

    def refuse(doc):
        raise error(message(doc))

    @event.listens_for(Session, "before_flush")
    def _protect_posted(session, _context, _instances) -> None:
        with session.no_autoflush:
            for obj in list(session.dirty) + list(session.deleted):
                if isinstance(obj, document):
                    if (obj in session.deleted or changed(session, obj)) and was_posted(obj):
                        refuse(obj)
                elif isinstance(obj, line) and (obj in session.deleted or session.is_modified(obj)):
                    for doc in documents_of(session, obj):
                        if was_posted(doc):
                            refuse(doc)
            for obj in session.new:
                if isinstance(obj, line) and getattr(obj, parent) is not None and was_posted(getattr(obj, parent)):
                    refuse(getattr(obj, parent))


def insert_guard_sql(addon: str, lines: str, parent: str, parent_id: str, message: str,
                     row_function: str) -> tuple[list[str], list[str]]:
    """PostgreSQL: ``(upgrade, downgrade)`` statements of a guard that refuses a statement adding ``lines`` rows to a
    posted ``parent``, checked once per statement (INSERT, and so COPY) instead of by a row trigger per line: the
    function ``<addon>_refuse_lines_on_posted``, the trigger ``<addon>_lines_insert_guard``.

    The statement's new rows give their parents' ids; the parents are read with ``id = ANY(...)`` alone, which a
    PL/pgSQL generic plan can only serve from the primary key (a condition on ``state`` too once made the planner
    walk a ``(state, ...)`` index for every line; invoicing_0004). Any posted parent refuses the whole statement
    with ``message``. The lines' row trigger ``<addon>_lines_immutable`` (``row_function``) keeps guarding
    updates and deletes only; the downgrade gives it inserts back."""
    function, trigger = f"{addon}_refuse_lines_on_posted", f"{addon}_lines_insert_guard"
    upgrade = [f"""CREATE OR REPLACE FUNCTION {function}() RETURNS trigger AS $$
    DECLARE
        parents integer[];
        posted boolean;
    BEGIN
        SELECT array_agg(DISTINCT {parent_id}) INTO parents FROM new_lines;
        SELECT bool_or(state = 'posted') INTO posted FROM {parent} WHERE id = ANY(parents);
        IF posted THEN
            RAISE EXCEPTION '{message}';
        END IF;
        RETURN NULL;
    END;
    $$ LANGUAGE plpgsql""",
               f"CREATE TRIGGER {trigger} AFTER INSERT ON {lines} REFERENCING NEW TABLE AS new_lines "
               f"FOR EACH STATEMENT EXECUTE FUNCTION {function}()"]
    row_trigger = f"{addon}_lines_immutable"

    def row_guard(events: str) -> list[str]:
        return [f"DROP TRIGGER IF EXISTS {row_trigger} ON {lines}",
                f"CREATE TRIGGER {row_trigger} BEFORE {events} ON {lines} "
                f"FOR EACH ROW EXECUTE FUNCTION {row_function}()"]

    upgrade += row_guard("UPDATE OR DELETE")
    downgrade = row_guard("INSERT OR UPDATE OR DELETE") + [f"DROP TRIGGER IF EXISTS {trigger} ON {lines}",
                                                          f"DROP FUNCTION IF EXISTS {function}()"]
    return upgrade, downgrade
