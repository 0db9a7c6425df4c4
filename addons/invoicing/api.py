"""invoicing's JSON API (docs/api.md, "Invoicing": taxes, products, invoices and credit notes, partner balance)."""
from __future__ import annotations

from flask import Response
from flask.views import MethodView
from sqlalchemy import select
from sqlalchemy.orm import undefer_group

from core.api import Blueprint, ListArgs, page
from core.extensions import db
from core.partners import get_partner
from core.security import require

from . import credit_notes, documents, services
from .models import Invoice, Product, Tax
from .queries import invoice_query, list_options, sort_clause
from .schemas import (ApplyCreditSchema, BalanceSchema, CreditNoteRequestSchema, CreditNoteResultSchema, DeleteArgs,
                      InvoiceList, InvoiceListArgs, InvoicePatchSchema, InvoiceSchema, PostManyResultSchema,
                      PostManySchema, ProductList, ProductPatchSchema, ProductSchema, SendSchema, TaxList, TaxSchema)

blp = Blueprint("invoicing_api", __name__, description="Taxes, products, invoices and credit notes")


@blp.route("/taxes")
class Taxes(MethodView):
    @require("products.read")
    @blp.arguments(ListArgs, location="query")
    @blp.response(200, TaxList)
    def get(self, args):
        return page(select(Tax).where(Tax.active.is_(True)).options(undefer_group("einvoice")), args,
                    order_by=Tax.id)

    @require("products.write")
    @blp.arguments(TaxSchema)
    @blp.response(201, TaxSchema)
    def post(self, data):
        return services.create_tax(**data)


@blp.route("/products")
class Products(MethodView):
    @require("products.read")
    @blp.arguments(ListArgs, location="query")
    @blp.response(200, ProductList)
    def get(self, args):
        return page(select(Product).where(Product.active.is_(True)), args, order_by=Product.code)

    @require("products.write")
    @blp.arguments(ProductSchema)
    @blp.response(201, ProductSchema)
    def post(self, data):
        return services.save_product(None, **data)


@blp.route("/products/<int:product_id>")
class ProductItem(MethodView):
    @require("products.read")
    @blp.response(200, ProductSchema)
    def get(self, product_id):
        return _product(product_id)

    @require("products.write")
    @blp.arguments(ProductPatchSchema(partial=True))
    @blp.response(200, ProductSchema)
    def patch(self, data, product_id):
        return services.save_product(_product(product_id), **data)


def _product(product_id: int) -> Product:
    from core.errors import NotFound
    product = db.session.get(Product, product_id)
    if product is None:
        raise NotFound(f"There is no product {product_id}.")
    return product


@blp.route("/invoices")
class Invoices(MethodView):
    @require("invoicing.read")
    @blp.arguments(InvoiceListArgs, location="query")
    @blp.response(200, InvoiceList)
    def get(self, args):
        result = page(invoice_query(args, args.get("sort")).options(list_options()), args, order_by=sort_clause(args.get("sort")))
        return result

    @require("invoicing.write")
    @blp.arguments(InvoiceSchema)
    @blp.response(201, InvoiceSchema)
    def post(self, data):
        return services.create_invoice(**data)


@blp.route("/invoices/<int:invoice_id>")
class InvoiceItem(MethodView):
    @require("invoicing.read")
    @blp.response(200, InvoiceSchema)
    def get(self, invoice_id):
        return services.get_invoice(invoice_id)

    @require("invoicing.write")
    @blp.arguments(InvoicePatchSchema)
    @blp.response(200, InvoiceSchema)
    def patch(self, data, invoice_id):
        return services.update_invoice(services.get_invoice(invoice_id), **data)

    @require("invoicing.write")
    @blp.arguments(DeleteArgs, location="query")
    @blp.response(204)
    def delete(self, args, invoice_id):
        services.delete_draft(services.get_invoice(invoice_id), cancel_origin=args["cancel_origin"])


@blp.route("/invoices/<int:invoice_id>/post")
class InvoicePost(MethodView):
    @require("invoicing.post")
    @blp.response(200, InvoiceSchema)
    def post(self, invoice_id):
        return services.post_invoice(invoice_id)


