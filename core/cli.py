"""The command line (click): the kernel's commands, plus what addons add through ``kontor_cli_commands``."""
from __future__ import annotations

import secrets
import sys
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
    @click.option("--expires", "expires", default=None, metavar="DATE|DAYS",
                  help="With --token: when the token expires (YYYY-MM-DD, or a number of days); never when left out.")
    def user_create(login, role, password, token, partner_id, expires):
        """Create a user (and an API token)."""
        from core.errors import DomainError
        from core.models import Partner
        from core.security import create_token, create_user
        if role == "customer" and partner_id is None:
            raise click.UsageError("A customer user needs --partner-id (the id of the customer it stands for).")
        if partner_id is not None and db.session.get(Partner, partner_id) is None:
            raise click.BadParameter(f"there is no customer {partner_id}.", param_hint="--partner-id")
        generated = None if password else secrets.token_urlsafe(12)
        expires_at = _expiry(expires)
        try:
            created = create_user(login, role, password or generated, partner_id=partner_id)
            value = create_token(created, name="cli", expires_at=expires_at) if token else None
            db.session.commit()
        except DomainError as exc:
            db.session.rollback()
            raise click.ClickException(exc.message) from exc
        click.echo(f"User {created.login} ({role}) created.")
        if generated:
            click.echo(f"Password: {generated}  (change it after the first login)")
        if value:
            click.echo(value)

    def _account_change(login, change):
        """Run ``change(user)`` for the user with ``login`` in one transaction; a refusal is one line, exit 1."""
        from core import accounts
        from core.errors import DomainError
        try:
            user = accounts.user_by_login(login)
            result = change(user)
            db.session.commit()
        except DomainError as exc:
            db.session.rollback()
            raise click.ClickException(exc.message) from exc
        return user, result

    @user.command("token")
    @click.argument("login")
    @click.option("--name", default="cli", show_default=True, help="What the token is for.")
    @click.option("--expires", default=None, metavar="DATE|DAYS",
                  help="When it expires (YYYY-MM-DD, or a number of days); never when left out.")
    def user_token(login, name, expires):
        """Make an API token for LOGIN; it is printed last, on its own line."""
        from core import accounts
        expires_at = _expiry(expires)
        _, value = _account_change(login, lambda u: accounts.issue_token(u, name=name, expires_at=expires_at))
        click.echo(f"Token for {login}" + (f", expires {expires_at:%Y-%m-%d %H:%M} UTC:" if expires_at else ":"))
        click.echo(value)

    @user.command("revoke-tokens")
    @click.argument("login")
    def user_revoke_tokens(login):
        """Revoke every API token of LOGIN."""
        from core import accounts
        _, count = _account_change(login, accounts.revoke_tokens)
        click.echo(f"{count} token(s) of {login} revoked.")

    @user.command("deactivate")
    @click.argument("login")
    def user_deactivate(login):
        """Switch LOGIN off: no login, their sessions end, their tokens are refused."""
        from core import accounts
        _account_change(login, lambda u: accounts.set_active(u, False))
        click.echo(f"User {login} deactivated.")

    @user.command("activate")
    @click.argument("login")
    def user_activate(login):
        """Switch LOGIN back on."""
        from core import accounts
        _account_change(login, lambda u: accounts.set_active(u, True))
        click.echo(f"User {login} activated.")

    @user.command("set-role")
    @click.argument("login")
    @click.argument("role")
    def user_set_role(login, role):
        """Give LOGIN another role."""
        from core import accounts
        _account_change(login, lambda u: accounts.set_role(u, role))
        click.echo(f"User {login} is now {role}.")

    @user.command("set-password")
    @click.argument("login")
    @click.option("--password-stdin", is_flag=True, help="Read the password from standard input (one line).")
    def user_set_password(login, password_stdin):
        """Set LOGIN's password (asked twice, or read from standard input); their other sessions end."""
        from core import accounts
        _account_change(login, lambda u: None)  # an unknown login is refused before the prompt
        if password_stdin:
            password = sys.stdin.readline().rstrip("\r\n")
        else:
            password = click.prompt("New password", hide_input=True, confirmation_prompt=True)
        _account_change(login, lambda u: accounts.change_password(u, password))
        click.echo(f"Password of {login} changed.")

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


def _expiry(value: str | None):
    """``--expires``: a date (the token works through that day, UTC) or a number of days from now."""
    from datetime import datetime, time, timedelta, timezone
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        if not 1 <= int(value) <= 3650:
            raise click.BadParameter("between 1 and 3650 days.", param_hint="--expires")
        return datetime.now(timezone.utc) + timedelta(days=int(value))
    try:
        day = datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        raise click.BadParameter(f"{value!r} is neither a date (YYYY-MM-DD) nor a number of days.",
                                 param_hint="--expires") from None
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=timezone.utc)


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


