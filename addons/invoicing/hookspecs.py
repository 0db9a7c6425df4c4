"""The hooks invoicing emits. Each is called with keywords, inside the transaction of the change it reports:
implementations may add and flush rows, never commit; raising aborts the whole change (nothing is kept)."""
import pluggy

hookspec = pluggy.HookspecMarker("kontor")


@hookspec
def invoicing_invoice_posted(invoice):
    """``invoice`` (an invoice or a credit note: see ``invoice.type``) moved draft -> posted: number, date and
    totals are final. Called before any settlement the posting causes (a credit note settling its invoice,
    customer credit applied). Raising aborts the posting: the invoice stays draft and its number is not used."""


@hookspec
def invoicing_invoices_posted(invoices):
    """The batch form of ``invoicing_invoice_posted``, for posting thousands at once (invoicing.batch).

    ``invoices`` is a list of ``invoicing.batch.PostedInvoice`` snapshots (plain read-only records, NOT ORM
    objects): id, type (always ``"invoice"``: credit notes are posted one by one), number, partner_id,
    invoice_date, due_date, currency, amounts, origin_type/origin_id, redraft_of_id, and ``lines``
    (``PostedLine``: id, product_id, tax_id, quantity, amounts, origin_type/origin_id), in number order. Their
    rows are already posted in the database, inside the current transaction.

    A plugin that implements this hook is NOT called through ``invoicing_invoice_posted`` for these invoices
    (plugins that implement only the single hook still are, once per invoice, after this one). It must do for
    every invoice exactly what its ``invoicing_invoice_posted`` does, with set-based statements (Core
    ``insert``/``update``, executemany), never commit, and must not rely on ORM objects of these invoices being
    fresh. Raising a ``DomainError`` aborts the whole chunk: it is rolled back (numbers included) and posted
    again one invoice at a time through ``invoicing_invoice_posted``, so the refusing invoice is reported and
    the others post."""


@hookspec
def invoicing_invoice_settled(invoice, settlement):
    """``settlement`` (an ``invoicing.models.Settlement``: kind payment | credit_note | credit, amount, source_type,
    source_id) reduced ``invoice.amount_due``. For kind ``credit`` the source is where the credit came from
    (the credit note or the payment). ``invoice`` amounts are already updated."""


@hookspec
def invoicing_credit_created(credit):
    """``credit`` (``CustomerCredit``) is new money the customer has with us (credit note surplus, overpayment)."""


@hookspec
def invoicing_credit_refunded(credit, amount, refund_type, refund_id):
    """``amount`` of ``credit`` was paid back to the customer by ``refund_type``/``refund_id`` (a refund payment)."""


@hookspec
def invoicing_invoice_cancelled(invoice, reason):
    """A draft ``invoice`` was closed without a number: ``reason`` is ``"invoiced_externally"``. The origin
    (``invoice.origin_type``/``origin_id``) should count as invoiced."""


@hookspec
def invoicing_draft_deleted(invoice, cancel_origin):
    """A draft ``invoice`` is about to be deleted (its lines still readable). Release what it billed; when
    ``cancel_origin`` is true, cancel the origin (``invoice.origin_type``/``origin_id``) too."""


@hookspec
def invoicing_lines_credited(credit_note):
    """A posted ``credit_note`` gave back the lines it credits (``line.credited_line_id`` and ``line.quantity``).
    ``credit_note.work`` says what becomes of the work behind them (invoicing.credit_notes.WORK): ``"billed"``
    (stays billed: nothing to do), ``"bill_again"`` (origins that bill per line make the credited quantities
    billable again), ``"cancel_order"`` (a whole credit: the origin is cancelled), ``"redraft"`` (credit and
    re-draft: the credited quantities are billed again by the re-draft made next, as with "bill_again")."""


@hookspec
def invoicing_invoice_actions(invoice, user):
    """Buttons other addons add to ``invoice``'s page for ``user``: a list of ``invoicing.hooks.Action``
    (label, url, method "get"/"post", style "primary"/""/"danger", confirm text or None). No queries needed."""


@hookspec
def invoicing_invoice_panels(invoice, user):
    """Sections other addons add below ``invoice``'s lines: a list of ``markupsafe.Markup`` (render a template
    with ``flask.render_template``; everything user-typed escaped). May query what the panel shows."""


@hookspec
def invoicing_email_links(invoice):
    """Extra links for the email that sends ``invoice``: a list of ``(label, url)`` pairs, printed below the
    message in the text and HTML parts. Called while the email is built, inside the sending request: an
    implementation may add and flush rows (e.g. a revocable link), never commit."""
