"""portal API schemas: what a customer sees of their documents."""
import marshmallow as ma

from core.api import ListArgs, Money, list_schema


class PortalInvoiceSchema(ma.Schema):
    id = ma.fields.Integer()
    type = ma.fields.String()
    number = ma.fields.String()
    invoice_date = ma.fields.Date()
    due_date = ma.fields.Date()
    currency = ma.fields.String()
    payment_state = ma.fields.String()
    amount_untaxed = Money()
    amount_tax = Money()
    amount_total = Money()
    amount_paid = Money()
    amount_credited = Money()
    amount_due = Money()
    is_overdue = ma.fields.Boolean()


PortalInvoiceList = list_schema(PortalInvoiceSchema, "PortalInvoiceList")


class PortalListArgs(ListArgs):
    type = ma.fields.String(validate=ma.validate.OneOf(["invoice", "credit_note"]))
    open = ma.fields.Boolean(load_default=False)


class PortalBalanceSchema(ma.Schema):
    receivable = Money()
    credit_available = Money()


class PortalApplyCreditSchema(ma.Schema):
    amount = Money(load_default=None, allow_none=True, validate=ma.validate.Range(min=0, min_inclusive=False))


class PortalApplyCreditResultSchema(ma.Schema):
    applied = Money()
    invoice = ma.fields.Nested(PortalInvoiceSchema)
    balance = ma.fields.Nested(PortalBalanceSchema)
