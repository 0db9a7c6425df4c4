"""From the finished job to the invoice: Create invoice, batch invoicing, and what invoicing tells us back.

What a user can expect (the rules below implement exactly this):

- **Create invoice** on a Done order makes a draft: one line per time entry (billable hours × the labour product's
  price, "Labour <date> <technician>: <description>") and one per part (billable quantity × its unit price). The
  draft's origin is the order and each line's origin is its time entry or part. The order keeps the draft's id.
- Each hour and part is billed once: a draft already *reserves* what it bills (``invoiced_qty``), so a second
  Create invoice while the draft exists answers 409 ``already_invoiced`` (two concurrent clicks too: the order row
  is locked first).
- Posting the draft makes the order **Invoiced**; "Invoice externally" does the same.
- Deleting the draft gives everything back: the order is **Done** again and billable, or **Cancelled** when the
  user ticked "Cancel the service order too".
- A posted credit note that gives back quantities (whole invoice, or some lines or part of their quantity) makes
  those quantities billable again. When everything billed on the order was given back, the order is Done again
  with no invoice, ready for a new Create invoice. When only part was given back the order stays Invoiced, and
  Create invoice bills just what was given back (a supplementary invoice). A credit note for an *amount* off a
  line (a price reduction, unit price different from the line's) gives back no hours or parts: nothing becomes
  billable again.
- "Credit and re-draft" credits everything (so the order is Done again), then invoicing copies the invoice into a
  new draft with the same origins, with no hook for that copy. We handle it lazily: until the order is touched
  again its ``invoice_id`` may still name the credited original; the next Create invoice (or any hook on that
  draft) finds the copy, re-counts what it bills and links the order to it instead of making a second draft.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Callable, Iterable

from sqlalchemy import and_, func, or_, select, type_coerce
from sqlalchemy.orm import aliased

from core import audit
from core.errors import DomainError, NotFound
from core.extensions import db
from core.models import User
from core.money import QUANTITY_TIMES_MONEY, ZERO

from addons.invoicing import services as invoicing
from addons.invoicing.models import Invoice, InvoiceLine, Product

from .models import PART_ORIGIN, TIME_ENTRY_ORIGIN, Part, ServiceOrder, TimeEntry
from .services import TRANSITIONS, get_order, transition

ORIGIN = "service_order"


# -- building the lines ------------------------------------------------------------------------------------------
def _labour_label(entry: TimeEntry, technicians: dict[int, str]) -> str:
    who = technicians.get(entry.technician_id or 0, "")
    text = f"Labour {entry.date.isoformat()} {who}".rstrip()
    return f"{text}: {entry.description}" if entry.description else text


def invoice_lines(order: ServiceOrder, products: dict[int, Product], technicians: dict[int, str]) -> list[dict]:
    """The invoice lines for what is still billable on ``order`` (no queries once the maps are loaded)."""
    lines = []
    for entry in order.time_entries:
        quantity = entry.billable
        if quantity > 0:
            product = products[entry.product_id]
            lines.append({"product_id": product.id, "description": _labour_label(entry, technicians),
                          "quantity": quantity, "unit_price": product.unit_price, "tax_id": product.tax_id,
                          "origin_type": TIME_ENTRY_ORIGIN, "origin_id": entry.id})
    for part in order.parts:
        quantity = part.billable
        if quantity > 0:
            product = products[part.product_id]
            label = f"{product.name}: {part.description}" if part.description else product.name
            lines.append({"product_id": product.id, "description": label, "quantity": quantity,
                          "unit_price": part.unit_price, "tax_id": product.tax_id,
                          "origin_type": PART_ORIGIN, "origin_id": part.id})
    return lines


def _maps(orders: Iterable[ServiceOrder]) -> tuple[dict[int, Product], dict[int, str]]:
    """Products and technicians' names the orders use, in two queries."""
    product_ids, user_ids = set(), set()
    for order in orders:
        product_ids.update(e.product_id for e in order.time_entries)
        product_ids.update(p.product_id for p in order.parts)
        user_ids.update(e.technician_id for e in order.time_entries if e.technician_id)
    products = {p.id: p for p in db.session.scalars(select(Product).where(Product.id.in_(product_ids)))} \
        if product_ids else {}
    names = dict(db.session.execute(select(User.id, func.coalesce(func.nullif(User.name, ""), User.login))
                                    .where(User.id.in_(user_ids))).all()) if user_ids else {}
    return products, names


