"""Posted entries and their lines never change: the ORM refuses here (before_flush); the database refuses raw
SQL with the triggers written into the migration."""
from __future__ import annotations

from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from core.errors import DomainError

from .models import JournalEntry, JournalLine


class PostedEntryChanged(DomainError):
    code = "entry_posted"


def _was_posted(entry: JournalEntry) -> bool:
    """Posted before this flush (an entry being posted now is still allowed its final changes)."""
    history = inspect(entry).attrs.state.history
    if history.deleted:
        return "posted" in history.deleted
    return entry.state == "posted" and inspect(entry).persistent


def _refuse(entry: JournalEntry) -> None:
    raise PostedEntryChanged(f"Entry {entry.number} is posted; it cannot be changed or deleted. "
                             "Reverse it to correct it.")


@event.listens_for(Session, "before_flush")
def _protect_posted(session, _context, _instances) -> None:
    with session.no_autoflush:
        _check(session)


def _check(session) -> None:
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, JournalEntry):
            if (obj in session.deleted or session.is_modified(obj, include_collections=False)) and _was_posted(obj):
                _refuse(obj)
        elif isinstance(obj, JournalLine):
            entry = obj.entry
            if entry is None:
                state = inspect(obj).attrs.entry.history
                entry = (state.deleted or [None])[0]
            if entry is not None and (obj in session.deleted or session.is_modified(obj)) and _was_posted(entry):
                _refuse(entry)
            for old_id in inspect(obj).attrs.entry_id.history.deleted or []:  # a line moved by its entry_id
                old = session.get(JournalEntry, old_id) if old_id is not None else None
                if old is not None and _was_posted(old):
                    _refuse(old)
    for obj in session.new:
        if isinstance(obj, JournalLine) and obj.entry is not None and _was_posted(obj.entry):
            _refuse(obj.entry)
