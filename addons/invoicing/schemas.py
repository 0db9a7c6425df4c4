"""API schemas (marshmallow) for taxes, products, invoices and credit notes."""
from __future__ import annotations

import contextvars
from dataclasses import dataclass, field
from decimal import Decimal

import marshmallow as ma
from sqlalchemy import Integer, bindparam, case, cast, func, literal, null, select, union_all
from sqlalchemy.orm import aliased

from core.api import MAX_BATCH, DecimalString, ListArgs, Money, list_schema
from core.extensions import db
from core.money import ZERO

from .models import PRODUCT_TYPES, Invoice, InvoiceLine, Settlement


class TaxSchema(ma.Schema):
    id = ma.fields.Integer(dump_only=True)
    name = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=100))
    rate = DecimalString(required=True, validate=ma.validate.Range(min=0, max=100))
    vat_category = ma.fields.String(load_default=None, allow_none=True, validate=ma.validate.OneOf(["S", "Z", "E"]),
                                    metadata={"description": "EN 16931 VAT category: S standard, Z zero rated, "
                                                             "E exempt (default: S above 0 %, Z at 0 %)"})
    exemption_reason = ma.fields.String(load_default="", validate=ma.validate.Length(max=300),
                                        metadata={"description": "the legal reason of an exempt (E) tax"})

    @ma.post_dump
    def _category(self, data, **_):
        # a tax made before categories: the one its rate gives
        if not data.get("vat_category") and data.get("rate") is not None:
            data["vat_category"] = "S" if Decimal(data["rate"]) > 0 else "Z"
        return data


class ProductSchema(ma.Schema):
    id = ma.fields.Integer(dump_only=True)
    code = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=40))
    name = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=200))
    type = ma.fields.String(load_default="service", validate=ma.validate.OneOf(PRODUCT_TYPES))
    unit = ma.fields.String(load_default="unit", validate=ma.validate.Length(max=20))
    unit_price = Money(required=True, validate=ma.validate.Range(min=0))
    tax_id = ma.fields.Integer(allow_none=True, load_default=None)


class ProductPatchSchema(ProductSchema):
    class Meta:
        partial = True


@dataclass
class Related:
    """What an invoice shows of other rows: its credit notes, its payments, and per line the quantity credited."""
    credit_notes: dict[int, list[int]] = field(default_factory=dict)
    payments: dict[int, set[int]] = field(default_factory=dict)
    credited: dict[int, Decimal] = field(default_factory=dict)


_related: contextvars.ContextVar[Related | None] = contextvars.ContextVar("invoicing_related", default=None)


# Built once (aliases are costly to build, and these run on every invoice the API shows). One statement, three
# kinds of rows: per line, what credit notes that are not cancelled (drafts included) give back of it (as
# credit_notes.quantity_credited, with the same coalesce(sum())); per invoice, its credit notes and its payments.
# The union's column types are the first select's: the quantities and the ids have a column each, so each is read
# by its own type (a quantity is a scaled integer on SQLite, core.money.ExactDecimal; an id is not).
_CREDIT, _NOTE = aliased(InvoiceLine), aliased(Invoice)
_RELATED = union_all(
    select(literal("credited"), InvoiceLine.id, func.coalesce(func.sum(case((_NOTE.state != "cancelled",
                                                                              _CREDIT.quantity))), 0),
           cast(null(), Integer))
    .outerjoin(_CREDIT, _CREDIT.credited_line_id == InvoiceLine.id)
    .outerjoin(_NOTE, _NOTE.id == _CREDIT.invoice_id)
    .where(InvoiceLine.id.in_(bindparam("line_ids", expanding=True))).group_by(InvoiceLine.id),
    select(literal("credit_note"), Invoice.credited_invoice_id, null(), Invoice.id)
    .where(Invoice.credited_invoice_id.in_(bindparam("ids", expanding=True))),
    select(literal("payment"), Settlement.invoice_id, null(), Settlement.source_id)
    .where(Settlement.invoice_id.in_(bindparam("ids", expanding=True)), Settlement.kind == "payment"))


