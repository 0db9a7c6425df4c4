"""Login throttling (core/throttle.py): counted in the database, atomically, per (login, address) and per address;
a refused attempt never checks the password, and the real user is not locked out by someone else's guesses."""
from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select, update

import core.security
from core.extensions import db
from core.models import LoginThrottle
from core.throttle import pair_key
from tests.conftest import PASSWORD, csrf_from, make_user

ATTACKER, REAL_USER = "203.0.113.9", "198.51.100.7"
GUESS = "guess-again-and-again"


@pytest.fixture
def checks(monkeypatch):
    """How many times a password was really checked (scrypt run), counted from inside core.security."""
    seen = []
    lock = threading.Lock()
    real = core.security.check_password_hash

    def counting(hashed, password):
        with lock:
            seen.append(password)
        return real(hashed, password)
    monkeypatch.setattr(core.security, "check_password_hash", counting)
    return seen


def attempt(app, login, password, address=ATTACKER, client=None):
    client = client or app.test_client()
    page = client.get("/login", environ_base={"REMOTE_ADDR": address}).get_data(as_text=True)
    return client.post("/login", data={"login": login, "password": password, "csrf_token": csrf_from(page)},
                       environ_base={"REMOTE_ADDR": address})


def lock_of(app, key):
    with app.app_context():
        row = db.session.scalar(select(LoginThrottle.locked_until).where(LoginThrottle.key == key))
        db.session.rollback()
    return None if row is None else (row if row.tzinfo else row.replace(tzinfo=timezone.utc))


def let_time_pass(app, key):
    """The lock on ``key`` has run out (as if its seconds had passed)."""
    with app.app_context():
        db.session.execute(update(LoginThrottle).where(LoginThrottle.key == key)
                           .values(locked_until=datetime.now(timezone.utc) - timedelta(seconds=1)))
        db.session.commit()


@pytest.fixture
def victim(app):
    return make_user(app, "admin")[1]


def test_after_five_failures_the_pair_is_refused_with_429_and_retry_after_without_checking(app, victim, checks):
    for _ in range(5):
        assert attempt(app, victim, GUESS).status_code == 401
    assert checks.count(GUESS) == 5
    refused = attempt(app, victim, PASSWORD)
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 15
    assert "Too many failed attempts. Try again in" in refused.get_data(as_text=True)
    assert PASSWORD not in checks  # the right password was not even checked while locked
    assert attempt(app, victim, GUESS).status_code == 429 and checks.count(GUESS) == 5


def test_someone_elses_guesses_do_not_lock_the_real_user_out(app, victim, checks):
    for _ in range(5):
        attempt(app, victim, GUESS)
    assert attempt(app, victim, GUESS).status_code == 429
    assert attempt(app, victim, PASSWORD, address=REAL_USER).status_code == 302  # first try, checked at once


def test_the_lock_grows_and_the_right_password_gets_through_once_it_runs_out(app, victim, checks):
    key = pair_key(victim, ATTACKER)
    for _ in range(5):
        attempt(app, victim, GUESS)
    seconds = []
    for _ in range(3):  # the attacker keeps going: one checked guess per lock, each lock twice as long
        until = lock_of(app, key)
        seconds.append(round((until - datetime.now(timezone.utc)).total_seconds()))
        let_time_pass(app, key)
        assert attempt(app, victim, GUESS).status_code == 401
        assert attempt(app, victim, GUESS).status_code == 429
    until = lock_of(app, key)
    seconds.append(round((until - datetime.now(timezone.utc)).total_seconds()))
    assert 14 <= seconds[0] <= 15 and 29 <= seconds[1] <= 30 and 59 <= seconds[2] <= 60, seconds
    assert 119 <= seconds[3] <= 120, seconds
    let_time_pass(app, key)
    # Even from the attacker's own address, once the lock has run out the right password is accepted.
    assert attempt(app, victim, PASSWORD).status_code == 302
    assert lock_of(app, key) is None  # and the failures are forgotten
    assert checks.count(GUESS) == 8


def test_failures_are_forgotten_after_a_quiet_window(app, victim):
    for _ in range(4):
        attempt(app, victim, GUESS)
    with app.app_context():
        db.session.execute(update(LoginThrottle).values(last_at=datetime.now(timezone.utc) - timedelta(minutes=16)))
        db.session.commit()
    for _ in range(4):
        assert attempt(app, victim, GUESS).status_code == 401  # counting from 1 again: no lock at the 5th overall
    assert attempt(app, victim, PASSWORD).status_code == 302


