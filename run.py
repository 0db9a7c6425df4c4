"""Kontor's one entry point.

    python run.py                  first run: create the SQLite database, install addons, demo data, serve
    python run.py init [--demo]    create or upgrade the schema of every installed addon
    python run.py serve            serve on http://127.0.0.1:5000
    gunicorn -w 4 run:app          production (``app`` is the WSGI application; settings in gunicorn.conf.py)
"""
from __future__ import annotations

import sys

from flask import Flask

from core.app import create_app
from core.cli import build_cli
from core.errors import StartupError

try:
    app: Flask = create_app()
except StartupError as exc:  # one line and exit code 1, no traceback (e.g. a wrong KONTOR_DATABASE_URL)
    print(f"Kontor cannot start: {exc}", file=sys.stderr)
    # In a gunicorn worker (started without gunicorn.conf.py, which checks first): 4 is gunicorn's "the app failed
    # to load", which stops it; any other code and it would start the worker again, and again.
    sys.exit(4 if "gunicorn.arbiter" in sys.modules else 1)
cli = build_cli(app)

if __name__ == "__main__":
    cli(prog_name="run.py")
