"""Backups: SQLite through its online backup API (consistent while the app runs), PostgreSQL through pg_dump."""
from __future__ import annotations

import os
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy.engine import make_url


def _sqlite_path(url: str) -> str:
    path = make_url(url).database
    if not path:
        raise ValueError("An in-memory SQLite database cannot be backed up.")
    return path


def _libpq(url: str) -> tuple[str, dict[str, str]]:
    """What pg_dump and pg_restore connect with: the URL without its password, and an environment holding it in
    PGPASSWORD. A command line is readable by every user of the machine (ps, /proc/<pid>/cmdline); a process's
    environment only by its owner and root."""
    parsed = make_url(url)
    query = dict(parsed.query)
    in_query = query.pop("password", None)  # libpq also takes ?password=
    password = parsed.password if parsed.password is not None else in_query
    env = dict(os.environ)
    if password is not None:
        env["PGPASSWORD"] = str(password)
    parsed = parsed.set(query=query)
    # URL.set(password=None) keeps the password (None there means "unchanged"): replace the field itself.
    return parsed._replace(drivername="postgresql", password=None).render_as_string(hide_password=False), env


def _private_file(path: Path) -> None:
    """Create (or empty) ``path`` readable and writable by its owner only (0600): a backup holds every customer,
    every amount and every password hash. The writer then fills the file and keeps its mode."""
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600))
    os.chmod(path, 0o600)  # a file that was already there keeps its old mode through os.open


def backup(url: str, target: Path) -> Path:
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    _private_file(target)
    if url.startswith("sqlite"):
        source = sqlite3.connect(_sqlite_path(url))
        dest = sqlite3.connect(target)
        try:
            with dest:
                source.backup(dest)
        finally:
            dest.close()
            source.close()
    else:
        dsn, env = _libpq(url)
        subprocess.run(["pg_dump", "--format=custom", "--no-owner", "--file", str(target), dsn],
                       check=True, capture_output=True, text=True, env=env)
    return target


def restore(url: str, source: Path) -> None:
    """Replace the database's content with the backup's (stop the app first)."""
    source = Path(source)
    if not source.is_file():
        raise FileNotFoundError(f"No backup file at {source}")
    if url.startswith("sqlite"):
        backup_db = sqlite3.connect(source)
        live = sqlite3.connect(_sqlite_path(url))
        try:
            with live:
                backup_db.backup(live)
        finally:
            live.close()
            backup_db.close()
    else:
        dsn, env = _libpq(url)
        subprocess.run(["pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction",
                        "--dbname", dsn, str(source)], check=True, capture_output=True, text=True, env=env)
