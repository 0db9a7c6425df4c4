"""Report pages (each also as CSV with ?format=csv) and the FEC download. Same functions as the API."""
from __future__ import annotations

from datetime import date

from flask import flash, redirect, render_template, request, url_for
from sqlalchemy import select

from core.errors import ValidationError
from core.extensions import db
from core.listing import csv_response
from core.models import Partner
from core.security import require

from . import reports, services
from .api import fec_response
from .models import Account
from .views import bp

PER_PAGE = 100


def _date(name: str) -> date | None:
    value = request.args.get(name, "").strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValidationError(f"{name.replace('_', ' ').capitalize()} is a date: YYYY-MM-DD.",
                              fields={name: ["Not a date."]}) from None


def _page() -> int:
    try:
        return max(1, int(request.args.get("page", 1)))
    except ValueError:
        return 1


class _Pager:
    def __init__(self, total: int, number: int, per_page: int = PER_PAGE):
        self.total, self.page, self.per_page = total, number, per_page

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


@bp.route("/reports")
@require("accounting.reports")
def reports_index():
    return render_template("accounting/reports.html", year=date.today().year)


@bp.route("/reports/trial-balance")
@require("accounting.reports")
def trial_balance():
    date_from, date_to = _date("date_from"), _date("date_to")
    data = reports.trial_balance(date_from, date_to)
    if request.args.get("format") == "csv":
        return csv_response("trial-balance.csv", ["account_code", "account_name", "debit", "credit", "balance"],
                            ([r["account_code"], r["account_name"], r["debit"], r["credit"], r["balance"]]
                             for r in data["rows"]))
    return render_template("accounting/trial_balance.html", data=data)


@bp.route("/reports/general-ledger")
@require("accounting.reports")
def general_ledger():
    account = request.args.get("account", "").strip() or None
    if account:
        services.get_account(account, field="account")
    date_from, date_to = _date("date_from"), _date("date_to")
    if request.args.get("format") == "csv":
        data = reports.general_ledger(account, date_from, date_to, limit=10**9, offset=0)
        return _ledger_csv("general-ledger.csv", data)
    number = _page()
    data = reports.general_ledger(account, date_from, date_to, PER_PAGE, (number - 1) * PER_PAGE)
    accounts = list(db.session.scalars(select(Account).order_by(Account.code)))
    return render_template("accounting/ledger.html", data=data, pg=_Pager(data["total"], number),
                           title="General ledger", accounts=accounts, kind="general")


@bp.route("/reports/partner-ledger")
@require("accounting.reports")
def partner_ledger():
    try:
        partner_id = int(request.args["partner_id"]) if request.args.get("partner_id") else None
    except ValueError:
        raise ValidationError("The customer is chosen from the list.", fields={"partner_id": ["Unknown."]}) from None
    date_from, date_to = _date("date_from"), _date("date_to")
    if request.args.get("format") == "csv":
        return _ledger_csv("partner-ledger.csv", reports.partner_ledger(partner_id, date_from, date_to, 10**9, 0))
    number = _page()
    data = reports.partner_ledger(partner_id, date_from, date_to, PER_PAGE, (number - 1) * PER_PAGE)
    partners = db.session.execute(select(Partner.id, Partner.name).order_by(Partner.name).limit(1000)).all()
    return render_template("accounting/ledger.html", data=data, pg=_Pager(data["total"], number),
                           title="Partner ledger", partners=partners, kind="partner")


def _ledger_csv(filename: str, data: dict):
    return csv_response(filename, ["date", "number", "journal", "account_code", "partner", "label", "debit", "credit",
                                   "balance"],
                        ([r["date"].isoformat(), r["number"], r["journal"], r["account_code"], r["partner_name"] or "",
                          r["label"], r["debit"], r["credit"], r["balance"]] for r in data["items"]))


@bp.route("/reports/aged-receivables")
@require("accounting.reports")
def aged_receivables():
    data = reports.aged_receivables(_date("as_of"))
    if request.args.get("format") == "csv":
        return csv_response("aged-receivables.csv", ["partner_id", "partner_name", *reports.BUCKETS, "total"],
                            ([r["partner_id"], r["partner_name"], *[r[b] for b in reports.BUCKETS], r["total"]]
                             for r in data["items"]))
    return render_template("accounting/aged.html", data=data, buckets=reports.BUCKETS)


@bp.route("/exports/fec")
@require("accounting.export")
def fec():
    try:
        year = int(request.args.get("year", ""))
        if not 1900 <= year <= 2999:
            raise ValueError
    except ValueError:
        flash("Choose the fiscal year to export (for example 2026).", "error")
        return redirect(url_for("accounting.reports_index"))
    return fec_response(year)
