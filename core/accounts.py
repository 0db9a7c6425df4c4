"""Accounts: change a user's role, switch them off and on, set their password, make and revoke their API tokens.

One function per action; the command line (core/cli.py), the users page (core/views.py) and the admin API
(core/api_views.py) all call these, and each change is written to the audit log (document type ``core_users``).
A change never leaves the company without an active admin (409 ``last_admin``).
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, update

from core import audit
from core.errors import DomainError, NotFound, ValidationError
from core.extensions import db
from core.models import ApiToken, User, utcnow
from core.security import check_role, create_token, set_password


def get_user(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound(f"There is no user {user_id}.")
    return user


def user_by_login(login: str) -> User:
    user = db.session.scalar(select(User).where(User.login == (login or "").strip()))
    if user is None:
        raise NotFound(f"There is no user with the login {login!r}.", fields={"login": ["Unknown login."]})
    return user


def _keep_an_admin(user: User, role: str, active: bool) -> None:
    """Refuse to demote or deactivate the last active admin. The active admins' rows are locked (PostgreSQL;
    SQLite writes one transaction at a time), so two admins demoting each other at once cannot both succeed."""
    if user.role != "admin" or not user.active or (role == "admin" and active):
        return
    others = db.session.scalars(select(User.id).where(User.role == "admin", User.active.is_(True),
                                                      User.id != user.id).with_for_update()).all()
    if not others:
        raise DomainError(f"{user.login} is the last active admin: make another user admin first.",
                          code="last_admin", fields={"role" if role != "admin" else "active": ["Last active admin."]})


def set_role(user: User, role: str) -> User:
    check_role(role)
    if role == user.role:
        return user
    if role == "customer" and user.partner_id is None:
        raise ValidationError("A customer user stands for a customer: create it with its customer instead.",
                              fields={"role": ["Needs a customer."]})
    _keep_an_admin(user, role, user.active)
    before, user.role = user.role, role
    audit.record(user, "role_changed", f"{before} -> {role}")
    return user


def set_name(user: User, name: str) -> User:
    name = (name or "").strip() or user.login
    if len(name) > 200:
        raise ValidationError("A name is at most 200 characters.", fields={"name": ["Too long."]})
    if name != user.name:
        before, user.name = user.name, name
        audit.record(user, "renamed", f"{before!r} -> {name!r}")
    return user


def set_active(user: User, active: bool) -> User:
    if bool(active) == bool(user.active):
        return user
    _keep_an_admin(user, user.role, bool(active))
    user.active = bool(active)
    if not active:
        # Every session of theirs ends at its next request (the session names this version); their tokens are
        # refused while they are inactive (core.security.user_for_token).
        user.session_version = (user.session_version or 0) + 1
    audit.record(user, "activated" if active else "deactivated")
    return user


def change_password(user: User, password: str) -> User:
    """A new password (the same rules as at creation); every session of theirs made before ends."""
    set_password(user, password)
    audit.record(user, "password_changed")
    return user


def issue_token(user: User, name: str = "", expires_at: datetime | None = None) -> str:
    if not user.active:
        raise DomainError(f"{user.login} is deactivated: activate them first.", code="user_inactive")
    return create_token(user, name=name, expires_at=expires_at)  # audited there


def revoke_tokens(user: User) -> int:
    """Revoke every token of the user that is not revoked yet; how many. Kept as rows, refused from now on."""
    count = db.session.execute(update(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
                               .values(revoked_at=utcnow())).rowcount
    audit.record(user, "tokens_revoked", f"{count} token(s)")
    return count


def tokens_of(user: User) -> list[ApiToken]:
    return list(db.session.scalars(select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id)))


def live_token_counts() -> dict[int, int]:
    """Per user id, how many tokens are neither revoked nor expired (the users list shows it)."""
    now = utcnow()
    rows = db.session.execute(select(ApiToken.user_id, func.count()).where(
        ApiToken.revoked_at.is_(None), (ApiToken.expires_at.is_(None)) | (ApiToken.expires_at > now))
        .group_by(ApiToken.user_id))
    return {user_id: n for user_id, n in rows}
