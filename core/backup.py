"""Backups: SQLite through its online backup API (consistent while the app runs), PostgreSQL through pg_dump."""
from __future__ import annotations

import os
import re
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy.engine import make_url


KONTOR_TABLE = "core_users"  # every Kontor database has it: a file without it is someone else's


class BackupError(Exception):
    """A backup or a restore that cannot be done; the message is one line for whoever runs the command."""


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
        _run(["pg_dump", "--format=custom", "--no-owner", "--file", str(target), dsn], env, "The backup failed")
    return target


def _run(argv: list[str], env: dict[str, str], failure: str) -> subprocess.CompletedProcess:
    """Run a PostgreSQL client tool; its failure becomes one line (the tool's error), not a traceback."""
    try:
        return subprocess.run(argv, check=True, capture_output=True, text=True, env=env)
    except FileNotFoundError:
        raise BackupError(f"{failure}: {argv[0]} is not installed (PostgreSQL's client tools are needed).") from None
    except subprocess.CalledProcessError as exc:
        lines = [line.strip() for line in (exc.stderr or "").splitlines() if line.strip()]
        reason = next((line for line in lines if "error" in line.lower()), lines[0] if lines else "no message")
        raise BackupError(f"{failure}: {reason}") from None


def check_backup(url: str, source: Path) -> None:
    """Refuse, before anything in the database is touched, a file that is not a readable Kontor backup for this
    kind of database: not a backup, truncated or damaged, or made by pg_dump for an SQLite database (or back)."""
    if source.stat().st_size == 0:
        raise BackupError(f"{source} is empty: not a backup.")
    if url.startswith("sqlite"):
        try:
            # read-only and immutable: checking a backup writes nothing, not even a -wal or -shm beside it
            conn = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro&immutable=1", uri=True)
            try:
                check = conn.execute("PRAGMA quick_check").fetchone()[0]
                tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            finally:
                conn.close()
        except sqlite3.DatabaseError as exc:
            raise BackupError(f"{source} is not a Kontor backup for SQLite, or it is damaged ({exc}).") from None
        if check != "ok":
            raise BackupError(f"{source} is damaged (SQLite's check: {check}).")
        if KONTOR_TABLE not in tables:
            raise BackupError(f"{source} is an SQLite database but not a Kontor backup (no {KONTOR_TABLE} table).")
    else:
        _, env = _libpq(url)
        listing = _run(["pg_restore", "--list", str(source)], env, f"{source} is not a Kontor backup").stdout
        if not re.search(rf"\bTABLE \S+ {KONTOR_TABLE}\b", listing or ""):
            raise BackupError(f"{source} is a PostgreSQL archive but not of Kontor (no {KONTOR_TABLE} table).")


def restore(url: str, source: Path, checked: bool = False) -> None:
    """Replace the database's content with the backup's (stop the app first); ``checked``: check_backup passed."""
    source = Path(source)
    if not source.is_file():
        raise BackupError(f"No backup file at {source}.")
    if not checked:
        check_backup(url, source)
    if url.startswith("sqlite"):
        backup_db = sqlite3.connect(source)
        live = sqlite3.connect(_sqlite_path(url))
        try:
            with live:
                backup_db.backup(live)
        except sqlite3.Error as exc:
            raise BackupError(f"The restore failed, the database is as it was: {exc}.") from None
        finally:
            live.close()
            backup_db.close()
    else:
        dsn, env = _libpq(url)
        # one transaction: a restore that fails halfway leaves the database as it was
        _run(["pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction", "--dbname", dsn,
              str(source)], env, "The restore failed, the database is as it was")
