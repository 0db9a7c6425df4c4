"""The kernel's own hooks (``kontor_*``). Addons implement them in their hooks.py."""
import pluggy

hookspec = pluggy.HookspecMarker("kontor")
hookimpl = pluggy.HookimplMarker("kontor")


@hookspec
def kontor_menu_items(user):
    """Return a list of ``core.kernel.MenuItem`` for ``user`` (already logged in), or an empty list.

    Called on every HTML page; must not query the database (check ``user.role`` or permissions only).
    """


@hookspec
def kontor_dashboard_tiles(user):
    """Return a list of ``core.kernel.Tile`` for the home dashboard of ``user``.

    May run a few aggregate queries (no per-row loops). Return [] when the user may not see them.
    """


@hookspec
def kontor_cli_commands():
    """Return a list of click commands (or groups) to add to ``run.py``'s command line."""


@hookspec
def kontor_importers():
    """Return a list of ``core.imports.Importer`` (CSV imports: ``python run.py import KIND FILE`` and a page).

    The importer's ``create(values)`` calls the addon's own service function; it may flush, never commit."""


@hookspec
def kontor_posted_documents():
    """Return how many documents this addon has posted (numbered invoices, posted journal entries...), or 0.

    The company's currency cannot change once any addon answers more than 0 (core.company.update_company)."""
