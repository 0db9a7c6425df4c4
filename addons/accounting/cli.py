"""``python run.py ledger verify [--anchor LINE]``: walk the hash chain and check every posted document against
its entry; exit 1 naming what is broken. ``python run.py ledger anchor``: print the signed chain head."""
from __future__ import annotations

import os

import click

from core.extensions import db

from . import chain, checks


@click.group()
def ledger():
    """The ledger's hash chain."""


@ledger.command("verify")
@click.option("--jobs", type=click.IntRange(1, 64), default=os.cpu_count() or 1, show_default="the CPU count",
              help="Processes walking parts of the chain side by side (from 20,000 entries).")
@click.option("--anchor", "head", metavar="LINE", default=None,
              help="A chain head printed by `ledger anchor` and kept elsewhere: the chain must still hold it.")
def verify(jobs, head):
    """Check every posted entry's hash and link to the previous one, and every posted document against its
    entry."""
    if head is not None:
        try:
            result = chain.check_head(head, jobs=jobs)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--anchor") from None
    else:
        result = chain.verify(jobs=jobs)
    documents = checks.verify_documents()
    failed = False
    if result["ok"]:
        keyed = "keyed" if result["keyed"] else "NOT keyed (no ledger key)"
        click.echo(f"Ledger intact: {result['entries_checked']} posted entries checked, chain {keyed}"
                   + (", kept head found." if head is not None else "."))
    else:
        failed = True
        broken = result["first_broken"]
        where = f"entry {broken['number']} (id {broken['entry_id']})" if broken["entry_id"] else "the chain"
        click.echo(f"Ledger BROKEN at {where}: {broken.get('reason', '')}. "
                   f"{result['entries_checked']} entries before it are intact.", err=True)
    if documents["ok"]:
        click.echo(f"Documents match their entries: {documents['documents_checked']} posted documents checked.")
    else:
        failed = True
        click.echo(f"Documents NOT matching the ledger: {documents['problem_count']}.", err=True)
        for problem in documents["problems"]:
            click.echo(f"  {problem['document_type']} {problem['number'] or ''} (id {problem['document_id']}): "
                       f"{problem['reason']}", err=True)
        if documents["problem_count"] > len(documents["problems"]):
            click.echo(f"  ... and {documents['problem_count'] - len(documents['problems'])} more.", err=True)
    if failed:
        raise SystemExit(1)


@ledger.command("anchor")
@click.option("--key-unkeyed-chain", is_flag=True,
              help="Key a chain whose entries were posted without a ledger key (KONTOR_LEDGER_KEY empty), at its "
                   "last entry. Only for a ledger run without a key on purpose: on a keyed ledger, a missing anchor "
                   "means someone removed it.")
def anchor(key_unkeyed_chain):
    """Print the chain's head signed with the ledger key (keep the line elsewhere; `ledger verify --anchor LINE`
    checks it). An empty chain with no anchor is keyed first."""
    from core.errors import DomainError
    try:
        if chain.ensure_anchor(key_entries=key_unkeyed_chain):
            db.session.commit()
            click.echo("The chain is now keyed from its last entry.", err=True)
        else:
            db.session.rollback()
        click.echo(chain.head_line())
    except DomainError as exc:
        db.session.rollback()
        click.echo(f"Error: {exc.message}", err=True)
        raise SystemExit(1) from None
