"""The hooks accounting emits (called with keywords, inside the posting transaction)."""
import pluggy

hookspec = pluggy.HookspecMarker("kontor")


@hookspec
def accounting_entry_posted(entry):
    """``entry`` (``accounting.models.JournalEntry``) moved draft -> posted: number, hash and chain place final.
    Implementations may add and flush rows, never commit; raising aborts the posting and the document behind it."""