@blp.route("/invoices/post")
class InvoicePostMany(MethodView):
    @require("invoicing.post")
    @blp.arguments(PostManySchema)
    @blp.response(200, PostManyResultSchema)
    def post(self, data):
        """Post many drafts, each on its own: ``{posted: [ids], refused: [{id, message}]}``."""
        ids = list(dict.fromkeys(data["ids"]))
        found = {i.id: i for i in db.session.scalars(select(Invoice).where(Invoice.id.in_(ids)))}
        refused = [{"id": i, "message": f"There is no invoice {i}."} for i in ids if i not in found]
        posted, failed = services.post_many(list(found.values()))
        refused += [{"id": invoice.id, "message": message} for invoice, message in failed]
        return {"posted": [i.id for i in posted], "refused": refused}


@blp.route("/invoices/<int:invoice_id>/credit-notes")
class InvoiceCreditNotes(MethodView):
    @require("invoicing.credit")
    @blp.arguments(CreditNoteRequestSchema)
    @blp.response(201, CreditNoteResultSchema)
    def post(self, data, invoice_id):
        """A credit note for this posted invoice (whole, lines, or an amount off a line); mode draft|cancel|modify."""
        note, new_draft = credit_notes.create_credit_note(services.get_invoice(invoice_id), lines=data["lines"],
                                                          reason=data["reason"], mode=data["mode"], on=data["date"],
                                                          work=data["work"])
        note.mode = data["mode"]
        note.new_draft_id = new_draft.id if new_draft else None
        return note


@blp.route("/invoices/<int:invoice_id>/pdf")
class InvoicePdf(MethodView):
    @require("invoicing.read")
    @blp.response(200, description="The invoice as PDF (application/pdf)")
    def get(self, invoice_id):
        invoice = services.get_invoice(invoice_id)
        return _pdf(documents.render_pdf(invoice), documents.filename(invoice))


@blp.route("/invoices/<int:invoice_id>/facturx")
class InvoiceFacturx(MethodView):
    @require("invoicing.read")
    @blp.response(200, description="Factur-X: PDF/A-3 with the CII XML (EN 16931) inside")
    def get(self, invoice_id):
        invoice = services.get_invoice(invoice_id)
        return _pdf(documents.facturx_pdf(invoice), documents.filename(invoice, "-facturx"))


@blp.route("/invoices/<int:invoice_id>/ubl")
class InvoiceUbl(MethodView):
    @require("invoicing.read")
    @blp.response(200, description="UBL 2.1 Invoice or CreditNote (EN 16931 syntax binding), application/xml")
    def get(self, invoice_id):
        invoice = services.get_invoice(invoice_id)
        return _xml(documents.ubl_xml(invoice), documents.filename(invoice, "-ubl", ext="xml"))


@blp.route("/invoices/<int:invoice_id>/send")
class InvoiceSend(MethodView):
    @require("invoicing.send")
    @blp.arguments(SendSchema)
    @blp.response(200, InvoiceSchema)
    def post(self, data, invoice_id):
        invoice = services.get_invoice(invoice_id)
        documents.send(invoice, data.get("to"))
        return invoice


def _xml(content: bytes, name: str) -> Response:
    return Response(content, mimetype="application/xml",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


def _pdf(content: bytes, name: str) -> Response:
    return Response(content, mimetype="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{name}"'})


@blp.route("/invoices/<int:invoice_id>/apply-credit")
class InvoiceApplyCredit(MethodView):
    @require("invoicing.write")
    @blp.arguments(ApplyCreditSchema)
    @blp.response(200, InvoiceSchema)
    def post(self, data, invoice_id):
        invoice = services.get_invoice(invoice_id)
        services.apply_credit_by_hand(invoice, data.get("amount"))
        return invoice


@blp.route("/invoices/<int:invoice_id>/invoice-externally")
class InvoiceExternally(MethodView):
    @require("invoicing.write")
    @blp.response(200, InvoiceSchema)
    def post(self, invoice_id):
        return services.invoice_externally(services.get_invoice(invoice_id))


@blp.route("/partners/<int:partner_id>/balance")
class PartnerBalance(MethodView):
    @require("invoicing.read")
    @blp.response(200, BalanceSchema)
    def get(self, partner_id):
        get_partner(partner_id)
        return services.partner_balance(partner_id)
