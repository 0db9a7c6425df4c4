"""API schemas (marshmallow) for accounts, journals, entries, the lock date, reports and the chain check."""
from __future__ import annotations

import marshmallow as ma

from core.api import ListArgs, Money, list_schema

from .models import ACCOUNT_TYPES


class AccountSchema(ma.Schema):
    id = ma.fields.Integer(dump_only=True)
    code = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=20))
    name = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=200))
    type = ma.fields.String(required=True, validate=ma.validate.OneOf(ACCOUNT_TYPES))


class AccountPatchSchema(AccountSchema):
    class Meta:
        partial = True


AccountList = list_schema(AccountSchema, "AccountList")


class JournalSchema(ma.Schema):
    code = ma.fields.String()
    name = ma.fields.String()
    type = ma.fields.String()
    account_code = ma.fields.Function(lambda j: j.account.code if j.account else None)


JournalList = list_schema(JournalSchema, "JournalList")


class LineOutSchema(ma.Schema):
    id = ma.fields.Integer()
    account_code = ma.fields.Function(lambda l: l.account.code)
    account_name = ma.fields.Function(lambda l: l.account.name)
    partner_id = ma.fields.Integer(allow_none=True)
    label = ma.fields.String()
    debit = Money()
    credit = Money()


class EntrySchema(ma.Schema):
    id = ma.fields.Integer()
    number = ma.fields.String(allow_none=True)
    journal = ma.fields.Function(lambda e: e.journal.code)
    date = ma.fields.Date()
    state = ma.fields.String()
    ref = ma.fields.String()
    origin = ma.fields.Function(lambda e: {"type": e.origin_type, "id": e.origin_id} if e.origin_type else None)
    reversed_entry_id = ma.fields.Integer(allow_none=True)
    chain_index = ma.fields.Integer(allow_none=True)
    hash = ma.fields.String(allow_none=True)
    lines = ma.fields.List(ma.fields.Nested(LineOutSchema))


EntryList = list_schema(EntrySchema, "EntryList")


class EntryListArgs(ListArgs):
    journal = ma.fields.String()
    date_from = ma.fields.Date()
    date_to = ma.fields.Date()
    account = ma.fields.String()
    partner_id = ma.fields.Integer()
    state = ma.fields.String(validate=ma.validate.OneOf(("draft", "posted")))
    origin_type = ma.fields.String()
    origin_id = ma.fields.Integer()
    q = ma.fields.String()
    sort = ma.fields.String()


class LineInSchema(ma.Schema):
    account_code = ma.fields.String(required=True)
    partner_id = ma.fields.Integer(allow_none=True, load_default=None)
    label = ma.fields.String(load_default="", validate=ma.validate.Length(max=500))
    debit = Money(load_default=None, allow_none=True, validate=ma.validate.Range(min=0))
    credit = Money(load_default=None, allow_none=True, validate=ma.validate.Range(min=0))


class EntryCreateSchema(ma.Schema):
    date = ma.fields.Date(required=True)
    journal = ma.fields.String(load_default="GEN")
    ref = ma.fields.String(load_default="", validate=ma.validate.Length(max=200))
    lines = ma.fields.List(ma.fields.Nested(LineInSchema), required=True,
                           validate=ma.validate.Length(min=2, max=500))


class ReverseSchema(ma.Schema):
    date = ma.fields.Date(load_default=None, allow_none=True)


class LockDateSchema(ma.Schema):
    lock_date = ma.fields.Date(required=True, allow_none=True)


class PeriodArgs(ma.Schema):
    date_from = ma.fields.Date(load_default=None)
    date_to = ma.fields.Date(load_default=None)


class TrialRowSchema(ma.Schema):
    account_code = ma.fields.String()
    account_name = ma.fields.String()
    debit = Money()
    credit = Money()
    balance = Money()


class TrialBalanceSchema(ma.Schema):
    rows = ma.fields.List(ma.fields.Nested(TrialRowSchema))
    total_debit = Money()
    total_credit = Money()