def read_related(invoices: list[Invoice]) -> Related:
    """One query for any number of invoices and lines (not one per field, per invoice and per line)."""
    related = Related()
    ids = [i.id for i in invoices]
    if not ids:
        return related
    line_ids = [l.id for i in invoices if i.type == "invoice" for l in i.lines]
    for kind, key, quantity, other_id in db.session.execute(_RELATED, {"ids": ids, "line_ids": line_ids}):
        if kind == "credited":
            related.credited[key] = quantity
        elif kind == "credit_note":
            related.credit_notes.setdefault(key, []).append(other_id)
        else:
            related.payments.setdefault(key, set()).add(other_id)
    return related


class LineSchema(ma.Schema):
    id = ma.fields.Integer(allow_none=True)
    product_id = ma.fields.Integer(allow_none=True)
    description = ma.fields.String(validate=ma.validate.Length(max=2000))
    quantity = DecimalString(validate=ma.validate.Range(min=0, min_inclusive=False))
    unit_price = Money()
    tax_id = ma.fields.Integer(allow_none=True)
    amount_untaxed = Money(dump_only=True)
    amount_tax = Money(dump_only=True)
    amount_total = Money(dump_only=True)
    credited_line_id = ma.fields.Integer(dump_only=True, allow_none=True)
    amount_off_line_id = ma.fields.Integer(dump_only=True, allow_none=True)
    origin_type = ma.fields.String(dump_only=True, allow_none=True)
    origin_id = ma.fields.Integer(dump_only=True, allow_none=True)
    quantity_credited = DecimalString(dump_only=True)

    def get_attribute(self, obj, attr, default):
        if attr == "quantity_credited":
            related = _related.get()
            if related is not None and obj.id is not None:
                return related.credited.get(obj.id, ZERO)  # not read: a credit note's line (credits nothing)
        return super().get_attribute(obj, attr, default)


class InvoiceSchema(ma.Schema):
    id = ma.fields.Integer(dump_only=True)
    type = ma.fields.String(dump_only=True)
    number = ma.fields.String(dump_only=True, allow_none=True)
    state = ma.fields.String(dump_only=True)
    payment_state = ma.fields.String(dump_only=True)
    partner_id = ma.fields.Integer(required=True)
    invoice_date = ma.fields.Date(load_default=None)
    due_date = ma.fields.Date(load_default=None)
    payment_terms_days = ma.fields.Integer(load_default=None, validate=ma.validate.Range(min=0, max=3650))
    currency = ma.fields.String(dump_only=True)
    notes = ma.fields.String(load_default="", validate=ma.validate.Length(max=5000))
    reason = ma.fields.String(dump_only=True)
    # credit notes of invoices: billed | bill_again | cancel_order, or redraft (made by "credit and re-draft")
    work = ma.fields.String(dump_only=True, allow_none=True)
    lines = ma.fields.List(ma.fields.Nested(LineSchema), load_default=list)
    amount_untaxed = Money(dump_only=True)
    amount_tax = Money(dump_only=True)
    amount_total = Money(dump_only=True)
    amount_paid = Money(dump_only=True)
    amount_credited = Money(dump_only=True)
    amount_due = Money(dump_only=True)
    credit_applied = Money(dump_only=True)
    origin = ma.fields.Method("dump_origin", dump_only=True, allow_none=True)
    credited_invoice_id = ma.fields.Integer(dump_only=True, allow_none=True)
    credit_note_ids = ma.fields.Method("dump_credit_notes", dump_only=True)
    payment_ids = ma.fields.Method("dump_payments", dump_only=True)
    journal_entry_id = ma.fields.Integer(dump_only=True, allow_none=True)
    redraft_of_id = ma.fields.Integer(dump_only=True, allow_none=True)
    sent_at = ma.fields.DateTime(dump_only=True, allow_none=True)
    is_overdue = ma.fields.Boolean(dump_only=True)

    def dump(self, obj, *, many: bool | None = None):
        """Read the rows the invoices show besides their own (read_related) once, then dump."""
        many = self.many if many is None else many
        if many:
            obj = list(obj)  # read twice: by read_related, then by the dump
        token = _related.set(read_related(obj if many else [obj]))
        try:
            return super().dump(obj, many=many)
        finally:
            _related.reset(token)

    def dump_origin(self, invoice: Invoice):
        return {"type": invoice.origin_type, "id": invoice.origin_id} if invoice.origin_type else None

    def dump_credit_notes(self, invoice: Invoice):
        return sorted(_related.get().credit_notes.get(invoice.id, []))

    def dump_payments(self, invoice: Invoice):
        return sorted(_related.get().payments.get(invoice.id, set()))


