"""Shared bench helpers: a fresh database, timing, percentiles, the result table.

Benchmarks print figures; nothing here asserts a timing. ``KONTOR_BENCH_DATABASE_URL`` (a PostgreSQL URL whose
database the bench may drop and re-create) runs them on PostgreSQL; the default is a SQLite file in bench/out/.
"""
from __future__ import annotations

import os
import statistics
import sys
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
OUT = ROOT / "bench" / "out"

from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402


def database_url(name: str) -> str:
    """A fresh, empty database for one bench."""
    pg = os.environ.get("KONTOR_BENCH_DATABASE_URL")
    if pg:
        url = make_url(pg)
        admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "bench_{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "bench_{name}"'))
        admin.dispose()
        return url.set(database=f"bench_{name}").render_as_string(hide_password=False)
    OUT.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        (OUT / f"{name}.db{suffix}").unlink(missing_ok=True)
    return f"sqlite:///{OUT / f'{name}.db'}"


def fresh_app(name: str):
    from core.app import create_app
    from core.config import Config
    from core.install import install
    url = database_url(name)
    os.environ["KONTOR_DATABASE_URL"] = url
    config = Config()
    config.SQLALCHEMY_DATABASE_URI = url
    app = create_app(config)
    install(app)
    return app, url


@contextmanager
def timed(results: dict, key: str):
    start = time.perf_counter()
    yield
    results[key] = time.perf_counter() - start


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[index]


def summary_ms(samples: list[float]) -> str:
    return (f"p50 {percentile(samples, 50) * 1000:.1f} ms, p95 {percentile(samples, 95) * 1000:.1f} ms, "
            f"max {max(samples) * 1000:.1f} ms, spread (stdev) {statistics.pstdev(samples) * 1000:.1f} ms, "
            f"n={len(samples)}")


def row(name: str, figure: str, target: str) -> dict:
    return {"bench": name, "figure": figure, "target": target}


def print_rows(rows: list[dict]) -> None:
    width = max(len(r["bench"]) for r in rows)
    for r in rows:
        print(f"{r['bench']:<{width}}  {r['figure']}   (target: {r['target']})")


def logged_in_client(app, login: str, password: str):
    """A test client logged in through the real login form (CSRF token taken from the page)."""
    import re
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page).group(1)
    response = client.post("/login", data={"login": login, "password": password, "csrf_token": csrf})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return client


def api_token(app, login: str) -> str:
    """A fresh bearer token for an existing user."""
    from sqlalchemy import select

    from core.extensions import db
    from core.models import User
    from core.security import create_token
    with app.app_context():
        value = create_token(db.session.scalar(select(User).where(User.login == login)), name="bench run")
        db.session.commit()
        return value


def analyze_tables(app, vacuum: bool = False) -> None:
    """SQLite plans from statistics only once ANALYZE ran (PostgreSQL's autovacuum keeps its own): without them
    it guesses, and e.g. walks all invoices for ?status=paid. A deployment runs ANALYZE (or PRAGMA optimize) the
    same way; the indexes serve either way (tests/core/test_list_indexes.py checks the plans without statistics).

    ``vacuum`` (PostgreSQL): VACUUM ANALYZE, as autovacuum does some time after a bulk insert (PostgreSQL 13+ also
    vacuums insert-only tables). Until then the visibility map is empty, so no index-only scan pays off and the
    planner reads the heap: a freshly built ledger would be measured in a state a running one leaves."""
    from sqlalchemy import text as sql

    from core.extensions import db
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            with db.engine.begin() as conn:
                if not conn.scalar(sql("SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'")):
                    conn.execute(sql("ANALYZE"))
        else:
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(sql("VACUUM ANALYZE" if vacuum else "ANALYZE"))
