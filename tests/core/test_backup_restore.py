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