def test_one_address_spraying_many_logins_is_checked_twenty_times(app, checks):
    logins = [make_user(app, "back_office")[1] for _ in range(12)]
    answers = [attempt(app, login, f"spray-{n}-attempt").status_code for n in range(4) for login in logins]
    assert len(answers) == 48
    checked = [p for p in checks if p.startswith("spray-")]
    assert len(checked) == 20, len(checked)
    assert answers.count(401) == 20 and answers.count(429) == 28
    # The address is refused for every login, even a right password; another address is not.
    assert attempt(app, logins[0], PASSWORD).status_code == 429
    assert attempt(app, logins[0], PASSWORD, address=REAL_USER).status_code == 302


def _parallel(app, login, password, n, addresses):
    """``n`` login posts sent at once (each with its own CSRF token fetched beforehand); their status codes."""
    clients = []
    for i in range(n):
        client = app.test_client()
        address = addresses[i % len(addresses)]
        page = client.get("/login", environ_base={"REMOTE_ADDR": address}).get_data(as_text=True)
        clients.append((client, address, csrf_from(page)))
    start = threading.Barrier(n)
    codes = []

    def one(client, address, token):
        start.wait()
        response = client.post("/login", data={"login": login, "password": password, "csrf_token": token},
                               environ_base={"REMOTE_ADDR": address})
        codes.append(response.status_code)

    threads = [threading.Thread(target=one, args=c) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return codes


def test_forty_parallel_guesses_are_checked_at_most_five_times(app, victim, checks):
    codes = _parallel(app, victim, GUESS, 40, [ATTACKER])
    assert len(codes) == 40 and set(codes) <= {401, 429}
    assert checks.count(GUESS) <= 5, checks.count(GUESS)
    assert codes.count(401) == checks.count(GUESS)
    assert attempt(app, victim, PASSWORD, address=REAL_USER).status_code == 302


def test_forty_parallel_guesses_over_many_logins_respect_the_address_limit(app, checks):
    logins = [make_user(app, "bookkeeper")[1] for _ in range(8)]
    codes = []
    lock = threading.Lock()
    pages = []
    for i in range(40):
        client = app.test_client()
        page = client.get("/login", environ_base={"REMOTE_ADDR": ATTACKER}).get_data(as_text=True)
        pages.append((client, logins[i % 8], csrf_from(page)))
    start = threading.Barrier(40)

    def one(client, login, token):
        start.wait()
        response = client.post("/login", data={"login": login, "password": GUESS, "csrf_token": token},
                               environ_base={"REMOTE_ADDR": ATTACKER})
        with lock:
            codes.append(response.status_code)

    threads = [threading.Thread(target=one, args=p) for p in pages]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert len(codes) == 40
    assert checks.count(GUESS) <= 20 and codes.count(401) == checks.count(GUESS)


def test_guesses_from_many_addresses_leave_each_address_one_try_but_the_real_user_gets_in(app, victim, checks):
    for n in range(21):  # a distributed guesser: 21 addresses, one guess each (no pair, no address is locked yet)
        assert attempt(app, victim, GUESS, address=f"192.0.2.{n + 1}").status_code == 401
    # Past 20 failures on the login, a new address gets one failure before its lock, not five.
    assert attempt(app, victim, GUESS, address="192.0.2.100").status_code == 401
    refused = attempt(app, victim, GUESS, address="192.0.2.100")
    assert refused.status_code == 429 and 1 <= int(refused.headers["Retry-After"]) <= 15
    assert checks.count(GUESS) == 22
    # The real user, from their own address, is checked at once and gets in.
    assert attempt(app, victim, PASSWORD, address=REAL_USER).status_code == 302


def test_behind_a_trusted_proxy_the_counters_see_the_client_address(database_url):
    """KONTOR_TRUSTED_PROXIES=1: X-Forwarded-For names the client, so a guesser behind the proxy does not lock
    out the other users who come through the same proxy."""
    from core.app import create_app
    from core.config import TestConfig
    config = TestConfig(database_url)
    config.TRUSTED_PROXIES = 1
    app = create_app(config)
    login = make_user(app, "admin")[1]

    def through_proxy(password, client_address):
        client = app.test_client()
        headers = {"X-Forwarded-For": client_address}
        page = client.get("/login", headers=headers, environ_base={"REMOTE_ADDR": "127.0.0.1"})
        return client.post("/login", data={"login": login, "password": password,
                                           "csrf_token": csrf_from(page.get_data(as_text=True))},
                           headers=headers, environ_base={"REMOTE_ADDR": "127.0.0.1"})

    for _ in range(5):
        assert through_proxy(GUESS, ATTACKER).status_code == 401
    assert through_proxy(GUESS, ATTACKER).status_code == 429
    assert through_proxy(PASSWORD, REAL_USER).status_code == 302
    with app.app_context():
        keys = set(db.session.scalars(select(LoginThrottle.key)))
        db.session.remove()
        db.engine.dispose()
    assert pair_key(login, ATTACKER) in keys and not any("127.0.0.1" in k for k in keys)
