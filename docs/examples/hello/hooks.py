"""hello's implementations of the kernel's hooks (core/hookspecs.py). Thin: rules live in services.py."""
from __future__ import annotations

import click

from core.hookspecs import hookimpl
from core.kernel import MenuItem, Tile
from core.security import can

from . import services


@hookimpl
def kontor_menu_items(user):
    # Called on every page: check permissions only, never query the database.
    return [MenuItem("Hello", "hello.index", order=80)] if can(user, "hello.view") else []


@hookimpl
def kontor_dashboard_tiles(user):
    if not can(user, "hello.view"):
        return []
    return [Tile("Hello", str(services.customer_count()), detail="customers to greet", endpoint="hello.index",
                 order=80)]


@click.command("hello")
@click.option("--name", default="world", show_default=True, help="Whom to greet.")
def hello_command(name):
    """Greet someone, and count the customers."""
    click.echo(services.greeting(name))


@hookimpl
def kontor_cli_commands():
    return [hello_command]
