"""payments: register payments on posted invoices (partial, several, over-payments as customer credit), pay
several invoices at once, refund customer credit, payment methods; idempotent and race-safe."""
from . import hooks, hookspecs

PERMISSIONS = {
    "payments.read": ["admin", "back_office", "bookkeeper"],
    "payments.register": ["admin", "back_office", "bookkeeper"],
    "payments.refund": ["admin", "back_office", "bookkeeper"],
    "payments.methods": ["admin"],
}


def register(kernel):
    from . import api, views
    kernel.add_hookspecs(hookspecs)
    kernel.register_hooks(hooks)
    kernel.register_permissions(PERMISSIONS)
    kernel.register_blueprint(views.bp)
    kernel.register_api(api.blp)


def install():
    """The payment methods every company has: cash (cash journal), bank transfer and card (bank journal)."""
    from . import services
    services.install_default_methods()
