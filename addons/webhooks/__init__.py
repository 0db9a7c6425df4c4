"""webhooks: admins register endpoint URLs per event; each event writes outbox rows in the transaction that
caused it, and ``python run.py worker`` delivers them (signed, with retries), so a slow endpoint never slows a
posting. See docs/integrations.md for the payload and the signature."""
from . import hooks

PERMISSIONS = {
    "webhooks.manage": ["admin"],
}


def register(kernel):
    from . import api, cli, views
    kernel.register_hooks(hooks)
    kernel.register_permissions(PERMISSIONS)
    kernel.register_blueprint(views.bp)
    kernel.register_api(api.blp)
    kernel.register_cli(cli.worker)
