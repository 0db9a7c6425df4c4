"""portal: a ``customer`` role tied to one partner sees their own invoices and credit notes, downloads the PDFs,
applies their credit to an open invoice; invoice emails carry an expiring, revocable signed link."""
from . import hooks

PERMISSIONS = {
    # Customers only: what a back-office role holds comes from the other addons. Admin holds every permission,
    # but the portal's pages still need a user tied to a customer (see services.portal_partner).
    "portal.view": ["customer"],
    "portal.apply_credit": ["customer"],
    "portal.links.revoke": ["admin", "back_office"],
}


def register(kernel):
    from . import api, views
    kernel.register_hooks(hooks)
    kernel.register_permissions(PERMISSIONS)
    kernel.register_blueprint(views.bp)
    kernel.register_api(api.blp)
    kernel.on_app(views.install_landing)
