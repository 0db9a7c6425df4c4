"""gunicorn's settings for Kontor, read from the working directory (``gunicorn -w 2 run:app``); options given on the
command line win.

Threaded workers: while one request waits for PostgreSQL another runs in the same worker (a sync worker sits idle
through every round trip), and clients keep their connection open between requests (a sync worker closes it after
each answer). bench/bench_web_throughput.py, GET /api/v1/invoices/{id} on PostgreSQL, 2 workers on a loaded 2-core
machine: 107 req/s with sync workers, 274 with 4 threads each.
"""
import os

worker_class = os.environ.get("KONTOR_GUNICORN_WORKER_CLASS", "gthread")
threads = int(os.environ.get("KONTOR_GUNICORN_THREADS", "4"))


def on_starting(server):
    """Before any worker: a database Kontor cannot use (a wrong KONTOR_DATABASE_URL, a server that is down) stops
    gunicorn with one line, instead of workers that fail to boot one after another with a traceback each."""
    import sys

    from core.config import Config
    from core.db import check_database_url
    from core.errors import StartupError
    try:
        check_database_url(Config.SQLALCHEMY_DATABASE_URI)
    except StartupError as exc:
        sys.exit(f"Kontor cannot start: {exc}")


def post_worker_init(worker):
    """The worker has loaded the app: keep the garbage collector's full passes off its start-up objects."""
    from core.app import freeze_startup_objects
    freeze_startup_objects()
