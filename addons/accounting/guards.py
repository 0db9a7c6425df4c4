"""Posted entries and their lines never change: the ORM refuses here (core.immutability, at flush); the database
refuses raw SQL with the triggers written into the migration."""
from __future__ import annotations

from core.errors import DomainError
from core.immutability import protect_posted

from .models import JournalEntry, JournalLine


class PostedEntryChanged(DomainError):
    code = "entry_posted"


protect_posted(JournalEntry, JournalLine, parent="entry", fields=None, error=PostedEntryChanged,
               message=lambda entry: f"Entry {entry.number} is posted; it cannot be changed or deleted. "
                                     "Reverse it to correct it.")