class InvoicePatchSchema(ma.Schema):
    partner_id = ma.fields.Integer()
    invoice_date = ma.fields.Date()
    due_date = ma.fields.Date()
    payment_terms_days = ma.fields.Integer(validate=ma.validate.Range(min=0, max=3650))
    notes = ma.fields.String(validate=ma.validate.Length(max=5000))
    lines = ma.fields.List(ma.fields.Nested(LineSchema))
    work = ma.fields.String(validate=ma.validate.OneOf(["billed", "bill_again", "cancel_order"]))  # credit notes


STATUSES = ["draft", "posted", "cancelled", "not_paid", "partial", "paid", "credited", "open", "overdue"]


class InvoiceListArgs(ListArgs):
    status = ma.fields.String(validate=ma.validate.OneOf(STATUSES))
    state = ma.fields.String(validate=ma.validate.OneOf(["draft", "posted", "cancelled"]))
    payment_state = ma.fields.String(validate=ma.validate.OneOf(["not_paid", "partial", "paid", "credited"]))
    type = ma.fields.String(validate=ma.validate.OneOf(["invoice", "credit_note"]))
    partner_id = ma.fields.Integer()
    date_from = ma.fields.Date()
    date_to = ma.fields.Date()
    overdue = ma.fields.Boolean()
    q = ma.fields.String(validate=ma.validate.Length(max=200))
    sort = ma.fields.String(load_default="-date")


class BalanceSchema(ma.Schema):
    receivable = Money()
    credit_available = Money()


class ApplyCreditSchema(ma.Schema):
    amount = Money(load_default=None, allow_none=True, validate=ma.validate.Range(min=0, min_inclusive=False))


class CreditLineSchema(ma.Schema):
    line_id = ma.fields.Integer(required=True)
    quantity = DecimalString(load_default=None, allow_none=True)
    amount = Money(load_default=None, allow_none=True)


class CreditNoteRequestSchema(ma.Schema):
    lines = ma.fields.List(ma.fields.Nested(CreditLineSchema), load_default=list)
    mode = ma.fields.String(load_default="draft", validate=ma.validate.OneOf(["draft", "cancel", "modify"]))
    reason = ma.fields.String(load_default="", validate=ma.validate.Length(max=2000))
    date = ma.fields.Date(load_default=None)
    work = ma.fields.String(load_default=None, validate=ma.validate.OneOf(["billed", "bill_again", "cancel_order"]))


class CreditNoteResultSchema(InvoiceSchema):
    mode = ma.fields.String(dump_only=True)
    new_draft_id = ma.fields.Integer(dump_only=True, allow_none=True)


class PostManySchema(ma.Schema):
    ids = ma.fields.List(ma.fields.Integer(), required=True, validate=ma.validate.Length(min=1, max=MAX_BATCH))


class RefusedSchema(ma.Schema):
    id = ma.fields.Integer()
    message = ma.fields.String()


class PostManyResultSchema(ma.Schema):
    posted = ma.fields.List(ma.fields.Integer())
    refused = ma.fields.List(ma.fields.Nested(RefusedSchema))


class SendSchema(ma.Schema):
    to = ma.fields.Email(load_default=None, allow_none=True)


class DeleteArgs(ma.Schema):
    cancel_origin = ma.fields.Boolean(load_default=False)


TaxList = list_schema(TaxSchema, "TaxList")
ProductList = list_schema(ProductSchema, "ProductList")
InvoiceList = list_schema(InvoiceSchema, "InvoiceList")
