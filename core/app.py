"""create_app(config=None, addons=None): the Flask app factory."""
from __future__ import annotations

import logging
from pathlib import Path

from flask import (Flask, Response, abort, current_app, flash, g, redirect, render_template, request,
                   send_from_directory, url_for)
from flask_login import current_user
from jinja2 import ChoiceLoader, FileSystemLoader
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter

from core import db as core_db
from core import menu as core_menu
from core.api import (API_PREFIX, HTTP_CODES, Api, StrictJSONProvider, error_response, idempotency_begin,
                      idempotency_release, idempotency_store, register_fields, webargs_fields)
from core.config import ROOT, Config
from core.errors import DomainError, StartupError
from core.extensions import csrf, db, login_manager
from core.kernel import Kernel
from core.security import CORE_PERMISSIONS, TokenRefused, can, is_api_request, touch_token, user_for_token

log = logging.getLogger("kontor")
CORE = Path(__file__).resolve().parent

CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
       "object-src 'none'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'")
# Served over HTTPS (KONTOR_HTTPS=1): browsers that saw it once refuse plain HTTP to this host for a year, so a
# network attacker cannot downgrade the next visit and read the session cookie.
HSTS = "max-age=31536000; includeSubDomains"


class IdConverter(IntegerConverter):
    """``<int:...>`` in routes stops at the largest id a table holds: a larger one is a 404, not a database error."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(map, *args, **kwargs)


def create_app(config: Config | None = None, addons: list[str] | None = None) -> Flask:
    config = config or Config()
    app = Flask("kontor", root_path=str(ROOT), static_folder=None, template_folder=None,
                instance_path=str(ROOT / "instance"))
    app.url_map.converters["int"] = IdConverter
    app.json = StrictJSONProvider(app)  # request.get_json() refuses what no field can hold (core.api.loads_strict)
    app.config.from_object(config)
    if app.config.get("TRUSTED_PROXIES"):
        from werkzeug.middleware.proxy_fix import ProxyFix
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=app.config["TRUSTED_PROXIES"])
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {"connect_args": {"check_same_thread": False,
                                                                             "timeout": 60}})
    else:
        # No ping in front of every request: core.db pings a pooled connection that was idle (ping_idle_connections).
        app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {})

    kernel = Kernel(paths=[Path(p) for p in app.config.get("EXTRA_ADDON_PATHS", [])], only=addons)
    kernel.register_permissions(CORE_PERMISSIONS)
    kernel.register_hooks(core_menu)  # the kernel's own pages in the menu
    app.extensions["kontor"] = kernel
    kernel.start()

    url = app.config["SQLALCHEMY_DATABASE_URI"]
    try:  # a URL Kontor cannot use stops start-up with one line (run.py, gunicorn), never a server of 500s
        db.init_app(app)
        with app.app_context():
            core_db.configure_engine(db.engine)
            core_db.check_database(db.engine)
    except core_db.START_ERRORS as exc:
        raise StartupError(core_db.database_problem(url, exc)) from exc
    login_manager.init_app(app)
    login_manager.login_view = "core.login"
    login_manager.login_message = "Please log in to see this page."
    csrf.init_app(app)

    _templates_and_static(app, kernel)
    _request_cycle(app)
    _error_handlers(app)

    api = Api(app)
    register_fields(api)
    app.extensions["kontor_api"] = api
    from core import api_views, imports, views
    app.register_blueprint(views.bp)
    app.register_blueprint(imports.bp)
    api.register_blueprint(api_views.blp, url_prefix=API_PREFIX)
    for blueprint, options in kernel.blueprints:
        app.register_blueprint(blueprint, **options)
    for blp in kernel.api_blueprints:
        api.register_blueprint(blp, url_prefix=API_PREFIX)
    csrf.exempt(api_views.blp)
    for blp in kernel.api_blueprints:
        csrf.exempt(blp)
    for setup in kernel.app_setup:
        setup(app)
    return app


def _templates_and_static(app: Flask, kernel: Kernel) -> None:
    theme = app.config.get("THEME") or "default"
    theme_dir = ROOT / "themes" / theme
    if not theme_dir.is_dir():
        raise RuntimeError(f"KONTOR_THEME={theme!r}: no folder themes/{theme}")
    folders = [str(theme_dir / "templates"), *kernel.template_folders(), str(CORE / "templates")]
    app.jinja_loader = ChoiceLoader([FileSystemLoader(f) for f in folders])
    static_dirs = [theme_dir / "static", *[a.path / "static" for a in reversed(kernel.addons)], CORE / "static"]
    static_dirs = [d for d in static_dirs if d.is_dir()]

    @app.route("/static/<path:filename>", endpoint="static")
    def static(filename):
        for folder in static_dirs:
            if (folder / filename).is_file():
                return send_from_directory(folder, filename, max_age=3600)
        abort(404)

    from core import templating
    templating.install(app, kernel)


def _request_cycle(app: Flask) -> None:
    @login_manager.user_loader
    def load_user(session_id: str):
        from core.models import User
        try:
            user_id, version = (int(x) for x in session_id.split(":"))
        except ValueError:
            return None
        user = db.session.get(User, user_id)
        if user is None or not user.active or user.session_version != version:
            return None  # logged out elsewhere, or password changed: this session is void
        return user

    @app.before_request
    def start():
        core_db.read_only.set(request.method in ("GET", "HEAD", "OPTIONS"))
        refused = _nul_in_form()
        if refused is not None:
            return refused
        if not is_api_request():
            return None
        g.api_user = None
        refused = TokenRefused("unauthorized", "Send a valid bearer token: Authorization: Bearer <token>.")
        header = request.headers.get("Authorization", "")
        if header.startswith("Bearer "):
            try:
                g.api_user, g.touch_token = user_for_token(header[7:].strip())
            except TokenRefused as exc:
                refused = exc
        if g.api_user is None and request.path != f"{API_PREFIX}/openapi.json":
            return error_response(401, refused.code, refused.message)
        if g.api_user is not None and request.method == "POST" and request.headers.get("Idempotency-Key"):
            user_id = g.api_user.id  # read before the rollback: reading it after would reopen (and lock) a transaction
            db.session.rollback()  # end the read, so claiming the key in its own transaction never waits on us
            return idempotency_begin(user_id)
        return None

    @app.teardown_request
    def read_only_ends(_exc):
        # Work done after the request in the same thread (a test, a CLI command) is not a read-only request: its
        # transactions write as usual (SQLite: BEGIN IMMEDIATE; PostgreSQL: not autocommit, core.db).
        core_db.read_only.set(False)

    @app.after_request
    def finish(response: Response) -> Response:
        """One request, one transaction: commit what succeeded, roll back what was refused."""
        if response.status_code >= 500:
            db.session.rollback()
            idempotency_release()
        elif response.status_code >= 400 and not g.get("idempotency"):
            db.session.rollback()
        else:
            if response.status_code >= 400:
                db.session.rollback()
            try:
                idempotency_store(response)
                db.session.commit()
            except (IntegrityError, OperationalError) as exc:
                db.session.rollback()
                idempotency_release()
                log.warning("commit refused: %s", exc)
                response = _conflict_response("The change could not be saved because another one came first; "
                                              "reload and try again.")
        token_id = g.pop("touch_token", None)
        if token_id is not None:  # after the request's transaction ended: never waits on its locks
            try:
                touch_token(token_id)
            except (IntegrityError, OperationalError) as exc:  # a busy database: the next use writes it
                log.warning("token last_used_at not written: %s", exc)
        return _security_headers(response)


def _nul_in_form() -> Response | None:
    """A form value holding a NUL character is refused before any view reads it: no field can hold one
    (PostgreSQL refuses it; SQLite stored it, and a name with a NUL broke the pages and files that show it).
    JSON bodies get the same rule in core.api.loads_strict; query strings in the search (core.search)."""
    if request.method not in ("POST", "PUT", "PATCH") or request.mimetype not in (
            "application/x-www-form-urlencoded", "multipart/form-data"):
        return None
    name = next((key for key, value in request.form.items(multi=True) if "\x00" in value or "\x00" in key), None)
    if name is None:
        return None
    message = f"The field {name!r} contains a NUL character, which no field can hold; nothing was saved."
    if is_api_request():
        return error_response(422, "validation_error", message, {name: ["Contains a NUL character."]})
    return Response(render_template("core/error.html", status=422, message=message), status=422)


def _conflict_response(message: str) -> Response:
    if is_api_request():
        return error_response(409, "conflict", message)
    flash(message, "error")
    return redirect(request.referrer or url_for("core.dashboard"))


def _security_headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if current_app.config.get("HTTPS"):
        response.headers.setdefault("Strict-Transport-Security", HSTS)
    return response


def _error_handlers(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def domain_error(exc: DomainError):
        db.session.rollback()
        if is_api_request():
            return error_response(exc.status, exc.code, exc.message, exc.fields)
        if exc.status == 404:
            return render_template("core/error.html", status=404, message=exc.message), 404
        if exc.status == 403:
            return render_template("core/error.html", status=403, message=exc.message), 403
        flash(exc.message, "error")
        return redirect(request.referrer or url_for("core.dashboard"))

    @app.errorhandler(DataError)
    @app.errorhandler(OverflowError)  # SQLite's driver refuses an integer beyond 64 bits before the database sees it
    def data_error(exc: DataError | OverflowError):
        """The database refused a value the schemas let through (a NUL character, a number out of range)."""
        db.session.rollback()
        log.warning("value refused by the database on %s %s: %s", request.method, request.path,
                    getattr(exc, "orig", exc))
        message = "A value cannot be stored (too large, or containing a NUL character); nothing was changed."
        if is_api_request():
            return error_response(422, "invalid_value", message)
        flash(message, "error")
        return redirect(request.referrer or url_for("core.dashboard"))

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        db.session.rollback()
        status = exc.code or 500
        if is_api_request():
            fields = webargs_fields(exc)
            message = exc.description if status != 422 else "Some fields are not valid; see fields."
            if status == 400 and "json" in str(getattr(exc, "data", "")):
                message = "The request body is not valid JSON."
            if status == 413:
                message = "The request body is too large."
            return error_response(status, HTTP_CODES.get(status, "error"), message, fields)
        if status == 400 and "CSRF" in str(exc.description):
            return render_template("core/error.html", status=400,
                                   message="This form expired or was sent from elsewhere. Reload the page and try again."), 400
        return render_template("core/error.html", status=status, message=exc.description), status

    @app.errorhandler(Exception)
    def crash(exc: Exception):
        db.session.rollback()
        log.exception("unhandled error on %s %s", request.method, request.path)
        if is_api_request():
            return error_response(500, "server_error", "Something went wrong on our side; nothing was changed.")
        return render_template("core/error.html", status=500,
                               message="Something went wrong on our side; nothing was changed."), 500


__all__ = ["create_app", "can", "current_user"]


def freeze_startup_objects() -> None:
    """Call once a serving process has built its app: the ~150,000 objects of start-up (modules, the app, mappers,
    templates, compiled statements) move out of the garbage collector's reach, so its full collections stop
    walking them. Without it a full collection lands on a request every few dozen and adds 40-90 ms to it
    (bench/bench_lists.py: p50 15 ms, one request in ten over 90 ms); with it that collection costs ~1 ms."""
    import gc
    gc.collect()
    gc.freeze()
