"""``python run.py service-orders invoice --all-done [--post] [--group-by order|partner]``."""
from __future__ import annotations

import click

from core.extensions import db
from core.money import format_money


@click.group("service-orders")
def service_orders():
    """Service orders."""


@service_orders.command("invoice")
@click.option("--all-done", is_flag=True, help="Invoice every Done order not yet invoiced.")
@click.option("--id", "ids", multiple=True, type=int, help="An order id (repeatable).")
@click.option("--post", is_flag=True, help="Post the invoices at once.")
@click.option("--group-by", type=click.Choice(["order", "partner"]), default="order", show_default=True,
              help="One invoice per order, or one per customer.")
@click.option("--chunk", default=1000, show_default=True, type=click.IntRange(1, 100_000),
              help="Commit every N invoices (memory stays flat).")
def invoice(all_done, ids, post, group_by, chunk):
    """Invoice Done service orders: one draft per order or per customer, optionally posted."""
    import gc

    from core.app import freeze_startup_objects

    from . import billing
    if not all_done and not ids:
        raise click.UsageError("Give --all-done or at least one --id.")
    order_ids = billing.done_order_ids() if all_done else list(ids)
    if not order_ids:
        click.echo("No Done service orders to invoice.")
        return
    # The batch allocates millions of short-lived objects, and each full collection also walked the ~150,000
    # objects of start-up: 10,000 orders on PostgreSQL took 5.0 s of CPU in this process, 3.9-4.1 s with them
    # frozen (the same as with the collector off). Unfrozen at the end for a caller that goes on (tests).
    freeze_startup_objects()
    try:
        with click.progressbar(length=len(order_ids), label="Invoicing") as bar:
            result = billing.invoice_in_chunks(order_ids, group_by, post, commit=db.session.commit,
                                               progress=bar.update, size=chunk)
    finally:
        gc.unfreeze()
    for refused in result.refused[:20]:
        click.echo(f"  refused {refused['number'] or refused['order_id']}: {refused['message']}")
    if len(result.refused) > 20:
        click.echo(f"  ... and {len(result.refused) - 20} more refused")
    click.echo(f"{len(result.invoices)} invoices ({result.posted} posted), total {format_money(result.total)}, "
               f"{len(result.refused)} refused.")
