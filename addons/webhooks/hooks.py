"""webhooks' hook implementations: each event the other addons emit becomes outbox rows in the same transaction."""
from __future__ import annotations

from core.hookspecs import hookimpl
from core.kernel import MenuItem
from core.security import can

from . import services


def _money(value) -> str:
    return f"{value:.2f}"


def invoice_data(invoice) -> dict:
    """An invoice as webhooks send it; also takes invoicing.batch.PostedInvoice snapshots, which are told about
    right at posting, before anything settles them (so due = total, not paid)."""
    return {"id": invoice.id, "type": invoice.type, "number": invoice.number, "partner_id": invoice.partner_id,
            "invoice_date": invoice.invoice_date, "due_date": invoice.due_date, "currency": invoice.currency,
            "amount_untaxed": _money(invoice.amount_untaxed), "amount_tax": _money(invoice.amount_tax),
            "amount_total": _money(invoice.amount_total),
            "amount_due": _money(getattr(invoice, "amount_due", invoice.amount_total)),
            "payment_state": getattr(invoice, "payment_state", "not_paid"),
            "credited_invoice_id": invoice.credited_invoice_id,
            "origin": {"type": invoice.origin_type, "id": invoice.origin_id} if invoice.origin_type else None}


def payment_data(payment) -> dict:
    return {"id": payment.id, "partner_id": payment.partner_id, "direction": payment.direction,
            "amount": _money(payment.amount), "date": payment.date, "method": payment.method_code,
            "reference": payment.reference}


@hookimpl
def kontor_menu_items(user):
    return [MenuItem("Webhooks", "webhooks.endpoints", order=90)] if can(user, "webhooks.manage") else []


@hookimpl
def invoicing_invoice_posted(invoice):
    event = "credit_note.posted" if invoice.type == "credit_note" else "invoice.posted"
    services.enqueue(event, invoice_data(invoice))


@hookimpl
def invoicing_invoices_posted(invoices):
    """The batch form (a chunk of invoices posted at once): one endpoint query for the whole chunk."""
    services.enqueue_many("invoice.posted", [invoice_data(i) for i in invoices])


@hookimpl
def invoicing_invoice_settled(invoice, settlement):
    if invoice.type == "invoice" and invoice.amount_due <= 0:
        services.enqueue("invoice.paid", {**invoice_data(invoice), "settled_by": {
            "kind": settlement.kind, "source_type": settlement.source_type, "source_id": settlement.source_id,
            "amount": _money(settlement.amount)}})


@hookimpl
def payments_payment_registered(payment):
    services.enqueue("payment.registered", payment_data(payment))


@hookimpl
def payments_refund_made(payment):
    services.enqueue("refund.made", payment_data(payment))


@hookimpl
def field_service_order_done(order):
    services.enqueue("service_order.done", {"id": order.id, "number": order.number, "partner_id": order.partner_id,
                                            "technician_id": order.technician_id, "state": order.state,
                                            "done_at": order.done_at, "report": order.report})
