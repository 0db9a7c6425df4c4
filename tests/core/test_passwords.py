"""Passwords a guesser tries first are refused wherever a password is set: the service, the command line, the
users page and the admin API (zxcvbn: the common-password list and its variants, words, the login itself)."""
from __future__ import annotations

import pytest
from click.testing import CliRunner

from core.cli import DEMO_PASSWORD, build_cli
from core.errors import ValidationError
from core.extensions import db
from core.security import create_user, password_problem

GOOD = "plum-orchard-quietly-41"


@pytest.mark.parametrize("password, login, words", [
    ("short1", "camille", "at least 8 characters"),
    ("x" * 129, "camille", "at most 128"),
    ("password1", "camille", "too easy to guess"),
    ("qwertyuiop", "camille", "too easy to guess"),
    ("iloveyou2", "camille", "too easy to guess"),
    ("sunshine", "camille", "too easy to guess"),
    ("trustno1", "camille", "too easy to guess"),
    ("Camille.Durand", "camille.durand", "may not be the login"),
    ("camille.durand", "camille.durand", "may not be the login"),
    ("camilledurand1", "camilledurand", "may not contain the login"),
    ("Noor2026!", "noor", "may not contain the login"),
    ("camille1", "zz", "too easy to guess"),  # a name with a digit
])
def test_weak_passwords_are_refused(password, login, words):
    problem = password_problem(password, login)
    assert problem and words in problem, problem


@pytest.mark.parametrize("password", [GOOD, "correct-horse-battery", DEMO_PASSWORD, "Tr4m-Ligne-Bordeaux",
                                      "the-long-road-to-Bordeaux-passes-by-Angouleme-and-Poitiers-in-late-autumn-2026"])
def test_good_passwords_pass(password):
    assert password_problem(password, "camille") is None


def test_the_service_refuses_and_writes_nothing(ctx):
    from sqlalchemy import select

    from core.models import User
    with pytest.raises(ValidationError) as refused:
        create_user("camille", "back_office", "password1")
    assert refused.value.fields == {"password": [refused.value.message]}
    db.session.rollback()
    assert db.session.scalar(select(User).where(User.login == "camille")) is None


def test_the_command_line_refuses_a_common_password_in_one_line(app):
    result = CliRunner().invoke(build_cli(app), ["user", "create", "noor", "--role", "bookkeeper",
                                                 "--password", "iloveyou2"], prog_name="run.py")
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.output.strip().splitlines() == [result.output.strip()] and "too easy to guess" in result.output


def test_the_users_page_and_the_api_refuse_them(app, login, api):
    admin = login("admin")
    page = admin.post("/users", data={"login": "noor", "name": "", "role": "bookkeeper", "password": "noor"})
    assert page.status_code == 200 and "at least 8 characters" in page.get_data(as_text=True)
    page = admin.post("/users", data={"login": "noor", "name": "", "role": "bookkeeper", "password": "password123"})
    assert "too easy to guess" in page.get_data(as_text=True)
    a = api("admin")
    refused = a.post("/users", json={"login": "noor", "role": "bookkeeper", "password": "noor-2026!"})
    assert refused.status_code == 422 and refused.json["error"]["code"] == "weak_password"
    assert "password" in refused.json["error"]["fields"]
    assert a.get("/users?limit=500").json["items"] and all(u["login"] != "noor" for u in a.get("/users").json["items"])
    assert a.post("/users", json={"login": "noor", "role": "bookkeeper", "password": GOOD}).status_code == 201
