"""``python run.py worker``: deliver the webhooks outbox."""
from __future__ import annotations

import time

import click

from core.extensions import db


@click.command("worker")
@click.option("--once", is_flag=True, help="Process what is due now, then exit.")
@click.option("--interval", default=2.0, show_default=True, type=click.FloatRange(0.1, 3600),
              help="Seconds to wait when nothing is due.")
@click.option("--limit", default=100, show_default=True, type=click.IntRange(1, 10_000),
              help="Deliveries claimed per pass.")
def worker(once, interval, limit):
    """Deliver webhooks: claim due deliveries, POST them signed, retry failures with backoff."""
    from . import worker as outbox
    while True:
        counts = outbox.run_once(limit=limit)
        if once or any(counts.values()):
            click.echo(f"delivered {counts['delivered']}, retrying {counts['retrying']}, failed {counts['failed']}")
        if once:
            return
        db.session.remove()
        if not any(counts.values()):
            time.sleep(interval)
