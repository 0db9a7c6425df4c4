"""API schemas for service orders. Technicians never see prices: ``FSOrderSchema`` drops them on dump for them."""
from __future__ import annotations

from datetime import timezone

import marshmallow as ma

from core.api import MAX_BATCH, DecimalString, ListArgs, Money, list_schema
from core.security import current_actor

from .models import STATES


def _for_technician() -> bool:
    user = current_actor()
    return user is not None and user.role == "technician"


class Timestamp(ma.fields.DateTime):
    """ISO 8601 with offset out (SQLite hands back naive UTC); naive input is taken as UTC."""

    def _serialize(self, value, attr, obj, **kwargs):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return super()._serialize(value, attr, obj, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        result = super()._deserialize(value, attr, data, **kwargs)
        return result.replace(tzinfo=timezone.utc) if result.tzinfo is None else result


class FSTimeEntrySchema(ma.Schema):
    id = ma.fields.Integer(dump_only=True)
    date = ma.fields.Date(load_default=None)
    hours = DecimalString(required=True)
    product_id = ma.fields.Integer(required=True)
    description = ma.fields.String(load_default="", validate=ma.validate.Length(max=2000))
    technician_id = ma.fields.Integer(load_default=None, allow_none=True)
    invoiced_qty = DecimalString(dump_only=True)


class FSTimeEntryPatchSchema(ma.Schema):
    date = ma.fields.Date()
    hours = DecimalString()
    product_id = ma.fields.Integer()
    description = ma.fields.String(validate=ma.validate.Length(max=2000))
    technician_id = ma.fields.Integer(allow_none=True)


class FSPartSchema(ma.Schema):
    id = ma.fields.Integer(dump_only=True)
    product_id = ma.fields.Integer(required=True)
    quantity = DecimalString(required=True)
    unit_price = Money(load_default=None, allow_none=True)
    description = ma.fields.String(load_default="", validate=ma.validate.Length(max=2000))
    invoiced_qty = DecimalString(dump_only=True)

    @ma.post_dump
    def hide_price(self, data, **kwargs):
        if _for_technician():
            data.pop("unit_price", None)
        return data


class FSPartPatchSchema(ma.Schema):
    product_id = ma.fields.Integer()
    quantity = DecimalString()
    unit_price = Money(allow_none=True)
    description = ma.fields.String(validate=ma.validate.Length(max=2000))


class FSOrderSchema(ma.Schema):
    id = ma.fields.Integer(dump_only=True)
    number = ma.fields.String(dump_only=True)
    partner_id = ma.fields.Integer(required=True)
    description = ma.fields.String(load_default="", validate=ma.validate.Length(max=5000))
    site_address = ma.fields.String(load_default="", validate=ma.validate.Length(max=1000))
    technician_id = ma.fields.Integer(load_default=None, allow_none=True)
    scheduled_at = Timestamp(load_default=None, allow_none=True)
    state = ma.fields.String(dump_only=True)
    report = ma.fields.String(dump_only=True)
    time_entries = ma.fields.List(ma.fields.Nested(FSTimeEntrySchema), dump_only=True)
    parts = ma.fields.List(ma.fields.Nested(FSPartSchema), dump_only=True)
    invoice_id = ma.fields.Integer(dump_only=True, allow_none=True)

    @ma.post_dump
    def hide_invoice(self, data, **kwargs):
        if _for_technician():
            data.pop("invoice_id", None)
        return data


class FSOrderPatchSchema(ma.Schema):
    partner_id = ma.fields.Integer()
    description = ma.fields.String(validate=ma.validate.Length(max=5000))
    site_address = ma.fields.String(validate=ma.validate.Length(max=1000))
    technician_id = ma.fields.Integer(allow_none=True)
    scheduled_at = Timestamp(allow_none=True)
    report = ma.fields.String(validate=ma.validate.Length(max=20000))


class FSScheduleSchema(ma.Schema):
    technician_id = ma.fields.Integer(load_default=None, allow_none=True)
    scheduled_at = Timestamp(load_default=None, allow_none=True)


class FSOrderListArgs(ListArgs):
    state = ma.fields.String(validate=ma.validate.OneOf(STATES))
    technician_id = ma.fields.Integer()
    partner_id = ma.fields.Integer()
    date_from = ma.fields.Date()
    date_to = ma.fields.Date()
    q = ma.fields.String(validate=ma.validate.Length(max=200))
    sort = ma.fields.String(load_default="-number")


class FSBatchSchema(ma.Schema):
    # At most MAX_BATCH ids in one call, as POST /invoices/post: a longer list is refused before it is read (70,000
    # ids made one IN list too long for the database); all_done takes every Done order, in parts, server-side.
    ids = ma.fields.List(ma.fields.Integer(validate=ma.validate.Range(min=1, max=2**31 - 1)), load_default=list,
                         validate=ma.validate.Length(max=MAX_BATCH, error=f"At most {MAX_BATCH:,} orders in one "
                                                     "call; send them in parts, or all_done: true for every Done "
                                                     "order."))
    all_done = ma.fields.Boolean(load_default=False)
    group_by = ma.fields.String(load_default="order", validate=ma.validate.OneOf(["order", "partner"]))
    post = ma.fields.Boolean(load_default=False)

    @ma.validates_schema
    def something(self, data, **kwargs):
        if not data.get("ids") and not data.get("all_done"):
            raise ma.ValidationError("Give the order ids, or all_done: true.", "ids")


class FSRefusedSchema(ma.Schema):
    order_id = ma.fields.Integer()
    number = ma.fields.String(allow_none=True)
    message = ma.fields.String()


class FSBatchResultSchema(ma.Schema):
    invoices = ma.fields.List(ma.fields.Integer())
    posted = ma.fields.Integer()
    amount_total = Money()
    refused = ma.fields.List(ma.fields.Nested(FSRefusedSchema))


FSOrderList = list_schema(FSOrderSchema, "ServiceOrderList")
