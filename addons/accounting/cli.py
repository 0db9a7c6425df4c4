"""``python run.py ledger verify``: walk the hash chain; exit 1 naming the first broken entry."""
from __future__ import annotations

import os

import click

from . import chain


@click.group()
def ledger():
    """The ledger's hash chain."""


@ledger.command("verify")
@click.option("--jobs", type=click.IntRange(1, 64), default=os.cpu_count() or 1, show_default="the CPU count",
              help="Processes walking parts of the chain side by side (from 20,000 entries).")
def verify(jobs):
    """Check every posted entry's hash and link to the previous one."""
    result = chain.verify(jobs=jobs)
    if result["ok"]:
        click.echo(f"Ledger intact: {result['entries_checked']} posted entries checked.")
        return
    broken = result["first_broken"]
    click.echo(f"Ledger BROKEN at entry {broken['number']} (id {broken['entry_id']}): {broken.get('reason', '')}. "
               f"{result['entries_checked']} entries before it are intact.", err=True)
    raise SystemExit(1)
