"""Kontor is an installable distribution (``pyproject.toml``): ``make install`` installs this checkout editable,
so entry points resolve and an addon can depend on ``kontor``."""
from __future__ import annotations

import json
import os
import subprocess
import tomllib
from importlib import metadata
from pathlib import Path
from urllib.parse import unquote, urlparse


ROOT = Path(__file__).resolve().parents[2]


def test_kontor_is_installed_editable_from_this_checkout():
    # Installed = pip wrote direct_url.json; the kontor.egg-info the build leaves in the checkout (found through
    # the current directory on sys.path) is no installation.
    installed = [d for d in metadata.distributions(name="kontor") if d.read_text("direct_url.json")]
    assert installed, "Kontor is not installed in this venv: run `make install`"
    direct_url = json.loads(installed[0].read_text("direct_url.json"))
    assert direct_url.get("dir_info", {}).get("editable") is True, direct_url
    assert Path(unquote(urlparse(direct_url["url"]).path)).resolve() == ROOT, (
        f"the venv's kontor is {direct_url['url']}, not this checkout ({ROOT}); run `make install` here")


def test_pyproject_names_what_requirements_txt_installs():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = project["dependencies"] + project["optional-dependencies"]["test"]
    listed = [line.strip() for line in (ROOT / "requirements.txt").read_text().splitlines()
              if line.strip() and not line.lstrip().startswith("#")]
    assert sorted(declared) == sorted(listed)
    assert project["name"] == "kontor"


def test_make_install_redoes_the_venv_when_pyproject_or_requirements_change(tmp_path):
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "python").write_text("#!/bin/sh\n")
    (venv / "bin" / "python").chmod(0o755)
    (venv / ".installed").touch()  # newer than both files: nothing to do

    def dry_run(*extra):
        return subprocess.run(["make", "-n", f"VENV={venv}", *extra, "install"], cwd=ROOT, capture_output=True,
                              text=True, check=True, env={**os.environ, "MAKEFLAGS": ""}).stdout

    assert "pip install" not in dry_run()
    for changed in ("pyproject.toml", "requirements.txt"):
        commands = dry_run("-W", changed)  # -W: as if the file had just been edited
        assert "pip install" in commands and "-e ." in commands, (changed, commands)
