"""API schemas (marshmallow) for payments, refunds and payment methods (docs/api.md, "Payments")."""
from __future__ import annotations

import marshmallow as ma

from core.api import DecimalString, ListArgs, Money, list_schema

from .models import DIRECTIONS


class Amount(DecimalString):
    """Money in: a decimal string or an integer, never rounded quietly (services refuse more than 2 decimals)."""


class AllocationSchema(ma.Schema):
    invoice_id = ma.fields.Integer(required=True, strict=True)
    amount = Amount(required=True)


class AllocationOut(ma.Schema):
    invoice_id = ma.fields.Integer()
    amount = Money()


class PaymentSchema(ma.Schema):
    """What a payment looks like (out)."""
    id = ma.fields.Integer()
    partner_id = ma.fields.Integer()
    direction = ma.fields.String()
    amount = Money()
    date = ma.fields.Date()
    method = ma.fields.String(attribute="method_code")
    reference = ma.fields.String()
    allocations = ma.fields.List(ma.fields.Nested(AllocationOut))
    unallocated = Money()
    journal_entry_id = ma.fields.Integer(allow_none=True)


class InvoicePaymentIn(ma.Schema):
    """``POST /invoices/{id}/payments``."""
    amount = Amount(required=True)
    date = ma.fields.Date(load_default=None, allow_none=True)
    method = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=40))
    reference = ma.fields.String(load_default="", validate=ma.validate.Length(max=200))


class RefundIn(InvoicePaymentIn):
    """``POST /partners/{id}/refunds``."""


class PaymentIn(InvoicePaymentIn):
    """``POST /payments``."""
    partner_id = ma.fields.Integer(required=True, strict=True)
    direction = ma.fields.String(load_default="inbound", validate=ma.validate.OneOf(DIRECTIONS))
    allocations = ma.fields.List(ma.fields.Nested(AllocationSchema), load_default=None, allow_none=True)


class PaymentListArgs(ListArgs):
    partner_id = ma.fields.Integer()
    method = ma.fields.String(validate=ma.validate.Length(max=40))
    direction = ma.fields.String(validate=ma.validate.OneOf(DIRECTIONS))
    date_from = ma.fields.Date()
    date_to = ma.fields.Date()
    invoice_id = ma.fields.Integer()
    q = ma.fields.String(validate=ma.validate.Length(max=200))


class MethodSchema(ma.Schema):
    code = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=40))
    name = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=100))
    journal = ma.fields.String(attribute="journal_code", data_key="journal", load_default="BNK",
                               validate=ma.validate.OneOf(["BNK", "CSH"]))
    active = ma.fields.Boolean(dump_only=True)


PaymentList = list_schema(PaymentSchema, "PaymentList")
MethodList = list_schema(MethodSchema, "MethodList")