def _reserve(order: ServiceOrder, invoice: Invoice) -> None:
    for entry in order.time_entries:
        entry.invoiced_qty = entry.hours
    for part in order.parts:
        part.invoiced_qty = part.quantity
    order.invoice_id = invoice.id


# -- one order -----------------------------------------------------------------------------------------------------
def _check_invoiceable(order: ServiceOrder) -> None:
    if order.state == "cancelled":
        raise DomainError(f"Service order {order.number} is cancelled; a cancelled order is not invoiced.",
                          code="order_cancelled")
    if order.state not in ("done", "invoiced"):
        raise DomainError(f"Service order {order.number} is {order.state.replace('_', ' ')}; mark it done "
                          "before invoicing it.", code="order_not_done")


def create_invoice_for_order(order_id: int, user=None, invoice_date: date | None = None) -> Invoice:
    """Create invoice: a draft for what is billable on a Done order (409 already_invoiced if nothing is)."""
    order = get_order(order_id, user, lock=True)  # two concurrent clicks: the second waits, then sees the draft
    _check_invoiceable(order)
    recount(order)
    draft = open_draft(order.id)
    if draft is not None:
        order.invoice_id = draft.id
        db.session.flush()
        raise DomainError(f"Service order {order.number} is already on a draft invoice (#{draft.id}); review "
                          "and post that draft.", code="already_invoiced")
    products, names = _maps([order])
    lines = invoice_lines(order, products, names)
    if not lines:
        raise DomainError(f"Service order {order.number} is already invoiced: nothing is left to bill.",
                          code="already_invoiced")
    invoice = invoicing.create_invoice(order.partner_id, lines=lines, invoice_date=invoice_date,
                                       origin=(ORIGIN, order.id))
    _reserve(order, invoice)
    db.session.flush()
    audit.record(order, "invoice_created", f"draft #{invoice.id}")
    return invoice


# -- many orders -------------------------------------------------------------------------------------------------
@dataclass
class BatchResult:
    invoices: list[Invoice] = field(default_factory=list)
    refused: list[dict] = field(default_factory=list)  # {"order_id", "number", "message"}
    posted: int = 0

    @property
    def total(self) -> Decimal:
        return sum((i.amount_total for i in self.invoices), ZERO)


def done_order_ids(partner_id: int | None = None) -> list[int]:
    query = select(ServiceOrder.id).where(ServiceOrder.state == "done", ServiceOrder.invoice_id.is_(None))
    if partner_id:
        query = query.where(ServiceOrder.partner_id == partner_id)
    return list(db.session.scalars(query.order_by(ServiceOrder.partner_id, ServiceOrder.id)))


