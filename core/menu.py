"""The kernel's own entries in the menu: customers, settings, users, addons (addons add theirs by the same hook)."""
from __future__ import annotations

from core.hookspecs import hookimpl
from core.kernel import MenuItem
from core.security import can


@hookimpl
def kontor_menu_items(user):
    entries = [("partners.read", MenuItem("Customers", "core.partners", order=10)),
               ("settings.read", MenuItem("Settings", "core.settings", order=90)),
               ("users.manage", MenuItem("Users", "core.users", order=91)),
               ("addons.read", MenuItem("Addons", "core.addons", order=92))]
    return [item for permission, item in entries if can(user, permission)]
