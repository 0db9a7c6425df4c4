"""field_service: service orders, technicians' hours and parts, intervention reports, order to invoice."""
from . import hooks, hookspecs

PERMISSIONS = {
    # Technicians read and work only on the orders assigned to them (services.visible_orders / get_order).
    "field_service.read": ["admin", "back_office", "bookkeeper", "technician"],
    "field_service.write": ["admin", "back_office"],          # create, edit, schedule, cancel orders
    "field_service.work": ["admin", "back_office", "technician"],  # start, hours, parts, report, done
    "field_service.invoice": ["admin", "back_office"],        # Create invoice, batch invoicing
}


def register(kernel):
    from . import api, cli, views
    kernel.add_hookspecs(hookspecs)
    kernel.register_hooks(hooks)
    kernel.register_permissions(PERMISSIONS)
    kernel.register_blueprint(views.bp)
    kernel.register_api(api.blp)
    kernel.register_cli(cli.service_orders)