def invoice_orders(ids: list[int], group_by: str = "order", post: bool = False,
                   invoice_date: date | None = None, result: BatchResult | None = None,
                   light: bool = False) -> BatchResult:
    """Batch invoicing: one draft per order, or per customer, with the orders that were refused and why.
    The drafts are written set-based (batch.create_drafts); ``post`` posts them through invoicing's batch path
    (invoicing.batch.post_ids: all or nothing per invoice). ``light``: the result keeps only (id, total) of
    each invoice instead of loading them (the command line)."""
    result = result or BatchResult()
    wanted = list(dict.fromkeys(ids))
    from . import batch
    orders = batch.load_orders(wanted)
    found = {o.id for o in orders}
    for missing in (i for i in wanted if i not in found):
        result.refused.append({"order_id": missing, "number": None, "message": f"There is no service order {missing}."})
    drafts = set(db.session.scalars(select(Invoice.origin_id).where(
        Invoice.origin_type == ORIGIN, Invoice.origin_id.in_(found), Invoice.state == "draft",
        Invoice.type == "invoice"))) if found else set()
    products, names = _maps(orders)
    groups: dict[object, list[ServiceOrder]] = defaultdict(list)
    for order in orders:
        try:
            _check_invoiceable(order)
            if order.invoice_id is not None or order.id in drafts:
                raise DomainError(f"Service order {order.number} is already on a draft invoice.")
            if order.state == "invoiced":
                raise DomainError(f"Service order {order.number} is already invoiced.")
        except DomainError as exc:
            result.refused.append({"order_id": order.id, "number": order.number, "message": exc.message})
            continue
        groups[order.partner_id if group_by == "partner" else order.id].append(order)
    from addons.invoicing import batch as invoicing_batch
    members_of = list(groups.values())
    # Posted at once: the orders are written once, by the posting (invoiced, naming the invoice); only those whose
    # draft stays unposted are linked to it afterwards.
    out_of_range: list[tuple] = []
    made = batch.create_drafts(members_of, lambda ms: [l for o in ms for l in invoice_lines(o, products, names)],
                               invoice_date, link_orders=not post, refused=out_of_range)
    for members, message in out_of_range:
        for order in members:
            result.refused.append({"order_id": order.id, "number": order.number,
                                   "message": f"Service order {order.number}: {message}"})
    billed = {id(ms[0]) for _, _, ms in made} | {id(ms[0]) for ms, _ in out_of_range}
    for members in members_of:
        if id(members[0]) not in billed:
            for order in members:
                result.refused.append({"order_id": order.id, "number": order.number,
                                       "message": f"Service order {order.number} has nothing left to bill."})
    made_order_ids = [o.id for _, _, ms in made for o in ms]
    audit.record_many("service_order", made_order_ids, "invoice_created", "batch")
    if post and made:
        _, refused = invoicing_batch.post_ids([i for i, _, _ in made])
        unposted = {invoice_id for invoice_id, _ in refused}
        batch.link_orders_to([draft for draft in made if draft[0] in unposted])
        members_by_invoice = {i: ms for i, _, ms in made}
        for invoice_id, message in refused:
            for order in members_by_invoice.get(invoice_id, []):
                result.refused.append({"order_id": order.id, "number": order.number,
                                       "message": f"Draft #{invoice_id} was made but not posted: {message}"})
        result.posted += len(made) - len(refused)
    batch.expire_copies(made_order_ids)  # written set-based: ORM copies the session holds are stale
    if light:
        result.invoices.extend(_Done(i, total) for i, total, _ in made)
    else:
        loaded = {i.id: i for i in db.session.execute(
            select(Invoice).where(Invoice.id.in_([i for i, _, _ in made]))
            .execution_options(populate_existing=True)).scalars()} if made else {}
        result.invoices.extend(loaded[i] for i, _, _ in made)
    return result


def chunks_by_customer(ids: list[int], group_by: str, size: int = 500) -> list[list[int]]:
    """Split order ids (sorted by customer) into chunks of about ``size`` invoices, never splitting a customer's
    orders when they make one invoice together."""
    if group_by != "partner":
        return [ids[i:i + size] for i in range(0, len(ids), size)]
    rows = db.session.execute(select(ServiceOrder.id, ServiceOrder.partner_id).where(ServiceOrder.id.in_(ids))
                              .order_by(ServiceOrder.partner_id, ServiceOrder.id)).all() if ids else []
    chunks, current, partners, last = [], [], 0, None
    for order_id, partner_id in rows:
        if partner_id != last:
            if partners >= size:
                chunks.append(current)
                current, partners = [], 0
            partners += 1
            last = partner_id
        current.append(order_id)
    if current:
        chunks.append(current)
    return chunks


def invoice_in_chunks(ids: list[int], group_by: str, post: bool, commit: Callable[[], None],
                      progress: Callable[[int], None] | None = None, size: int = 1000) -> BatchResult:
    """For the command line: commit every ~``size`` invoices so memory stays flat (never inside an invoice)."""
    result = BatchResult()
    for chunk in chunks_by_customer(ids, group_by, size):
        invoice_orders(chunk, group_by=group_by, post=post, result=result, light=True)
        commit()
        db.session.expunge_all()
        if progress:
            progress(len(chunk))
    return result


@dataclass
class _Done:
    """What the CLI keeps of an invoice after its chunk was committed and the session emptied."""
    id: int
    amount_total: Decimal


# -- what invoicing tells us -------------------------------------------------------------------------------------
def open_draft(order_id: int, exclude: int | None = None) -> Invoice | None:
    query = select(Invoice).where(Invoice.origin_type == ORIGIN, Invoice.origin_id == order_id,
                                  Invoice.type == "invoice", Invoice.state == "draft")
    if exclude:
        query = query.where(Invoice.id != exclude)
    return db.session.scalars(query.order_by(Invoice.id.desc()).limit(1)).first()


