"""Roles, permissions and who is asking: session users for pages, bearer tokens (stored hashed) for the API.

Each addon declares its permissions with the roles that hold them (``kernel.register_permissions``), as Odoo's
``ir.model.access.csv`` does; ``admin`` holds every permission.
"""
from __future__ import annotations

import hashlib
import secrets
import threading
from datetime import datetime, timedelta, timezone
from functools import wraps
from urllib.parse import unquote, urlsplit

from flask import current_app, g, redirect, request, url_for
from flask_login import current_user
from sqlalchemy import bindparam, or_, select, update
from werkzeug.exceptions import Forbidden, Unauthorized
from werkzeug.security import check_password_hash, generate_password_hash

from core.errors import ValidationError
from core.extensions import db
from core.models import ROLES, ApiToken, Partner, User, utcnow

CUSTOMER_ROLE = "customer"  # the portal's role: a login tied to one customer (partner)

CORE_PERMISSIONS = {
    "dashboard.view": ["admin", "back_office", "bookkeeper", "technician"],
    "partners.read": ["admin", "back_office", "bookkeeper"],
    "partners.write": ["admin", "back_office"],
    "settings.read": ["admin", "bookkeeper"],
    "settings.write": ["admin"],
    "users.manage": ["admin"],
    "addons.read": ["admin"],
}


def is_api_request() -> bool:
    return request.path.startswith("/api/")


def safe_next(target: str | None) -> str | None:
    """``target`` if it is a path on this site, else None: the one check for every ``next`` a redirect follows.

    A browser reading a Location removes tabs, CR and LF anywhere, strips leading spaces and control characters
    and reads ``\\`` as ``/``, so ``/<tab>/evil.example`` becomes ``//evil.example``: another site. Rather than
    copy that normalisation, anything a browser would rewrite is refused (no path of ours holds a control character
    or a backslash), and so is anything that after one or two rounds of percent-decoding (a proxy or a second
    redirect may decode once more) starts with ``//`` or carries a scheme or a host.
    """
    if not target or len(target) > 2000:
        return None
    layers = [target, unquote(target), unquote(unquote(target))]
    for text in layers:
        if any(c == "\\" or not c.isprintable() for c in text):
            return None  # control characters (tab, CR, LF, NUL...), Unicode separators, backslashes
        if not text.startswith("/") or text.startswith("//"):
            return None  # " //evil", "https://evil", "javascript:..." or a protocol-relative "//evil"
        parts = urlsplit(text)
        if parts.scheme or parts.netloc:
            return None
    return target


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_user(login: str, role: str, password: str | None = None, name: str = "",
                partner_id: int | None = None) -> User:
    login = (login or "").strip()
    if not login:
        raise ValidationError("A login is required.", fields={"login": ["Required."]})
    if len(login) > 80:
        raise ValidationError("A login is at most 80 characters.", fields={"login": ["Too long."]})
    check_role(role)
    if db.session.scalar(select(User.id).where(User.login == login)):
        raise ValidationError(f"The login {login!r} is taken.", code="login_taken", fields={"login": ["Taken."]})
    # A customer login sees what its customer owns (the portal scopes every query by User.partner_id): without
    # one it is an account that can log in and reach nothing, made by mistake from the users page.
    if role == CUSTOMER_ROLE and not partner_id:
        raise ValidationError("A customer login stands for one customer: choose it.", code="customer_required",
                              fields={"partner_id": ["Choose the customer this login stands for."]})
    if partner_id and db.session.get(Partner, partner_id) is None:
        raise ValidationError(f"There is no customer {partner_id}.", fields={"partner_id": ["Unknown customer."]})
    user = User(login=login, role=role, name=name or login, partner_id=partner_id)
    set_password(user, password or secrets.token_urlsafe(12))
    db.session.add(user)
    db.session.flush()
    from core import audit
    audit.record(user, "created", f"role {role}")
    return user


def check_role(role: str) -> None:
    if role not in ROLES and role not in current_roles():
        raise ValidationError(f"Unknown role {role!r}; choose one of {', '.join(current_roles())}.",
                              code="unknown_role", fields={"role": ["Unknown role."]})


# -- passwords ---------------------------------------------------------------------------------------------------
PASSWORD_MIN, PASSWORD_MAX = 8, 128
# zxcvbn (Dropbox's estimator; its lists: the 30,000 most common passwords of leaked sets, English words, names)
# keeps its user inputs in a module-level dictionary while it runs: one check at a time.
_ZXCVBN_LOCK = threading.Lock()


def password_problem(password: str, login: str = "", name: str = "") -> str | None:
    """Why ``password`` may not be used, or None. Refused: shorter than 8 or longer than 128 characters, the login
    itself or anything holding it (logins of 4 characters or more), and anything a guesser tries early: zxcvbn's
    score below 2, i.e. fewer than about a million guesses (the common-password list and its variants, dictionary
    words, keyboard runs, the login or name with digits). Online, throttled (core/throttle.py), that is years."""
    if len(password) < PASSWORD_MIN:
        return "A password needs at least 8 characters."
    if len(password) > PASSWORD_MAX:
        return "A password is at most 128 characters."
    folded, login_folded = password.strip().casefold(), login.strip().casefold()
    if login_folded and folded == login_folded:
        return "The password may not be the login."
    if len(login_folded) >= 4 and login_folded in folded:  # shorter logins are parts of too many words
        return "The password may not contain the login."
    from zxcvbn import zxcvbn
    with _ZXCVBN_LOCK:
        # zxcvbn refuses more than 72 characters; a longer password is judged by its start, which is stricter.
        result = zxcvbn(password[:72], user_inputs=[x for x in (login, name) if x])
    if result["score"] < 2:
        warning = result["feedback"].get("warning") or "It is too easy to guess."
        return f"This password is too easy to guess: {warning.rstrip('.')}. Choose a longer or less common one."
    return None


