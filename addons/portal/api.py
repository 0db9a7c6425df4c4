"""portal's API, for customer tokens: their documents, their balance, applying their credit."""
from __future__ import annotations

from flask.views import MethodView

from core.api import Blueprint, page
from core.security import current_actor, require

from . import services
from .schemas import (PortalApplyCreditResultSchema, PortalApplyCreditSchema, PortalBalanceSchema, PortalInvoiceList,
                      PortalInvoiceSchema, PortalListArgs)

blp = Blueprint("portal_api", __name__, description="Customer portal: a customer's own invoices and credit")


def _partner_id() -> int:
    return services.portal_partner(current_actor()).id


@blp.route("/portal/invoices")
class PortalInvoices(MethodView):
    @require("portal.view")
    @blp.arguments(PortalListArgs, location="query")
    @blp.response(200, PortalInvoiceList)
    def get(self, args):
        """The customer's posted invoices and credit notes, newest first (``open=true``: only those to pay)."""
        query = services.documents_query(_partner_id(), args.get("type"), args.get("open"))
        return page(query, args, order_by=[services.Invoice.invoice_date.desc(), services.Invoice.id.desc()])


@blp.route("/portal/invoices/<int:invoice_id>")
class PortalInvoice(MethodView):
    @require("portal.view")
    @blp.response(200, PortalInvoiceSchema)
    def get(self, invoice_id):
        return services.get_document(_partner_id(), invoice_id)


@blp.route("/portal/balance")
class PortalBalance(MethodView):
    @require("portal.view")
    @blp.response(200, PortalBalanceSchema)
    def get(self):
        """What the customer owes in total and their unused credit."""
        return services.balance(_partner_id())


@blp.route("/portal/invoices/<int:invoice_id>/apply-credit")
class PortalApplyCredit(MethodView):
    @require("portal.apply_credit")
    @blp.arguments(PortalApplyCreditSchema)
    @blp.response(200, PortalApplyCreditResultSchema)
    def post(self, data, invoice_id):
        """Use the customer's credit on one of their open invoices (``amount`` empty: as much as possible)."""
        partner_id = _partner_id()
        invoice, applied = services.apply_credit(partner_id, invoice_id, data.get("amount"))
        return {"applied": applied, "invoice": invoice, "balance": services.balance(partner_id)}
