"""Accounts that can be shut off: deactivate, activate, set a role or a password, make and revoke tokens with an
expiry; from the command line, the users page and the admin API, each through core.accounts and audited."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from core.cli import build_cli
from core.extensions import db
from core.models import ApiToken, AuditLog, User
from core.security import create_token
from tests.conftest import PASSWORD, csrf_from, make_user

NEW_PASSWORD = "plum-orchard-quietly-41"


@pytest.fixture
def run(app):
    cli = build_cli(app)

    def _run(*args: str, input: str | None = None):
        return CliRunner().invoke(cli, list(args), prog_name="run.py", input=input)
    return _run


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def audit_actions(app, user_id):
    with app.app_context():
        return [a for (a,) in db.session.execute(select(AuditLog.action).where(
            AuditLog.document_type == "core_users", AuditLog.document_id == user_id).order_by(AuditLog.id))]


def log_in(app, login, password=PASSWORD):
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    response = client.post("/login", data={"login": login, "password": password, "csrf_token": csrf_from(page)})
    return client, response


# -- command line ------------------------------------------------------------------------------------------------
def test_deactivate_stops_login_session_and_tokens_and_activate_brings_them_back(app, run):
    user_id, login, token = make_user(app, "back_office")
    client, response = log_in(app, login)
    assert response.status_code == 302 and client.get("/partners").status_code == 200
    assert app.test_client().get("/api/v1/me", headers=bearer(token)).status_code == 200

    result = run("user", "deactivate", login)
    assert result.exit_code == 0, result.output
    assert f"User {login} deactivated." in result.output
    assert client.get("/partners").status_code == 302  # the open session ends at its next request
    refused = app.test_client().get("/api/v1/me", headers=bearer(token))
    assert refused.status_code == 401 and refused.json["error"]["code"] == "unauthorized"
    assert log_in(app, login)[1].status_code == 401  # the right password no longer logs in

    assert run("user", "activate", login).exit_code == 0
    assert app.test_client().get("/api/v1/me", headers=bearer(token)).status_code == 200
    assert log_in(app, login)[1].status_code == 302
    assert audit_actions(app, user_id)[-2:] == ["deactivated", "activated"]


def test_revoke_tokens_from_the_command_line(app, run):
    user_id, login, token = make_user(app, "bookkeeper")
    with app.app_context():
        second = create_token(db.session.get(User, user_id), name="ci")
        db.session.commit()
    result = run("user", "revoke-tokens", login)
    assert result.exit_code == 0, result.output
    assert f"2 token(s) of {login} revoked." in result.output
    for value in (token, second):
        response = app.test_client().get("/api/v1/me", headers=bearer(value))
        assert response.status_code == 401 and set(response.json["error"]) == {"code", "message", "fields"}
    with app.app_context():
        assert all(t.revoked_at for t in db.session.scalars(select(ApiToken).where(ApiToken.user_id == user_id)))
    assert audit_actions(app, user_id)[-1] == "tokens_revoked"
    assert log_in(app, login)[1].status_code == 302  # revoking tokens leaves the password alone


def test_set_password_prompts_twice_and_ends_other_sessions(app, run):
    user_id, login, _ = make_user(app, "back_office")
    client, _ = log_in(app, login)
    mismatch = run("user", "set-password", login, input=f"{NEW_PASSWORD}\nsomething-else-entirely\n"
                                                           f"{NEW_PASSWORD}\n{NEW_PASSWORD}\n")
    assert mismatch.exit_code == 0, mismatch.output  # click asks again after a mismatch
    assert "do not match" in mismatch.output.lower()
    assert client.get("/partners").status_code == 302  # the old session is void
    assert log_in(app, login)[1].status_code == 401
    assert log_in(app, login, NEW_PASSWORD)[1].status_code == 302
    assert audit_actions(app, user_id)[-1] == "password_changed"


def test_set_password_from_stdin_refuses_a_weak_one_in_one_line(app, run):
    _, login, _ = make_user(app, "back_office")
    weak = run("user", "set-password", login, "--password-stdin", input="password1\n")
    assert weak.exit_code == 1
    assert "Traceback" not in weak.output and weak.output.strip().startswith("Error: ")
    assert len(weak.output.strip().splitlines()) == 1 and "too easy to guess" in weak.output
    assert log_in(app, login)[1].status_code == 302  # unchanged
    ok = run("user", "set-password", login, "--password-stdin", input=f"{NEW_PASSWORD}\n")
    assert ok.exit_code == 0, ok.output
    assert log_in(app, login, NEW_PASSWORD)[1].status_code == 302


def test_set_role_and_clear_errors_for_an_unknown_login_or_role(app, run):
    user_id, login, token = make_user(app, "technician")
    assert app.test_client().get("/api/v1/partners", headers=bearer(token)).status_code == 403
    result = run("user", "set-role", login, "bookkeeper")
    assert result.exit_code == 0 and f"User {login} is now bookkeeper." in result.output
    assert app.test_client().get("/api/v1/partners", headers=bearer(token)).status_code == 200
    assert audit_actions(app, user_id)[-1] == "role_changed"

    for args, words in [(("set-role", login, "wizard"), "Unknown role 'wizard'"),
                        (("set-role", "nobody-here", "admin"), "There is no user with the login 'nobody-here'"),
                        (("deactivate", "nobody-here"), "There is no user with the login 'nobody-here'"),
                        (("activate", "nobody-here"), "There is no user"),
                        (("revoke-tokens", "nobody-here"), "There is no user"),
                        (("set-password", "nobody-here", "--password-stdin"), "There is no user")]:
        result = run("user", *args, input=f"{NEW_PASSWORD}\n")
        assert result.exit_code == 1, (args, result.output)
        assert result.output.strip().splitlines() == [f"Error: {result.output.strip()[7:]}"], result.output
        assert words in result.output and "Traceback" not in result.output


def test_the_last_active_admin_cannot_be_demoted_or_deactivated(app, run):
    with app.app_context():
        admins = db.session.scalars(select(User).where(User.role == "admin", User.active.is_(True))).all()
        for extra in admins:  # the test database may hold install's users: start from none
            extra.active = False
        db.session.commit()
    first_id, first, _ = make_user(app, "admin")
    for args in (("deactivate", first), ("set-role", first, "bookkeeper")):
        result = run("user", *args)
        assert result.exit_code == 1 and "last active admin" in result.output, result.output
    _, second, _ = make_user(app, "admin")
    assert run("user", "set-role", first, "bookkeeper").exit_code == 0  # another admin is left
    result = run("user", "deactivate", second)
    assert result.exit_code == 1 and "last active admin" in result.output


def test_token_command_with_an_expiry_and_expired_tokens_are_refused(app, run):
    user_id, login, _ = make_user(app, "bookkeeper")
    result = run("user", "token", login, "--expires", "30", "--name", "export")
    assert result.exit_code == 0, result.output
    token = result.output.strip().splitlines()[-1]
    assert app.test_client().get("/api/v1/me", headers=bearer(token)).status_code == 200
    with app.app_context():
        row = db.session.scalars(select(ApiToken).where(ApiToken.user_id == user_id, ApiToken.name == "export")).one()
        expires = row.expires_at if row.expires_at.tzinfo else row.expires_at.replace(tzinfo=timezone.utc)
        assert timedelta(days=29) < expires - datetime.now(timezone.utc) <= timedelta(days=30)
        row.expires_at = datetime.now(timezone.utc) - timedelta(seconds=1)
        db.session.commit()
    expired = app.test_client().get("/api/v1/me", headers=bearer(token))
    assert expired.status_code == 401
    assert expired.json["error"]["code"] == "token_expired" and "expired" in expired.json["error"]["message"]
    assert "token_created" in audit_actions(app, user_id)

    assert run("user", "token", login, "--expires", "2001-01-01").exit_code == 1  # in the past
    assert run("user", "token", login, "--expires", "soon").exit_code == 2  # not a date: usage error
    created = run("user", "create", "with_expiry", "--role", "bookkeeper", "--password", NEW_PASSWORD,
                  "--token", "--expires", "2999-12-31")
    assert created.exit_code == 0, created.output
    new_token = created.output.strip().splitlines()[-1]
    assert app.test_client().get("/api/v1/me", headers=bearer(new_token)).status_code == 200


def test_last_used_at_is_written_on_use_at_most_once_a_minute(app):
    user_id, _, token = make_user(app, "bookkeeper")

    def last_used():
        with app.app_context():
            value = db.session.scalar(select(ApiToken.last_used_at).where(ApiToken.user_id == user_id))
            db.session.rollback()
            return value

    assert last_used() is None
    client = app.test_client()
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 200
    first = last_used()
    assert first is not None
    assert client.get("/api/v1/partners", headers=bearer(token)).status_code == 200
    assert last_used() == first  # within the minute: not written again
    with app.app_context():
        db.session.execute(ApiToken.__table__.update().where(ApiToken.user_id == user_id)
                           .values(last_used_at=datetime.now(timezone.utc) - timedelta(minutes=2)))
        db.session.commit()
    client.get("/api/v1/me", headers=bearer(token))
    assert (last_used().replace(tzinfo=None) - first.replace(tzinfo=None)) > timedelta(seconds=-1)
    assert last_used() != first


# -- admin API -----------------------------------------------------------------------------------------------------
def test_admin_api_lists_creates_patches_and_revokes(app, api):
    admin = api("admin")
    created = admin.post("/users", json={"login": "noor", "role": "back_office", "password": NEW_PASSWORD})
    assert created.status_code == 201, created.json
    noor = created.json
    assert noor["active"] is True and "password" not in noor and noor["last_login_at"] is None
    listed = admin.get("/users?limit=500").json
    assert any(u["login"] == "noor" for u in listed["items"]) and listed["total"] >= 2

    token = admin.post(f"/users/{noor['id']}/tokens",
                       json={"name": "sync", "expires_at": "2999-01-01T00:00:00+00:00"})
    assert token.status_code == 201, token.json
    assert token.json["token"].startswith("kt_") and token.json["state"] == "valid"
    assert token.json["expires_at"].startswith("2999-01-01")
    value = token.json["token"]
    assert app.test_client().get("/api/v1/me", headers=bearer(value)).json["login"] == "noor"

    changed = admin.patch(f"/users/{noor['id']}", json={"role": "bookkeeper", "name": "Noor B."})
    assert changed.status_code == 200 and changed.json["role"] == "bookkeeper" and changed.json["name"] == "Noor B."
    weak = admin.patch(f"/users/{noor['id']}", json={"password": "noor", "role": "technician"})
    assert weak.status_code == 422 and "password" in weak.json["error"]["fields"]
    assert admin.get(f"/users/{noor['id']}").json["role"] == "bookkeeper"  # nothing of the refused PATCH kept

    revoked = admin.post(f"/users/{noor['id']}/revoke-tokens")
    assert revoked.status_code == 200 and revoked.json == {"revoked": 1}
    assert app.test_client().get("/api/v1/me", headers=bearer(value)).status_code == 401
    states = [t["state"] for t in admin.get(f"/users/{noor['id']}/tokens").json]
    assert states == ["revoked"]

    off = admin.patch(f"/users/{noor['id']}", json={"active": False})
    assert off.status_code == 200 and off.json["active"] is False
    assert audit_actions(app, noor["id"]) == ["created", "token_created", "role_changed", "renamed",
                                              "tokens_revoked", "deactivated"]

    assert admin.patch("/users/999999", json={"active": False}).status_code == 404
    bad = admin.patch(f"/users/{noor['id']}", json={"role": "wizard"})
    assert bad.status_code == 422 and bad.json["error"]["code"] == "unknown_role"
    past = admin.post(f"/users/{noor['id']}/tokens", json={"expires_at": "2001-01-01T00:00:00+00:00"})
    assert past.status_code == 409 and past.json["error"]["code"] == "user_inactive"


def test_admin_api_refuses_other_roles_and_an_expired_token_in_the_error_shape(app, api):
    office = api("back_office")
    assert office.get("/users").status_code == 403
    assert office.patch(f"/users/{office.user_id}", json={"role": "admin"}).status_code == 403
    assert office.post(f"/users/{office.user_id}/revoke-tokens").status_code == 403
    admin = api("admin")
    past = admin.post(f"/users/{office.user_id}/tokens", json={"expires_at": "2001-01-01T00:00:00+00:00"})
    assert past.status_code == 422 and "expires_at" in past.json["error"]["fields"]


def test_an_admin_cannot_demote_or_deactivate_themselves_as_the_last_admin(app, api):
    with app.app_context():
        for extra in db.session.scalars(select(User).where(User.role == "admin")).all():
            extra.active = False
        db.session.commit()
    admin = api("admin")
    for body in ({"active": False}, {"role": "bookkeeper"}):
        refused = admin.patch(f"/users/{admin.user_id}", json=body)
        assert refused.status_code == 409 and refused.json["error"]["code"] == "last_admin", refused.json
        assert "last active admin" in refused.json["error"]["message"]
    assert admin.get(f"/users/{admin.user_id}").json["role"] == "admin"


# -- the users page ------------------------------------------------------------------------------------------------
def test_users_page_edits_role_active_password_and_tokens(app, login):
    admin = login("admin")
    target_id, target, token = make_user(app, "technician")
    listing = admin.get("/users").get_data(as_text=True)
    assert f'href="/users/{target_id}"' in listing and "Last login" in listing
    page = admin.get(f"/users/{target_id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert html.count('name="csrf_token"') >= 4  # every form carries its token

    saved = admin.post(f"/users/{target_id}", data={"name": "Tech", "role": "bookkeeper", "active": "y"})
    assert saved.status_code == 302
    refused = admin.post(f"/users/{target_id}/password", data={"password": target, "confirm": target})
    assert refused.status_code == 422 and "may not be the login" in refused.get_data(as_text=True)
    changed = admin.post(f"/users/{target_id}/password", data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert changed.status_code == 302
    assert log_in(app, target, NEW_PASSWORD)[1].status_code == 302

    made = admin.post(f"/users/{target_id}/tokens", data={"name": "laptop", "expires_on": "2999-01-01"})
    assert made.status_code == 200
    new_token = made.get_data(as_text=True).split('<pre class="token">')[1].split("</pre>")[0]
    assert app.test_client().get("/api/v1/me", headers=bearer(new_token)).status_code == 200
    assert admin.post(f"/users/{target_id}/revoke-tokens").status_code == 302
    for value in (token, new_token):
        assert app.test_client().get("/api/v1/me", headers=bearer(value)).status_code == 401

    off = admin.post(f"/users/{target_id}", data={"name": "Tech", "role": "bookkeeper"})  # active unticked
    assert off.status_code == 302
    assert log_in(app, target, NEW_PASSWORD)[1].status_code == 401
    assert audit_actions(app, target_id)[2:] == ["role_changed", "renamed", "password_changed", "token_created",
                                                 "tokens_revoked", "deactivated"]
    history = admin.get(f"/users/{target_id}").get_data(as_text=True)
    assert "deactivated" in history and "tokens revoked" in history


def test_users_page_forms_refuse_a_post_without_csrf_and_other_roles(app, login):
    admin, office = login("admin"), login("back_office")
    target_id, _, token = make_user(app, "technician")
    for path in (f"/users/{target_id}", f"/users/{target_id}/password", f"/users/{target_id}/revoke-tokens",
                 f"/users/{target_id}/tokens"):
        assert admin.client.post(path, data={"role": "admin", "active": "y"}).status_code == 400, path
        assert office.post(path, data={"role": "admin", "active": "y"}).status_code == 403, path
    assert app.test_client().get("/api/v1/me", headers=bearer(token)).json["role"] == "technician"


def test_an_admin_cannot_deactivate_themselves_on_the_page_when_last(app, login):
    with app.app_context():
        for extra in db.session.scalars(select(User).where(User.role == "admin")).all():
            extra.active = False
        db.session.commit()
    admin = login("admin")
    response = admin.post(f"/users/{admin.user_id}", data={"name": "Me", "role": "admin"})
    assert response.status_code == 422
    assert "last active admin" in response.get_data(as_text=True)
    assert admin.get("/users").status_code == 200  # still an admin, still logged in


def test_logging_in_records_the_last_login(app):
    user_id, login, _ = make_user(app, "bookkeeper")
    assert log_in(app, login)[1].status_code == 302
    with app.app_context():
        assert db.session.get(User, user_id).last_login_at is not None


def test_the_accounts_migration_keeps_users_and_tokens_working(app):
    """core_0005 (accounts) on a database that already has users and tokens: they keep working (no expiry, active),
    and its downgrade and upgrade again run on both databases."""
    from alembic import command

    from core.install import alembic_config
    _, login, token = make_user(app, "bookkeeper")
    with app.app_context():
        with db.engine.begin() as conn:
            command.downgrade(alembic_config(app, conn), "core_0004")
        with db.engine.begin() as conn:
            command.upgrade(alembic_config(app, conn), "heads")
        db.session.remove()
    me = app.test_client().get("/api/v1/me", headers=bearer(token))
    assert me.status_code == 200 and me.json["login"] == login
    assert log_in(app, login)[1].status_code == 302
