"""`python run.py backup` / `restore` round-trip the database (SQLite backup API; pg_dump on PostgreSQL)."""
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
    monkeypatch.setattr(core.backup.subprocess, "run", run)
    return runs


def test_pg_dump_and_pg_restore_get_the_password_from_the_environment_not_the_command_line(monkeypatch, tmp_path):
    """Every user of the machine reads command lines (ps, /proc/<pid>/cmdline): the password goes in PGPASSWORD."""
    from core.backup import backup, restore
    runs = _record_runs(monkeypatch)
    (tmp_path / "kontor.backup").write_bytes(b"PGDMP")  # what pg_dump (not run here) would have written
    backup(PG_URL_WITH_PASSWORD, tmp_path / "kontor.backup")
    restore(PG_URL_WITH_PASSWORD, tmp_path / "kontor.backup")
    backup("postgresql+psycopg://kontor@db.example/kontor?password=s3cret-Pa55&sslmode=require",
           tmp_path / "other.backup")
    assert [argv[0] for argv, _ in runs] == ["pg_dump", "pg_restore", "pg_dump"]
    for argv, env in runs:
        assert not any("s3cret-Pa55" in arg for arg in argv), argv
        assert env["PGPASSWORD"] == "s3cret-Pa55"
        assert "postgresql://kontor@db.example" in " ".join(argv)  # who and where still on the command line
    assert "sslmode=require" in " ".join(runs[2][0])


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