def set_password(user: User, password: str) -> None:
    problem = password_problem(password or "", user.login or "", user.name or "")
    if problem:
        raise ValidationError(problem, code="weak_password", fields={"password": [problem]})
    user.password_hash = generate_password_hash(password)
    user.session_version = (user.session_version or 0) + 1


def check_password(user: User | None, password: str) -> bool:
    if user is None or not user.password_hash:
        # Spend the same time as a real check, so response times do not reveal which logins exist.
        check_password_hash(_DUMMY_HASH, password)
        return False
    return check_password_hash(user.password_hash, password)


_DUMMY_HASH = generate_password_hash("not a password")


# -- API tokens --------------------------------------------------------------------------------------------------
TOUCH_EVERY = timedelta(seconds=60)  # last_used_at is written at most this often per token


def create_token(user: User, name: str = "", expires_at: datetime | None = None) -> str:
    """A new bearer token for ``user``; returned once, stored as its hash. ``expires_at`` None: never expires."""
    if expires_at is not None:
        expires_at = _aware(expires_at)
        if expires_at <= utcnow():
            raise ValidationError("The expiry must be in the future.", fields={"expires_at": ["In the past."]})
    token = "kt_" + secrets.token_urlsafe(32)
    row = ApiToken(user_id=user.id, token_hash=hash_token(token), name=name, expires_at=expires_at)
    db.session.add(row)
    db.session.flush()
    from core import audit
    audit.record(user, "token_created", f"token {row.id} {name!r}, "
                 + (f"expires {expires_at.isoformat()}" if expires_at else "no expiry"))
    return token


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)  # SQLite gives back naive UTC


# Built once: every API request runs it (building the statement cost as much as running it).
_TOKEN_USER = (select(User, ApiToken.id, ApiToken.expires_at, ApiToken.revoked_at, ApiToken.last_used_at)
               .join(ApiToken, ApiToken.user_id == User.id).where(ApiToken.token_hash == bindparam("h")))


class TokenRefused(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code, self.message = code, message


def user_for_token(token: str) -> tuple[User, int | None]:
    """The active user a valid token stands for, and the token's id when its ``last_used_at`` is due for a write
    (else None); raises TokenRefused (unknown, revoked, expired, user deactivated). One SELECT."""
    row = db.session.execute(_TOKEN_USER, {"h": hash_token(token)}).first()
    if row is None or row.revoked_at is not None or not row.User.active:
        raise TokenRefused("unauthorized", "Send a valid bearer token: Authorization: Bearer <token>.")
    now = utcnow()
    if row.expires_at is not None and _aware(row.expires_at) <= now:
        raise TokenRefused("token_expired", f"This token expired at {_aware(row.expires_at).isoformat()}; "
                                            "ask an administrator for a new one.")
    due = row.last_used_at is None or _aware(row.last_used_at) <= now - TOUCH_EVERY
    return row.User, (row.id if due else None)


def touch_token(token_id: int) -> None:
    """Write the token's ``last_used_at``, in its own short transaction after the request's (so it never waits on
    the request's write lock on SQLite, and a refused request still counts as a use)."""
    from core import db as core_db
    now = utcnow()
    writing = core_db.read_only.set(False)  # a write transaction (SQLite: BEGIN IMMEDIATE), even after a GET
    try:
        with db.engine.begin() as conn:
            conn.execute(update(ApiToken).where(ApiToken.id == token_id,
                                                or_(ApiToken.last_used_at.is_(None),
                                                    ApiToken.last_used_at <= now - TOUCH_EVERY))
                         .values(last_used_at=now))
    finally:
        core_db.read_only.reset(writing)


def current_roles() -> list[str]:
    kernel = current_app.extensions.get("kontor") if current_app else None
    roles = set(ROLES)
    if kernel:
        for granted in kernel.permissions.values():
            roles.update(granted)
    return sorted(roles)


def permission_table() -> dict[str, set[str]]:
    return current_app.extensions["kontor"].permissions


def can(user, permission: str) -> bool:
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if user.role == "admin":
        return True
    return user.role in permission_table().get(permission, set())


def current_actor() -> User | None:
    """Who is asking: the token's user on the API (never the session cookie), the session's user on pages."""
    if is_api_request():
        return g.get("api_user")
    return current_user if current_user.is_authenticated else None


def require(*permissions: str, **by_method: str | tuple[str, ...]):
    """Refuse the view unless the actor holds every permission: 401/redirect to login when anonymous, 403 else.

    ``by_method`` adds permissions for one HTTP method of a route that serves several, e.g.
    ``require("settings.read", POST="settings.write")``: everyone who may read the page may GET it, only those who
    may also write may POST it. The whole rule sits in the guard, none of it inside the view, so the access-matrix
    test and the permission table of docs/reference/api.md (tools/api_reference.py) see all of it.
    """
    extra = {method.upper(): (needed,) if isinstance(needed, str) else tuple(needed)
             for method, needed in by_method.items()}

    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            user = current_actor()
            if user is None:
                if is_api_request():
                    raise Unauthorized("Send a bearer token: Authorization: Bearer <token>.")
                return redirect(url_for("core.login", next=request.full_path if request.method == "GET" else None))
            needed = permissions + extra.get(request.method, ())
            missing = [p for p in needed if not can(user, p)]
            if missing:
                raise Forbidden(f"Your role ({user.role}) may not do this ({', '.join(missing)}).")
            return view(*args, **kwargs)
        wrapper.kontor_permissions = permissions  # read by tests/core/test_every_route_is_guarded.py
        return wrapper
    return decorator
