"""The tools refuse with one line and exit status 1, never a traceback: ``tools/make_migration.py --help`` works,
an unknown addon is named, and an addon refused at start-up (a missing dependency, a cycle, a folder that does not
exist) is the kernel's one-line message from ``run.py`` as from the tools. Each case is a fresh interpreter."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _run(args: list[str], tmp_path: Path, addons: str = "") -> subprocess.CompletedProcess:
    env = {**os.environ, "KONTOR_DATABASE_URL": f"sqlite:///{tmp_path / 'kontor.db'}", "KONTOR_SECRET_KEY": "test",
           "KONTOR_ADDONS": addons}
    return subprocess.run([sys.executable, *args], check=False, cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)


def _addon(folder: Path, name: str, depends: list[str]) -> None:
    (folder / name).mkdir(parents=True)
    (folder / name / "__manifest__.py").write_text(
        f'{{"name": "{name}", "version": "1.0.0", "summary": "test", "depends": {depends!r}}}\n')
    (folder / name / "__init__.py").write_text("def register(kernel):\n    pass\n")


def _refused(out: subprocess.CompletedProcess, *expected: str) -> str:
    assert out.returncode == 1, (out.returncode, out.stdout, out.stderr[-3000:])
    assert "Traceback" not in out.stderr, out.stderr[-3000:]
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr[-3000:]
    for text in expected:
        assert text in lines[0], lines[0]
    return lines[0]


def test_make_migration_help_explains_its_arguments(tmp_path):
    out = _run(["tools/make_migration.py", "--help"], tmp_path)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "usage: make_migration.py" in out.stdout and "addon" in out.stdout and "message" in out.stdout
    assert out.stderr == ""


def test_make_migration_refuses_an_unknown_addon_naming_the_known_ones(tmp_path):
    out = _run(["tools/make_migration.py", "no_such_addon", "initial"], tmp_path)
    line = _refused(out, "no addon 'no_such_addon'", "invoicing", "KONTOR_ADDONS")
    assert line.startswith("make_migration.py: ")


def test_make_migration_without_arguments_is_a_usage_error(tmp_path):
    out = _run(["tools/make_migration.py"], tmp_path)
    assert out.returncode == 2 and "usage: make_migration.py" in out.stderr and "Traceback" not in out.stderr


@pytest.mark.parametrize("case", ["missing_dependency", "cycle", "missing_folder"])
@pytest.mark.parametrize("command", [["run.py", "addons", "list"], ["tools/make_migration.py", "needy"]])
def test_an_addon_refused_at_start_up_is_one_line_and_exit_status_1(case, command, tmp_path):
    extra = tmp_path / "extra"
    if case == "missing_dependency":
        _addon(extra, "needy", ["not_installed_anywhere"])
        expected = ("Missing addon dependency: needy needs not_installed_anywhere",)
    elif case == "cycle":
        _addon(extra, "needy", ["other"])
        _addon(extra, "other", ["needy"])
        expected = ("Addon dependency cycle", "needy", "other")
    else:
        expected = (f"Addon folder {extra} does not exist",)
    line = _refused(_run(command, tmp_path, addons=str(extra)), *expected)
    prefix = "Kontor cannot start: " if command[0] == "run.py" else "make_migration.py: "
    assert line.startswith(prefix), line
