"""field_service's JSON API (docs/api.md, "Field service"). Thin: parse, check the permission, call a service."""
from __future__ import annotations

from flask.views import MethodView

from core.api import Blueprint, page
from core.security import current_actor, require

from addons.invoicing.schemas import InvoiceSchema

from . import billing, services
from .models import ServiceOrder
from .queries import order_query, sort_clause, with_lines
from .schemas import (FSBatchResultSchema, FSBatchSchema, FSOrderList, FSOrderListArgs, FSOrderPatchSchema, FSOrderSchema,
                      FSPartPatchSchema, FSPartSchema, FSScheduleSchema, FSTimeEntryPatchSchema, FSTimeEntrySchema)

blp = Blueprint("field_service_api", __name__, description="Service orders: hours, parts, report, invoicing")


def _order(order_id: int, lock: bool = False) -> ServiceOrder:
    return services.get_order(order_id, current_actor(), lock=lock)


@blp.route("/service-orders")
class Orders(MethodView):
    @require("field_service.read")
    @blp.arguments(FSOrderListArgs, location="query")
    @blp.response(200, FSOrderList)
    def get(self, args):
        query = with_lines(services.visible_orders(order_query(args, args.get("sort")), current_actor()))
        return page(query, args, order_by=sort_clause(args.get("sort")))

    @require("field_service.write")
    @blp.arguments(FSOrderSchema)
    @blp.response(201, FSOrderSchema)
    def post(self, data):
        return services.create_order(**data)


@blp.route("/service-orders/<int:order_id>")
class OrderItem(MethodView):
    @require("field_service.read")
    @blp.response(200, FSOrderSchema)
    def get(self, order_id):
        return _order(order_id)

    @require("field_service.work")
    @blp.arguments(FSOrderPatchSchema)
    @blp.response(200, FSOrderSchema)
    def patch(self, data, order_id):
        return services.update_order(_order(order_id, lock=True), current_actor(), **data)


def _action(name, permission, fn, schema=None):
    """POST /service-orders/{id}/<name> → the order."""
    if schema is None:
        class Action(MethodView):
            @require(permission)
            @blp.response(200, FSOrderSchema)
            def post(self, order_id):
                return fn(_order(order_id, lock=True))
    else:
        class Action(MethodView):
            @require(permission)
            @blp.arguments(schema)
            @blp.response(200, FSOrderSchema)
            def post(self, data, order_id):
                return fn(_order(order_id, lock=True), **data)
    Action.__name__ = f"Order{name.capitalize()}"
    blp.route(f"/service-orders/<int:order_id>/{name}", endpoint=f"order_{name}")(Action)


_action("schedule", "field_service.write", services.schedule, FSScheduleSchema)
_action("start", "field_service.work", services.start)
_action("done", "field_service.work", services.mark_done)
_action("cancel", "field_service.write", services.cancel)


@blp.route("/service-orders/<int:order_id>/time-entries")
class TimeEntries(MethodView):
    @require("field_service.work")
    @blp.arguments(FSTimeEntrySchema)
    @blp.response(201, FSOrderSchema)
    def post(self, data, order_id):
        order = _order(order_id, lock=True)
        services.add_time_entry(order, data["hours"], data["product_id"], current_actor(), data.get("date"),
                                data.get("description", ""), data.get("technician_id"))
        return order


@blp.route("/service-orders/<int:order_id>/time-entries/<int:entry_id>")
class TimeEntryItem(MethodView):
    @require("field_service.work")
    @blp.arguments(FSTimeEntryPatchSchema)
    @blp.response(200, FSOrderSchema)
    def patch(self, data, order_id, entry_id):
        order = _order(order_id, lock=True)
        services.update_time_entry(services.get_time_entry(order, entry_id), **data)
        return order

    @require("field_service.work")
    @blp.response(200, FSOrderSchema)
    def delete(self, order_id, entry_id):
        order = _order(order_id, lock=True)
        services.delete_time_entry(services.get_time_entry(order, entry_id))
        return order


@blp.route("/service-orders/<int:order_id>/parts")
class Parts(MethodView):
    @require("field_service.work")
    @blp.arguments(FSPartSchema)
    @blp.response(201, FSOrderSchema)
    def post(self, data, order_id):
        order = _order(order_id, lock=True)
        if services.is_technician(current_actor()):
            data["unit_price"] = None  # technicians handle no prices: the product's price applies
        services.add_part(order, data["product_id"], data["quantity"], data.get("unit_price"),
                          data.get("description", ""))
        return order


@blp.route("/service-orders/<int:order_id>/parts/<int:part_id>")
class PartItem(MethodView):
    @require("field_service.work")
    @blp.arguments(FSPartPatchSchema)
    @blp.response(200, FSOrderSchema)
    def patch(self, data, order_id, part_id):
        order = _order(order_id, lock=True)
        if services.is_technician(current_actor()):
            data.pop("unit_price", None)
        services.update_part(services.get_part(order, part_id), **data)
        return order

    @require("field_service.work")
    @blp.response(200, FSOrderSchema)
    def delete(self, order_id, part_id):
        order = _order(order_id, lock=True)
        services.delete_part(services.get_part(order, part_id))
        return order


@blp.route("/service-orders/<int:order_id>/invoice")
class OrderInvoice(MethodView):
    @require("field_service.invoice", "invoicing.write")
    @blp.response(201, InvoiceSchema)
    def post(self, order_id):
        return billing.create_invoice_for_order(order_id, current_actor())


@blp.route("/service-orders/invoice")
class BatchInvoice(MethodView):
    @require("field_service.invoice", "invoicing.write")
    @blp.arguments(FSBatchSchema)
    @blp.response(200, FSBatchResultSchema)
    def post(self, data):
        if data["post"]:
            from core.security import can
            from werkzeug.exceptions import Forbidden
            if not can(current_actor(), "invoicing.post"):
                raise Forbidden("Your role may not post invoices (invoicing.post).")
        ids = billing.done_order_ids() if data["all_done"] else data["ids"]
        result = billing.invoice_orders(ids, group_by=data["group_by"], post=data["post"])
        return {"invoices": [i.id for i in result.invoices], "posted": result.posted,
                "amount_total": result.total, "refused": result.refused}
