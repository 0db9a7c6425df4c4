"""webhooks: admins register endpoint URLs per event; each event writes outbox rows in the transaction that
caused it, and ``python run.py worker`` delivers them (signed, with retries), so a slow endpoint never slows a
posting. See docs/integrations.md for the payload and the signature."""
from . import hooks

PERMISSIONS = {
    "webhooks.manage": ["admin"],
}


def _check_settings(app) -> None:
    """A wrong KONTOR_WEBHOOK_ALLOW or KONTOR_WEBHOOK_TIMEOUT stops start-up with its message, rather than every
    delivery failing later."""
    from . import egress
    egress.settings(app.config)


def register(kernel):
    from . import api, cli, views
    kernel.on_app(_check_settings)
    kernel.register_hooks(hooks)
    kernel.register_permissions(PERMISSIONS)
    kernel.register_blueprint(views.bp)
    kernel.register_api(api.blp)
    kernel.register_cli(cli.worker)