def recount(order: ServiceOrder, exclude_invoice: int | None = None) -> None:
    """Re-count ``invoiced_qty`` of the order's hours and parts from the invoices themselves: billed on drafts,
    posted or externally invoiced invoices, less what posted credit notes gave back to be billed again (quantity
    credits with ``work`` "bill_again"; "billed" leaves the work billed, "cancel_order" cancels the order)."""
    keys = [(TIME_ENTRY_ORIGIN, e.id) for e in order.time_entries] + [(PART_ORIGIN, p.id) for p in order.parts]
    if not keys:
        return
    match = or_(*[and_(InvoiceLine.origin_type == t, InvoiceLine.origin_id.in_([i for tt, i in keys if tt == t]))
                  for t in {t for t, _ in keys}])
    billed_q = (select(InvoiceLine.origin_type, InvoiceLine.origin_id, func.sum(InvoiceLine.quantity))
                .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
                .where(match, Invoice.type == "invoice", Invoice.state.in_(("draft", "posted", "cancelled")))
                .group_by(InvoiceLine.origin_type, InvoiceLine.origin_id))
    if exclude_invoice:
        billed_q = billed_q.where(Invoice.id != exclude_invoice)
    billed = {(t, i): q for t, i, q in db.session.execute(billed_q)}
    credit_line = aliased(InvoiceLine)
    credit_note = aliased(Invoice)
    credited_q = (select(InvoiceLine.origin_type, InvoiceLine.origin_id, func.sum(credit_line.quantity))
                  .select_from(credit_line)
                  .join(credit_note, credit_note.id == credit_line.invoice_id)
                  .join(InvoiceLine, InvoiceLine.id == credit_line.credited_line_id)
                  .where(match, credit_note.type == "credit_note", credit_note.state == "posted",
                         credit_note.work.in_(("bill_again", "redraft")),
                         credit_line.unit_price == InvoiceLine.unit_price)
                  .group_by(InvoiceLine.origin_type, InvoiceLine.origin_id))
    credited = {(t, i): q for t, i, q in db.session.execute(credited_q)}
    for row, origin in [(e, TIME_ENTRY_ORIGIN) for e in order.time_entries] + [(p, PART_ORIGIN) for p in order.parts]:
        key = (origin, row.id)
        row.invoiced_qty = max(ZERO, (billed.get(key) or ZERO) - (credited.get(key) or ZERO))
    db.session.flush()


def _anything_billed(order: ServiceOrder) -> bool:
    return any((r.invoiced_qty or ZERO) > 0 for r in [*order.time_entries, *order.parts])


def _anything_to_bill(order: ServiceOrder) -> bool:
    return any((r.invoiced_qty or ZERO) < q for r, q in [*((e, e.hours) for e in order.time_entries),
                                                          *((p, p.quantity) for p in order.parts)])


def orders_of(invoice: Invoice) -> list[ServiceOrder]:
    """The orders an invoice bills: its origin, or (one invoice per customer) its lines' origins."""
    if invoice.origin_type == ORIGIN and invoice.origin_id:
        order = db.session.get(ServiceOrder, invoice.origin_id)
        return [order] if order is not None else []
    entry_ids = [l.origin_id for l in invoice.lines if l.origin_type == TIME_ENTRY_ORIGIN]
    part_ids = [l.origin_id for l in invoice.lines if l.origin_type == PART_ORIGIN]
    if not entry_ids and not part_ids:
        return []
    ids = set()
    if entry_ids:
        ids.update(db.session.scalars(select(TimeEntry.order_id).where(TimeEntry.id.in_(entry_ids))))
    if part_ids:
        ids.update(db.session.scalars(select(Part.order_id).where(Part.id.in_(part_ids))))
    return list(db.session.scalars(select(ServiceOrder).where(ServiceOrder.id.in_(ids))))


def on_invoice_final(invoice: Invoice) -> None:
    """Posted (or invoiced externally): its orders are invoiced, and name this invoice."""
    if invoice.type != "invoice":
        return
    orders = orders_of(invoice)
    for order in orders:
        if order.state == "done":
            transition(order, "invoiced", TRANSITIONS, "service order")
        if order.state == "invoiced":
            order.invoice_id = invoice.id
            if invoice.redraft_of_id is not None:  # a re-draft copy: it was never counted (no hook at its birth)
                recount(order)
    if orders:
        # Only when it changed an order: a flush here would also send the other hooks' pending rows (the audit
        # lines) apart from the poster's own final flush, one INSERT more on PostgreSQL (where rows of one flush
        # go in one INSERT).
        db.session.flush()


