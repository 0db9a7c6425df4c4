"""`python run.py backup` / `restore` round-trip the database (SQLite backup API; pg_dump on PostgreSQL)."""
import os
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import func, select

from core.cli import build_cli
from core.extensions import db
from core.models import Partner
from core.partners import create_partner


def _count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Partner))


def test_backup_then_restore_brings_back_the_data(app, tmp_path):
    with app.app_context():
        for i in range(25):
            create_partner(name=f"Customer {i}")
        db.session.commit()
        db.session.remove()
    runner = CliRunner()
    cli = build_cli(app)
    result = runner.invoke(cli, ["backup", str(tmp_path / "kontor.backup")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "kontor.backup").stat().st_size > 0

    with app.app_context():
        create_partner(name="Added after the backup")
        db.session.commit()
        db.session.remove()
    assert _count(app) == 26

    result = runner.invoke(cli, ["restore", str(tmp_path / "kontor.backup"), "--yes"])
    assert result.exit_code == 0, result.output
    assert _count(app) == 25
    with app.app_context():
        assert db.session.scalar(select(Partner.id).where(Partner.name == "Added after the backup")) is None


def test_restore_refuses_a_missing_file(app, tmp_path):
    result = CliRunner().invoke(build_cli(app), ["restore", str(tmp_path / "nope.backup"), "--yes"])
    assert result.exit_code != 0
    assert "does not exist" in result.output


PG_URL_WITH_PASSWORD = "postgresql+psycopg://kontor:s3cret-Pa55@db.example:5432/kontor"


def _record_runs(monkeypatch) -> list:
    import core.backup
    runs = []

    def run(argv, **kwargs):
        runs.append((argv, kwargs.get("env") or {}))
        listing = "215; 1259 16390 TABLE public core_users kontor\n"  # what pg_restore --list prints
        return subprocess.CompletedProcess(argv, 0, stdout=listing if "--list" in argv else "", stderr="")
    monkeypatch.setattr(core.backup.subprocess, "run", run)
    return runs


def test_pg_dump_and_pg_restore_get_the_password_from_the_environment_not_the_command_line(monkeypatch, tmp_path):
    """Every user of the machine reads command lines (ps, /proc/<pid>/cmdline): the password goes in PGPASSWORD."""
    from core.backup import backup, restore
    runs = _record_runs(monkeypatch)
    backup(PG_URL_WITH_PASSWORD, tmp_path / "kontor.backup")
    (tmp_path / "kontor.backup").write_bytes(b"PGDMP")  # what pg_dump (not run here) would have written
    restore(PG_URL_WITH_PASSWORD, tmp_path / "kontor.backup")
    backup("postgresql+psycopg://kontor@db.example/kontor?password=s3cret-Pa55&sslmode=require",
           tmp_path / "other.backup")
    assert [argv[0] for argv, _ in runs] == ["pg_dump", "pg_restore", "pg_restore", "pg_dump"]  # --list, restore
    for argv, env in runs:
        assert not any("s3cret-Pa55" in arg for arg in argv), argv
        assert env["PGPASSWORD"] == "s3cret-Pa55"
        if "--list" not in argv:  # who and where are still on the command line
            assert "postgresql://kontor@db.example" in " ".join(argv)
    assert "sslmode=require" in " ".join(runs[3][0])


def test_a_backup_is_readable_by_its_owner_only(app, tmp_path):
    """A backup holds every customer, amount and password hash: mode 0600 whatever the umask, also when it
    replaces an older file that others could read."""
    import os
    import stat
    older = tmp_path / "older.backup"
    older.write_text("an older backup")
    older.chmod(0o644)
    previous = os.umask(0o022)
    try:
        for target in (tmp_path / "kontor.backup", older):
            result = CliRunner().invoke(build_cli(app), ["backup", str(target)])
            assert result.exit_code == 0, result.output
            assert stat.S_IMODE(os.stat(target).st_mode) == 0o600, target
            assert target.stat().st_size > 100
    finally:
        os.umask(previous)


def _bad_files(app, tmp_path) -> dict:
    """Files that are no backup this database can take; the truncated one is half of a real backup."""
    import sqlite3
    result = CliRunner().invoke(build_cli(app), ["backup", str(tmp_path / "good.backup")])
    assert result.exit_code == 0, result.output
    good = (tmp_path / "good.backup").read_bytes()
    files = {"text": b"name,email\nAcme,acme@example.com\n", "empty": b"", "truncated": good[:len(good) // 2],
             "other_format": b"PGDMP\x01\x0e\x00" + b"\x00" * 200}  # SQLite: a pg_dump header; PostgreSQL:
    foreign = sqlite3.connect(tmp_path / "foreign.db")                # a foreign SQLite file is no archive
    foreign.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
    foreign.commit()
    foreign.close()
    files["foreign_database"] = (tmp_path / "foreign.db").read_bytes()
    paths = {}
    for name, content in files.items():
        paths[name] = tmp_path / f"{name}.backup"
        paths[name].write_bytes(content)
    return paths


def test_restoring_a_bad_file_is_one_line_and_exit_code_1_and_changes_nothing(app, tmp_path):
    with app.app_context():
        for i in range(30):
            create_partner(name=f"Customer {i}")
        db.session.commit()
        db.session.remove()
    for name, path in _bad_files(app, tmp_path).items():
        result = CliRunner().invoke(build_cli(app), ["restore", str(path), "--yes"])
        assert result.exit_code == 1 and isinstance(result.exception, SystemExit), (name, result.output)
        lines = result.output.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"Error: {path} is "), (name, result.output)
        assert _count(app) == 30, name  # the live database as it was


def test_run_py_restore_of_a_bad_file_prints_a_message_not_a_traceback(database_url, tmp_path):
    bad = tmp_path / "notes.txt"
    bad.write_text("this is not a backup\n")
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "KONTOR_DATABASE_URL": database_url, "KONTOR_SECRET_KEY": "test"}
    out = subprocess.run([sys.executable, "run.py", "restore", str(bad), "--yes"], cwd=root, env=env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 1, out.stderr
    assert "Traceback" not in out.stderr and len(out.stderr.strip().splitlines()) == 1, out.stderr
    assert "is not a Kontor backup" in out.stderr
