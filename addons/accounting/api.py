"""accounting's JSON API (docs/api.md, "Accounting")."""
from __future__ import annotations

from flask import Response, stream_with_context
from flask.views import MethodView
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from core.api import Blueprint, ListArgs, page
from core.errors import NotFound
from core.security import current_actor, require

from . import mapping, reports, services
from .models import Account, Journal, JournalEntry
from .queries import entry_page
from .schemas import (AccountList, AccountPatchSchema, AccountSchema, AgedArgs, AgedSchema, EntryCreateSchema,
                      EntryList, EntryListArgs, EntrySchema, FecArgs, JournalList, LedgerArgs, LedgerSchema,
                      LockDateSchema, MappingSchema, PartnerLedgerArgs, PeriodArgs, ReverseSchema, TrialBalanceSchema, VerifySchema)

blp = Blueprint("accounting_api", __name__, description="Chart of accounts, journal entries, reports, ledger")


@blp.route("/accounts")
class Accounts(MethodView):
    @require("accounting.read")
    @blp.arguments(ListArgs, location="query")
    @blp.response(200, AccountList)
    def get(self, args):
        return page(select(Account), args, order_by=Account.code)

    @require("accounting.chart")
    @blp.arguments(AccountSchema)
    @blp.response(201, AccountSchema)
    def post(self, data):
        return services.save_account(None, **data)


@blp.route("/accounts/<code>")
class AccountItem(MethodView):
    @require("accounting.read")
    @blp.response(200, AccountSchema)
    def get(self, code):
        return _account(code)

    @require("accounting.chart")
    @blp.arguments(AccountPatchSchema(partial=True))
    @blp.response(200, AccountSchema)
    def patch(self, data, code):
        return services.save_account(_account(code), **data)


def _account(code: str) -> Account:
    account = services.get_account(code, required=False)
    if account is None:
        raise NotFound(f"There is no account {code}.")
    return account


@blp.route("/journals")
class Journals(MethodView):
    @require("accounting.read")
    @blp.arguments(ListArgs, location="query")
    @blp.response(200, JournalList)
    def get(self, args):
        return page(select(Journal), args, order_by=Journal.code)


@blp.route("/journal-entries")
class Entries(MethodView):
    @require("accounting.read")
    @blp.arguments(EntryListArgs, location="query")
    @blp.response(200, EntryList)
    def get(self, args):
        items, total = entry_page(args, args.get("sort"), args["offset"], args["limit"],
                                  options=(selectinload(JournalEntry.lines),))  # lines: one query a page
        return {"items": items, "total": total}

    @require("accounting.entries")
    @blp.arguments(EntryCreateSchema)
    @blp.response(201, EntrySchema)
    def post(self, data):
        return services.create_entry(data["date"], data["lines"], journal=data["journal"], ref=data["ref"])


@blp.route("/journal-entries/<int:entry_id>")
class EntryItem(MethodView):
    @require("accounting.read")
    @blp.response(200, EntrySchema)
    def get(self, entry_id):
        return services.get_entry(entry_id)

    @require("accounting.entries")
    @blp.response(204)
    def delete(self, entry_id):
        services.delete_draft_entry(services.get_entry(entry_id))


@blp.route("/journal-entries/<int:entry_id>/post")
class EntryPost(MethodView):
    @require("accounting.entries")
    @blp.response(200, EntrySchema)
    def post(self, entry_id):
        return services.post_entry(services.get_entry(entry_id))


@blp.route("/journal-entries/<int:entry_id>/reverse")
class EntryReverse(MethodView):
    @require("accounting.entries")
    @blp.arguments(ReverseSchema)
    @blp.response(201, EntrySchema)
    def post(self, data, entry_id):
        return services.reverse_entry(services.get_entry(entry_id), data.get("date"))


@blp.route("/settings/lock-date")
class LockDate(MethodView):
    @require("accounting.read")
    @blp.response(200, LockDateSchema)
    def get(self):
        return {"lock_date": services.lock_date()}

    @require("accounting.lock")
    @blp.arguments(LockDateSchema)
    @blp.response(200, LockDateSchema)
    def put(self, data):
        return {"lock_date": services.set_lock_date(data["lock_date"], current_actor())}


@blp.route("/ledger/verify")
class LedgerVerify(MethodView):
    @require("accounting.reports")
    @blp.response(200, VerifySchema)
    def get(self):
        return services.verify_ledger()


@blp.route("/reports/trial-balance")
class TrialBalance(MethodView):
    @require("accounting.reports")
    @blp.arguments(PeriodArgs, location="query")
    @blp.response(200, TrialBalanceSchema)
    def get(self, args):
        return reports.trial_balance(args["date_from"], args["date_to"])


@blp.route("/reports/general-ledger")
class GeneralLedger(MethodView):
    @require("accounting.reports")
    @blp.arguments(LedgerArgs, location="query")
    @blp.response(200, LedgerSchema)
    def get(self, args):
        if args["account"]:
            _account(args["account"])
        return reports.general_ledger(args["account"], args["date_from"], args["date_to"], args["limit"],
                                      args["offset"])


@blp.route("/reports/partner-ledger")
class PartnerLedger(MethodView):
    @require("accounting.reports")
    @blp.arguments(PartnerLedgerArgs, location="query")
    @blp.response(200, LedgerSchema)
    def get(self, args):
        return reports.partner_ledger(args["partner_id"], args["date_from"], args["date_to"], args["limit"],
                                      args["offset"])


@blp.route("/reports/aged-receivables")
class AgedReceivables(MethodView):
    @require("accounting.reports")
    @blp.arguments(AgedArgs, location="query")
    @blp.response(200, AgedSchema)
    def get(self, args):
        return reports.aged_receivables(args["as_of"])


@blp.route("/exports/fec")
class FecExport(MethodView):
    @require("accounting.export")
    @blp.arguments(FecArgs, location="query")
    def get(self, args):
        return fec_response(args["year"])


def fec_response(year: int) -> Response:
    filename = reports.fec_filename(year)
    return Response(stream_with_context(reports.fec_lines(year)), mimetype="text/plain; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@blp.route("/accounting/mapping")
class Mapping(MethodView):
    """Income account per product type (and per product), VAT account per tax, bank/cash account per journal;
    payment methods name their journal (set in payments)."""

    @require("accounting.read")
    @blp.response(200, MappingSchema)
    def get(self):
        return mapping.current_mapping()

    @require("accounting.chart")
    @blp.arguments(MappingSchema)
    @blp.response(200, MappingSchema)
    def put(self, data):
        return mapping.change_mapping(data)