def on_draft_deleted(invoice: Invoice, cancel_origin: bool) -> None:
    """A draft goes away: what it billed is billable again; the order is Done again (or Cancelled)."""
    if invoice.type != "invoice":
        return
    for order in orders_of(invoice):
        recount(order, exclude_invoice=invoice.id)
        if cancel_origin:
            if order.state == "invoiced" or _anything_billed(order):
                raise DomainError(f"Service order {order.number} has a posted invoice; it cannot be cancelled. "
                                  "Delete the draft without cancelling the order.", code="already_invoiced")
            order.invoice_id = None
            transition(order, "cancelled", TRANSITIONS, "service order")
            audit.record(order, "cancelled", f"with draft #{invoice.id}")
            continue
        other = open_draft(order.id, exclude=invoice.id)
        if order.state == "invoiced" and not _anything_billed(order):
            transition(order, "done", TRANSITIONS, "service order")
        if order.state == "done":  # billable again (or on another draft)
            order.invoice_id = other.id if other is not None else None
        else:  # still invoiced (a supplementary draft went away): name the newest invoice kept
            order.invoice_id = other.id if other is not None else _last_final(order.id, invoice.id)
        audit.record(order, "invoice_deleted", f"draft #{invoice.id}")
    db.session.flush()


def _last_final(order_id: int, exclude: int) -> int | None:
    return db.session.scalar(select(Invoice.id).where(
        Invoice.origin_type == ORIGIN, Invoice.origin_id == order_id, Invoice.type == "invoice",
        Invoice.state.in_(("posted", "cancelled")), Invoice.id != exclude).order_by(Invoice.id.desc()).limit(1))


def on_lines_credited(credit_note: Invoice) -> None:
    """A posted credit note gave back quantities. ``work`` "bill_again": they are billable again, and all given
    back → the order is Done; "cancel_order": the order is cancelled; "billed": the work stays billed."""
    credited_ids = [l.credited_line_id for l in credit_note.lines if l.credited_line_id]
    if not credited_ids or credit_note.work not in ("bill_again", "redraft", "cancel_order"):
        return
    originals = list(db.session.scalars(select(InvoiceLine).where(InvoiceLine.id.in_(credited_ids))))
    orders: dict[int, ServiceOrder] = {}
    for invoice_id in {l.invoice_id for l in originals if l.origin_type in (TIME_ENTRY_ORIGIN, PART_ORIGIN)}:
        for order in orders_of(db.session.get(Invoice, invoice_id)):
            orders[order.id] = order
    for order in orders.values():
        if credit_note.work == "cancel_order":
            if order.state in ("done", "invoiced"):
                transition(order, "cancelled", TRANSITIONS, "service order")
                audit.record(order, "cancelled", f"credit note {credit_note.number}")
            continue
        recount(order)
        if order.state == "invoiced" and _anything_to_bill(order):  # docs/api.md: work given back → done again
            transition(order, "done", TRANSITIONS, "service order")
            order.invoice_id = None
            audit.record(order, "credited", f"credit note {credit_note.number}: billable again")
    db.session.flush()


# -- estimates ---------------------------------------------------------------------------------------------------
def to_invoice_summary() -> tuple[int, Decimal]:
    """Done orders not yet on an invoice, and what their billable hours and parts are worth (untaxed)."""
    done = (ServiceOrder.state == "done") & ServiceOrder.invoice_id.is_(None)
    count = db.session.scalar(select(func.count()).select_from(ServiceOrder).where(done)) or 0
    if not count:
        return 0, ZERO
    labour = db.session.scalar(
        select(func.coalesce(func.sum(type_coerce((TimeEntry.hours - TimeEntry.invoiced_qty) * Product.unit_price,
                                                  QUANTITY_TIMES_MONEY)), 0))
        .select_from(TimeEntry).join(ServiceOrder, ServiceOrder.id == TimeEntry.order_id).join(Product, Product.id == TimeEntry.product_id)
        .where(done)) or ZERO
    parts = db.session.scalar(
        select(func.coalesce(func.sum(type_coerce((Part.quantity - Part.invoiced_qty) * Part.unit_price,
                                                  QUANTITY_TIMES_MONEY)), 0))
        .select_from(Part).join(ServiceOrder, ServiceOrder.id == Part.order_id).where(done)) or ZERO
    return count, Decimal(str(labour)) + Decimal(str(parts))


def order_amount(order: ServiceOrder) -> Decimal:
    """Untaxed value of what is still billable on the order (for the back office's review)."""
    total = ZERO
    for entry in order.time_entries:
        total += entry.billable * entry.product.unit_price
    for part in order.parts:
        total += part.billable * part.unit_price
    return total


__all__ = ["create_invoice_for_order", "invoice_orders", "invoice_in_chunks", "recount", "NotFound"]
