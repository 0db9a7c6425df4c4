"""payments' JSON API (docs/api.md, "Payments"): register, list, refund, methods."""
from __future__ import annotations

from flask.views import MethodView

from core.api import Blueprint, ListArgs, page
from core.partners import get_partner
from core.security import require

from . import services
from .queries import payment_query, sort_clause, with_allocations
from .schemas import (InvoicePaymentIn, MethodList, MethodSchema, PaymentIn, PaymentList, PaymentListArgs,
                      PaymentSchema, RefundIn)

blp = Blueprint("payments_api", __name__, description="Payments, refunds and payment methods")


@blp.route("/invoices/<int:invoice_id>/payments")
class InvoicePayments(MethodView):
    @require("payments.register")
    @blp.arguments(InvoicePaymentIn)
    @blp.response(201, PaymentSchema)
    def post(self, data, invoice_id):
        return services.pay_invoice(invoice_id, data["amount"], data["date"], data["method"], data["reference"])


@blp.route("/payments")
class Payments(MethodView):
    @require("payments.read")
    @blp.arguments(PaymentListArgs, location="query")
    @blp.response(200, PaymentList)
    def get(self, args):
        return page(with_allocations(payment_query(args)), args, order_by=sort_clause("-date"))

    @require("payments.register")
    @blp.arguments(PaymentIn)
    @blp.response(201, PaymentSchema)
    def post(self, data):
        if data["direction"] == "outbound":
            from core.security import can, current_actor
            if not can(current_actor(), "payments.refund"):
                from werkzeug.exceptions import Forbidden
                raise Forbidden("Your role may not refund customer credit (payments.refund).")
        return services.register_payment(data["partner_id"], data["amount"], data["date"], data["method"],
                                         data["reference"], allocations=data["allocations"],
                                         direction=data["direction"])


@blp.route("/payments/<int:payment_id>")
class PaymentItem(MethodView):
    @require("payments.read")
    @blp.response(200, PaymentSchema)
    def get(self, payment_id):
        return services.get_payment(payment_id)


@blp.route("/partners/<int:partner_id>/refunds")
class PartnerRefunds(MethodView):
    @require("payments.refund")
    @blp.arguments(RefundIn)
    @blp.response(201, PaymentSchema)
    def post(self, data, partner_id):
        get_partner(partner_id)
        return services.refund(partner_id, data["amount"], data["date"], data["method"], data["reference"])


@blp.route("/payment-methods")
class PaymentMethods(MethodView):
    @require("payments.read")
    @blp.arguments(ListArgs, location="query")
    @blp.response(200, MethodList)
    def get(self, args):
        items = services.methods()
        return {"items": items[args["offset"]:args["offset"] + args["limit"]], "total": len(items)}

    @require("payments.methods")
    @blp.arguments(MethodSchema)
    @blp.response(201, MethodSchema)
    def post(self, data):
        return services.create_method(data["code"], data["name"], data["journal_code"])
