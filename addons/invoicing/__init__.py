"""invoicing: products, taxes, invoices and credit notes, customer credit, PDF, Factur-X, email."""
from . import hooks, hookspecs

PERMISSIONS = {
    "invoicing.read": ["admin", "back_office", "bookkeeper"],
    "invoicing.write": ["admin", "back_office"],
    "invoicing.post": ["admin", "back_office"],
    "invoicing.credit": ["admin", "back_office", "bookkeeper"],
    "invoicing.send": ["admin", "back_office"],
    "products.read": ["admin", "back_office", "bookkeeper"],
    "products.write": ["admin", "back_office"],
}


def register(kernel):
    from . import api, guards, views  # noqa: F401  (guards: the listener that protects posted invoices)
    kernel.add_hookspecs(hookspecs)
    kernel.register_hooks(hooks)
    kernel.register_permissions(PERMISSIONS)
    kernel.register_blueprint(views.bp)
    kernel.register_api(api.blp)


def install():
    """Default taxes, so a new company can invoice at once."""
    from .models import Tax
    from core.extensions import db
    from sqlalchemy import select
    if db.session.scalar(select(Tax.id).limit(1)) is None:
        from . import services
        services.create_tax("VAT 20%", "20")
        services.create_tax("VAT 10%", "10")
        services.create_tax("VAT 5.5%", "5.5")
        services.create_tax("No VAT", "0")
