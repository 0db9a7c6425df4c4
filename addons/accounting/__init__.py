"""accounting: the ledger bookkeepers trust — chart of accounts, journals, entries built from the documents'
hooks, reconciliation, a hash chain over posted entries, the lock date, reports and the FEC export."""
from . import hooks, hookspecs

PERMISSIONS = {
    "accounting.read": ["admin", "back_office", "bookkeeper"],
    "accounting.entries": ["admin", "bookkeeper"],
    "accounting.lock": ["admin", "bookkeeper"],
    "accounting.reports": ["admin", "bookkeeper"],
    "accounting.export": ["admin", "bookkeeper"],
    "accounting.chart": ["admin"],
}


def register(kernel):
    from . import api, guards, report_views, views  # noqa: F401  (guards: the listener that protects posted entries)
    kernel.add_hookspecs(hookspecs)
    kernel.register_hooks(hooks)
    kernel.register_permissions(PERMISSIONS)
    kernel.register_blueprint(views.bp)
    kernel.register_api(api.blp)


def install():
    """The generic chart of accounts, the journals and the default mapping."""
    from . import services
    services.load_chart()