class LedgerArgs(PeriodArgs):
    account = ma.fields.String(load_default=None)
    limit = ma.fields.Integer(load_default=100, validate=ma.validate.Range(min=1, max=1000))
    offset = ma.fields.Integer(load_default=0, validate=ma.validate.Range(min=0))


class PartnerLedgerArgs(PeriodArgs):
    partner_id = ma.fields.Integer(load_default=None)
    limit = ma.fields.Integer(load_default=100, validate=ma.validate.Range(min=1, max=1000))
    offset = ma.fields.Integer(load_default=0, validate=ma.validate.Range(min=0))


class LedgerRowSchema(ma.Schema):
    entry_id = ma.fields.Integer()
    number = ma.fields.String()
    date = ma.fields.Date()
    journal = ma.fields.String()
    ref = ma.fields.String()
    account_code = ma.fields.String()
    account_name = ma.fields.String()
    partner_id = ma.fields.Integer(allow_none=True)
    partner_name = ma.fields.String(allow_none=True)
    label = ma.fields.String()
    debit = Money()
    credit = Money()
    balance = Money()


class LedgerSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(LedgerRowSchema))
    total = ma.fields.Integer()
    total_debit = Money()
    total_credit = Money()
    opening = ma.fields.Dict(keys=ma.fields.String(), values=Money())


class AgedArgs(ma.Schema):
    as_of = ma.fields.Date(load_default=None)


class AgedRowSchema(ma.Schema):
    partner_id = ma.fields.Integer()
    partner_name = ma.fields.String()
    current = Money()
    d1_30 = Money()
    d31_60 = Money()
    d61_90 = Money()
    over_90 = Money()
    total = Money()


class AgedSchema(ma.Schema):
    as_of = ma.fields.Date()
    items = ma.fields.List(ma.fields.Nested(AgedRowSchema))
    total = ma.fields.Integer()
    totals = ma.fields.Dict(keys=ma.fields.String(), values=Money())


class FecArgs(ma.Schema):
    year = ma.fields.Integer(required=True, validate=ma.validate.Range(min=1900, max=2999))


class BrokenSchema(ma.Schema):
    entry_id = ma.fields.Integer(allow_none=True)
    number = ma.fields.String(allow_none=True)
    reason = ma.fields.String()


class DocumentProblemSchema(ma.Schema):
    document_type = ma.fields.String()
    document_id = ma.fields.Integer()
    number = ma.fields.String(allow_none=True)
    reason = ma.fields.String()


class DocumentsCheckSchema(ma.Schema):
    ok = ma.fields.Boolean()
    documents_checked = ma.fields.Integer()
    problem_count = ma.fields.Integer()
    problems = ma.fields.List(ma.fields.Nested(DocumentProblemSchema))


class VerifySchema(ma.Schema):
    ok = ma.fields.Boolean()  # the chain and the documents both
    entries_checked = ma.fields.Integer()
    keyed = ma.fields.Boolean()  # the chain has a valid keyed anchor (HMAC under the ledger key)
    first_broken = ma.fields.Nested(BrokenSchema, allow_none=True)
    documents = ma.fields.Nested(DocumentsCheckSchema)


class ProductAccountItem(ma.Schema):
    product_id = ma.fields.Integer(required=True)
    account_code = ma.fields.String(allow_none=True, load_default=None)


class TaxAccountItem(ma.Schema):
    tax_id = ma.fields.Integer(required=True)
    account_code = ma.fields.String(required=True)


class JournalAccountItem(ma.Schema):
    code = ma.fields.String(required=True)
    account_code = ma.fields.String(allow_none=True, load_default=None)


class MethodJournalItem(ma.Schema):
    code = ma.fields.String()
    journal = ma.fields.String()


class MappingSchema(ma.Schema):
    product_types = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.String())
    products = ma.fields.List(ma.fields.Nested(ProductAccountItem))
    taxes = ma.fields.List(ma.fields.Nested(TaxAccountItem))
    journals = ma.fields.List(ma.fields.Nested(JournalAccountItem))
    payment_methods = ma.fields.List(ma.fields.Nested(MethodJournalItem), dump_only=True)
