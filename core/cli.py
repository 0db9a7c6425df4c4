"""The command line (click): the kernel's commands, plus what addons add through ``kontor_cli_commands``."""
from __future__ import annotations

import secrets
from pathlib import Path

import click
from flask import Flask

from core.extensions import db
from core.install import install, is_initialised, load_demo
from core.models import ROLES, AddonState

DEMO_LOGINS = [("admin", "admin"), ("office", "back_office"), ("books", "bookkeeper"), ("tech", "technician")]
DEMO_PASSWORD = "kontor-demo"


def build_cli(app: Flask) -> click.Group:
    @click.group(invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
    @click.pass_context
    def cli(ctx):
        """Kontor: field service, invoicing, payments and accounting."""
        ctx.with_resource(app.app_context())
        if ctx.invoked_subcommand is None:
            first_run(app)
            serve_app(app, "127.0.0.1", 5000)

    @cli.command()
    @click.option("--demo", is_flag=True, help="Also load demo data.")
    @click.option("--orders", default=20, show_default=True, help="Done service orders in the demo data.")
    def init(demo, orders):
        """Create or upgrade the schema of every installed addon (migrations)."""
        fresh = not is_initialised(app)
        newly = install(app)
        click.echo(f"Schema up to date; installed: {', '.join(newly) or 'nothing new'}.")
        if demo:
            _demo(orders, with_users=fresh)

    @cli.command()
    @click.option("--host", default="127.0.0.1", show_default=True)
    @click.option("--port", default=5000, show_default=True, type=int)
    def serve(host, port):
        """Serve the web app (development server; use gunicorn in production)."""
        serve_app(app, host, port)

    @cli.command()
    @click.option("--orders", default=20, show_default=True, type=click.IntRange(0, 1_000_000),
                  help="How many done service orders to create, ready to invoice.")
    def demo(orders):
        """Load demo data: technicians, customers, products and N done service orders."""
        install(app)
        _demo(orders, with_users=True)

    def _demo(orders: int, with_users: bool) -> None:
        if with_users:
            ensure_demo_users()
        with click.progressbar(length=max(orders, 1), label="Demo data") as bar:
            load_demo(app, orders, progress=bar.update)
        click.echo(f"Demo data loaded ({orders} done service orders).")

    @cli.group()
    def user():
        """Users and API tokens."""

    # Roles: the core ones plus those addons grant permissions to (the portal's "customer").
    roles = sorted(set(ROLES) | {r for granted in app.extensions["kontor"].permissions.values() for r in granted})

    @user.command("create")
    @click.argument("login")
    @click.option("--role", required=True, type=click.Choice(roles))
    @click.option("--password", default=None, help="At least 8 characters; a random one when left out.")
    @click.option("--token", is_flag=True, help="Also make an API token; it is printed last, on its own line.")
    @click.option("--partner-id", type=int, default=None, help="The customer a `customer` user stands for.")
    def user_create(login, role, password, token, partner_id):
        """Create a user (and an API token)."""
        from core.errors import DomainError
        from core.models import Partner
        from core.security import create_token, create_user
        if role == "customer" and partner_id is None:
            raise click.UsageError("A customer user needs --partner-id (the id of the customer it stands for).")
        if partner_id is not None and db.session.get(Partner, partner_id) is None:
            raise click.BadParameter(f"there is no customer {partner_id}.", param_hint="--partner-id")
        generated = None if password else secrets.token_urlsafe(12)
        try:
            created = create_user(login, role, password or generated, partner_id=partner_id)
            value = create_token(created, name="cli") if token else None
            db.session.commit()
        except DomainError as exc:
            db.session.rollback()
            raise click.ClickException(exc.message) from exc
        click.echo(f"User {created.login} ({role}) created.")
        if generated:
            click.echo(f"Password: {generated}  (change it after the first login)")
        if value:
            click.echo(value)

    @cli.command("import")
    @click.argument("kind")
    @click.argument("file", type=click.Path(exists=True, dir_okay=False))
    @click.option("--skip-invalid", is_flag=True, help="Import the valid rows and skip the others.")
    def import_cmd(kind, file, skip_invalid):
        """Import customers or products from a CSV file: python run.py import partners|products FILE.csv"""
        from core import imports
        from core.errors import DomainError
        try:
            importer = imports.get_importer(kind)
            with open(file, "rb") as handle:
                rows = imports.parse(handle.read(), importer)
            result = imports.apply(importer, rows, skip_invalid=skip_invalid)
            db.session.commit()
        except DomainError as exc:
            db.session.rollback()
            for line in exc.fields.get("rows", []):
                click.echo(f"  {line}", err=True)
            raise click.ClickException(exc.message) from exc
        for row in result["errors"]:
            click.echo(f"  line {row.line}: {row.error}", err=True)
        click.echo(f"{result['created']} {importer.label} imported, {result['skipped']} invalid rows skipped.")

    @cli.group()
    def addons():
        """Installed addons."""

    @addons.command("list")
    def addons_list():
        """Name, version, state and dependencies, in load order."""
        kernel = app.extensions["kontor"]
        states = {}
        if is_initialised(app):
            states = {s.name: s for s in db.session.scalars(db.select(AddonState))}
        click.echo(f"{'name':<16} {'version':<9} {'state':<12} depends")
        for addon in kernel.addons:
            state = states.get(addon.name)
            click.echo(f"{addon.name:<16} {addon.manifest.version:<9} {state.state if state else 'uninstalled':<12} "
                       f"{', '.join(addon.manifest.depends) or '-'}")

    @cli.command("backup")
    @click.argument("target", type=click.Path(dir_okay=False))
    def backup_cmd(target):
        """Write a consistent copy of the database to TARGET (SQLite backup API, or pg_dump)."""
        from core.backup import BackupError, backup
        db.session.remove()
        try:
            path = backup(app.config["SQLALCHEMY_DATABASE_URI"], target)
        except BackupError as exc:
            raise click.ClickException(str(exc)) from None
        click.echo(f"Backup written to {path}.")

    @cli.command("restore")
    @click.argument("source", type=click.Path(exists=True, dir_okay=False))
    @click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
    def restore_cmd(source, yes):
        """Replace the database's content with the backup SOURCE (stop the server first)."""
        from core.backup import BackupError, check_backup, restore
        url = app.config["SQLALCHEMY_DATABASE_URI"]
        try:
            check_backup(url, Path(source))  # a bad file is refused before the question, not after
            if not yes:
                click.confirm("This replaces everything in the database. Continue?", abort=True)
            db.session.remove()
            db.engine.dispose()
            restore(url, source, checked=True)
        except BackupError as exc:
            raise click.ClickException(str(exc)) from None
        click.echo("Restored. Run `python run.py ledger verify` to check the journal's chain.")

    kernel = app.extensions["kontor"]
    for command in [*kernel.cli_commands, *[c for group in kernel.hook.kontor_cli_commands() for c in (group or [])]]:
        cli.add_command(command)
    return cli


def ensure_demo_users() -> None:
    from sqlalchemy import select

    from core.models import User
    from core.security import create_user
    for login, role in DEMO_LOGINS:
        if not db.session.scalar(select(User.id).where(User.login == login)):
            create_user(login, role, DEMO_PASSWORD, name=login.capitalize())
    db.session.commit()


def first_run(app: Flask) -> None:
    """With nothing set up: create the database, install every addon, load demo data, print the logins."""
    if not is_initialised(app):
        click.echo("First run: creating the database and loading demo data...")
        install(app)
        ensure_demo_users()
        with click.progressbar(length=20, label="Demo data") as bar:
            load_demo(app, 20, progress=bar.update)
    else:
        install(app)  # apply any new migrations
    click.echo("")
    click.echo("Kontor is running at http://127.0.0.1:5000")
    click.echo(f"Demo logins (password {DEMO_PASSWORD}): " + ", ".join(f"{l} ({r})" for l, r in DEMO_LOGINS))
    click.echo("")


def serve_app(app: Flask, host: str, port: int) -> None:
    from core.app import freeze_startup_objects
    freeze_startup_objects()
    app.run(host=host, port=port, debug=False, use_reloader=False)


