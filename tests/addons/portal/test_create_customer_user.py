"""``python run.py user create LOGIN --role customer --partner-id N``: a customer login for the portal."""
from __future__ import annotations

from click.testing import CliRunner
from sqlalchemy import select

from core.cli import build_cli
from core.extensions import db
from core.models import User


def _run(app, *args):
    return CliRunner().invoke(build_cli(app), list(args), prog_name="run.py")


def test_create_a_customer_user_with_a_token_that_reads_the_portal(app, shop):
    r = _run(app, "user", "create", "alice", "--role", "customer", "--partner-id", str(shop.alice),
             "--password", "plum-orchard-quietly-41", "--token")
    assert r.exit_code == 0, r.output
    token = r.output.strip().splitlines()[-1]
    with app.app_context():
        user = db.session.scalar(select(User).where(User.login == "alice"))
        assert user.role == "customer" and user.partner_id == shop.alice
    shop.invoice(shop.alice, "12.00")
    r = app.test_client().get("/api/v1/portal/balance", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200 and r.json["receivable"] == "12.00"


def test_a_customer_user_needs_an_existing_partner(app):
    r = _run(app, "user", "create", "nobody", "--role", "customer")
    assert r.exit_code != 0 and "--partner-id" in r.output
    r = _run(app, "user", "create", "nobody", "--role", "customer", "--partner-id", "999999")
    assert r.exit_code != 0 and "no customer 999999" in r.output
    r = _run(app, "user", "create", "nobody", "--role", "emperor")
    assert r.exit_code != 0 and "customer" in r.output  # the choices list the portal's role
    with app.app_context():
        assert db.session.scalar(select(User).where(User.login == "nobody")) is None
