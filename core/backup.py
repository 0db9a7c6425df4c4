"""Backups: SQLite through its online backup API (consistent while the app runs), PostgreSQL through pg_dump."""
from __future__ import annotations

import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy.engine import make_url


def _sqlite_path(url: str) -> str:
    path = make_url(url).database
    if not path:
        raise ValueError("An in-memory SQLite database cannot be backed up.")
    return path


def _libpq_url(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def backup(url: str, target: Path) -> Path:
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
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
        subprocess.run(["pg_dump", "--format=custom", "--no-owner", "--file", str(target), _libpq_url(url)],
                       check=True, capture_output=True, text=True)
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
        subprocess.run(["pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction",
                        "--dbname", _libpq_url(url), str(source)], check=True, capture_output=True, text=True)
