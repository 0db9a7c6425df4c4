"""Login throttling: failed attempts counted in the database, per client address and per (login, address).

Why these two counters and no lock on the login alone
-----------------------------------------------------
A lock on the login alone ("5 failures, then nobody may try for 5 minutes") is a lock-out that anyone who knows a
login can renew forever: one wrong guess every 5 minutes keeps the real admin out. So:

* **Per (login, address)** — 5 failures, then that address may not try that login for 15 s, then one try per lock
  that doubles each failure after it (15 s, 30 s, 1 min ... at most 10 min). Someone guessing from their address
  is slowed to a handful of tries an hour; the real user, from another address, is not locked by them: their
  first attempt is checked at once, and after their own typos they wait seconds, not forever. Quiet for 15 min
  (``LOGIN_THROTTLE_WINDOW``, longer than the longest lock) forgets the failures; a success forgets them at once.
* **Per address, across logins** — 20 failures in 15 min (``LOGIN_THROTTLE_ADDRESS_ATTEMPTS``), then that address
  may not try any login for 15 min: spraying one password over many logins is checked 20 times, not 48.
* **Per login, across addresses** — a count only, never a lock: past 20 failures in the window
  (``LOGIN_THROTTLE_LOGIN_ATTEMPTS``: guesses from many addresses), each address gets 1 failure on that login
  before its pair lock instead of 5. A fresh address's first attempt is still checked at once, so the real user
  still gets in; an attacker's many addresses each get one guess, then the doubling locks.

What remains: users behind one address with the attacker (one NAT) share its counters; an attacker with many
addresses gets a try per address and lock. Passwords that a guesser would try first are refused
when set (core.security.password_problem), so those few tries are spent on passwords nobody has.

Atomic, for every worker and node
---------------------------------
An attempt is *reserved* before its password is checked, and the reservation is committed first: each counter
row is changed by one ``UPDATE ... SET failures = failures + 1 ... WHERE locked_until IS NULL OR locked_until <=
now RETURNING failures`` (the row made beforehand by ``INSERT ... ON CONFLICT DO NOTHING``). PostgreSQL's row lock
and its re-check of the WHERE on the updated row, SQLite's single writer: of 40 attempts sent at once, the 5th
sets the lock and the 6th to 40th find it and are refused without their password being checked. A success gives
its reservation back (the pair's row is removed, the address's count goes down by one). A refused attempt changes
nothing, so refusals never lengthen a lock.
"""
from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone

from flask import current_app
from sqlalchemy import case, delete, or_, select, update

from core.extensions import db
from core.models import LoginThrottle, utcnow

T = LoginThrottle.__table__


class Throttled(Exception):
    """The attempt was refused before any password was checked; try again in ``retry_after`` seconds."""

    def __init__(self, retry_after: int):
        super().__init__(f"retry after {retry_after} s")
        self.retry_after = retry_after


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)  # SQLite gives back naive UTC


def _insert():
    if db.engine.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(T)


def address_key(address: str) -> str:
    return f"a:{address}"


def login_key(login: str) -> str:
    return f"l:{login}"[:200]


def pair_key(login: str, address: str) -> str:
    return f"p:{address} {login}"[:200]


def _settings() -> dict:
    c = current_app.config
    return {"pair_limit": c["LOGIN_THROTTLE_ATTEMPTS"], "address_limit": c["LOGIN_THROTTLE_ADDRESS_ATTEMPTS"],
            "login_limit": c["LOGIN_THROTTLE_LOGIN_ATTEMPTS"],
            "window": timedelta(seconds=c["LOGIN_THROTTLE_WINDOW"]),
            "first_lock": c["LOGIN_THROTTLE_FIRST_LOCK"], "max_lock": c["LOGIN_THROTTLE_MAX_LOCK"]}


def _count(key: str, now: datetime, window: timedelta) -> int | None:
    """One more failure on ``key`` unless it is locked: the new count, or None when locked (nothing changed)."""
    db.session.execute(_insert().values(key=key, failures=0, last_at=now, locked_until=None)
                       .on_conflict_do_nothing(index_elements=["key"]))
    quiet = T.c.last_at < now - window  # old failures are forgotten after a quiet window
    return db.session.execute(
        update(T).where(T.c.key == key, or_(T.c.locked_until.is_(None), T.c.locked_until <= now))
        .values(failures=case((quiet, 1), else_=T.c.failures + 1), last_at=now)
        .returning(T.c.failures)).scalar()


def _lock(key: str, until: datetime) -> None:
    db.session.execute(update(T).where(T.c.key == key).values(locked_until=until))


def reserve(login: str, address: str) -> None:
    """Count this attempt as a failure before its password is checked, committed; raise Throttled when the address
    or the (login, address) pair is locked (then nothing is counted). Call ``succeeded`` when the password was
    right. Any route that checks a password calls this first (today: the login page)."""
    s = _settings()
    now = utcnow()
    # Always this order, so two attempts never wait for each other's rows in a cycle. The login's row is never
    # locked (a count only), so its _count never refuses.
    keys = (address_key(address), login_key(login), pair_key(login, address))
    counts = []
    for key in keys:
        count = _count(key, now, s["window"])
        if count is None:
            db.session.rollback()  # the counters already raised are given back: a refused attempt counts nowhere
            raise Throttled(_retry_after(key))
        counts.append(count)
    address_count, login_count, pair_count = counts
    if address_count >= s["address_limit"]:
        _lock(keys[0], now + s["window"])
    pair_limit = 1 if login_count > s["login_limit"] else s["pair_limit"]
    if pair_count >= pair_limit:
        lock = min(s["first_lock"] * 2 ** (pair_count - pair_limit), s["max_lock"])
        _lock(keys[2], now + timedelta(seconds=lock))
    db.session.commit()  # before the password is checked: every other worker sees this attempt now


def _retry_after(key: str) -> int:
    until = db.session.scalar(select(T.c.locked_until).where(T.c.key == key))
    if until is None:
        return 1
    return max(1, math.ceil((_aware(until) - utcnow()).total_seconds()))


def succeeded(login: str, address: str) -> None:
    """The reserved attempt had the right password: forget the pair's failures, give the address and the login
    their one back. Runs in the caller's transaction (the login's)."""
    s = _settings()
    now = utcnow()
    db.session.execute(delete(T).where(T.c.key == pair_key(login, address)))
    db.session.execute(
        update(T).where(T.c.key == address_key(address), T.c.failures > 0)
        .values(failures=T.c.failures - 1,
                locked_until=case((T.c.failures - 1 < s["address_limit"], None), else_=T.c.locked_until)))
    # Only this attempt back, not the others' failures: the real user logging in does not end an attack's count.
    db.session.execute(update(T).where(T.c.key == login_key(login), T.c.failures > 0)
                       .values(failures=T.c.failures - 1))
    # Rows nobody has touched for a day are of no use: keep the table small (indexed on last_at).
    db.session.execute(delete(T).where(T.c.last_at < now - timedelta(days=1),
                                       or_(T.c.locked_until.is_(None), T.c.locked_until < now)))
