"""The hooks payments emits. Each is called with keywords, inside the transaction of the change it reports:
implementations may add and flush rows, never commit; raising aborts the whole change (nothing is kept)."""
import pluggy

hookspec = pluggy.HookspecMarker("kontor")


@hookspec
def payments_payment_registered(payment):
    """An inbound ``payment`` (``payments.models.Payment``) was received: its row is flushed and ``partner_id``,
    ``amount``, ``date``, ``method_code`` (see ``payment.method.journal_code``: "BNK" or "CSH") and ``reference``
    are final. Called BEFORE the payment settles its invoices: the ``invoicing_invoice_settled`` hooks (source_type
    "payment", source_id ``payment.id``) and, for what is left over, ``invoicing_credit_created`` follow in the same
    transaction; ``payment.allocations`` and ``payment.unallocated`` are not known yet. An implementation may set
    ``payment.journal_entry_id``. Raising aborts the payment (nothing is kept)."""


@hookspec
def payments_refund_made(payment):
    """An outbound ``payment`` (direction "outbound") pays ``payment.amount`` of the customer's available credit
    back; its row is flushed, amount/partner/method/date final, and the credit was checked to be enough. Called
    BEFORE invoicing.services.refund_credit() uses the credit, so the ``invoicing_credit_refunded`` hooks (refund_type
    "payment", refund_id ``payment.id``) follow in the same transaction. An implementation may set
    ``payment.journal_entry_id``. Raising aborts the refund (nothing is kept)."""
