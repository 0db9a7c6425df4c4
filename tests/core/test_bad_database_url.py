"""A database URL Kontor cannot use stops start-up with one line and exit code 1 (``run.py init``, ``run.py serve``,
gunicorn with ``run:app`` or the ``core.app:create_app()`` factory), instead of a traceback or a server that
answers every request with a 500. Each case runs a fresh interpreter with that KONTOR_DATABASE_URL."""
from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "s3cret-Pa55"
UNREACHABLE = f"postgresql+psycopg://kontor:{PASSWORD}@127.0.0.1:1/kontor"  # nothing listens on port 1


def _start(args: list[str], url: str, timeout: float = 60) -> subprocess.CompletedProcess:
    env = {**os.environ, "KONTOR_DATABASE_URL": url, "KONTOR_SECRET_KEY": "test"}
    try:
        return subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as exc:  # it started serving: the URL was not checked
        pytest.fail(f"{args} kept running with {url}: {exc.stderr}")


def _one_line(out: subprocess.CompletedProcess, *expected: str) -> str:
    assert "Traceback" not in out.stderr, out.stderr[-3000:]
    kontor = [line for line in out.stderr.splitlines() if "Kontor cannot start" in line]
    assert len(kontor) == 1, out.stderr[-3000:]
    assert PASSWORD not in out.stderr
    for text in expected:
        assert text in kontor[0], kontor[0]
    return kontor[0]


@pytest.mark.parametrize("kind", ["unreachable", "bad_scheme", "missing_driver", "missing_folder", "not_a_url",
                                  "port_not_a_number"])
def test_run_py_init_refuses_a_database_url_it_cannot_use(kind, tmp_path):
    assert importlib.util.find_spec("MySQLdb") is None  # the missing driver is missing
    url, expected = {
        "unreachable": (UNREACHABLE, "cannot connect to the database postgresql+psycopg://kontor:***@127.0.0.1:1"),
        "bad_scheme": (f"postgres://kontor:{PASSWORD}@127.0.0.1/kontor", "unknown kind of database 'postgres'"),
        "missing_driver": (f"mysql+mysqldb://kontor:{PASSWORD}@127.0.0.1/kontor", "driver (MySQLdb) is not installed"),
        "missing_folder": (f"sqlite:///{tmp_path / 'missing' / 'kontor.db'}",
                           f"the folder {tmp_path / 'missing'} does not exist"),
        "not_a_url": ("kontor.db", "is not a database URL"),
        "port_not_a_number": (f"postgresql+psycopg://kontor:{PASSWORD}@db:fivefour/kontor", "is not a database URL"),
    }[kind]
    out = _start([sys.executable, "run.py", "init"], url)
    assert out.returncode == 1, out.stderr[-3000:]
    _one_line(out, expected)
    assert not (tmp_path / "missing").exists()


def test_run_py_serve_does_not_start_on_an_unreachable_database():
    out = _start([sys.executable, "run.py", "serve", "--port", "0"], UNREACHABLE, timeout=30)
    assert out.returncode == 1, out.stderr[-3000:]
    _one_line(out, "Connection refused")


@pytest.mark.parametrize("app_spec", ["run:app", "core.app:create_app()"])
def test_gunicorn_stops_on_an_unreachable_database(app_spec):
    """gunicorn.conf.py checks the database in the master, before any worker boots."""
    out = _start([sys.executable, "-m", "gunicorn", "-b", "127.0.0.1:0", app_spec], UNREACHABLE, timeout=30)
    assert out.returncode == 1, out.stderr[-3000:]
    _one_line(out, "Connection refused")


def test_a_gunicorn_worker_that_cannot_load_stops_gunicorn_without_its_config(tmp_path):
    """Started with another config file: the worker's run.py exits with gunicorn's "app failed to load" (4), which
    stops gunicorn, rather than 1, after which gunicorn would boot the worker again and again."""
    config = tmp_path / "other.conf.py"
    config.write_text("workers = 1\n")
    out = _start([sys.executable, "-m", "gunicorn", "-c", str(config), "-b", "127.0.0.1:0", "run:app"],
                 f"sqlite:///{tmp_path / 'missing' / 'kontor.db'}", timeout=30)
    assert out.returncode == 4 and "App failed to load" in out.stderr, out.stderr[-3000:]
    _one_line(out, "does not exist")
