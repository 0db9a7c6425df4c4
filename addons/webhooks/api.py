"""webhooks API (admin): endpoints and the delivery log."""
from __future__ import annotations

from flask.views import MethodView

from core.api import Blueprint, ListArgs, page
from core.security import require

from . import services
from .models import Delivery, Endpoint
from .schemas import DeliveryList, DeliveryListArgs, DeliverySchema, EndpointCreatedSchema, EndpointList, EndpointSchema

blp = Blueprint("webhooks_api", __name__, description="Webhook endpoints and deliveries (admin)")


@blp.route("/webhooks")
class Endpoints(MethodView):
    @require("webhooks.manage")
    @blp.arguments(ListArgs, location="query")
    @blp.response(200, EndpointList)
    def get(self, args):
        return page(services.endpoints_query(), args, order_by=Endpoint.id)

    @require("webhooks.manage")
    @blp.arguments(EndpointSchema)
    @blp.response(201, EndpointCreatedSchema)
    def post(self, data):
        """Register an endpoint; the response carries its ``secret``, shown this once."""
        endpoint, _secret = services.create_endpoint(data["url"], data["events"], data.get("description", ""))
        return endpoint


@blp.route("/webhooks/<int:endpoint_id>")
class EndpointItem(MethodView):
    @require("webhooks.manage")
    @blp.response(200, EndpointSchema)
    def get(self, endpoint_id):
        return services.get_endpoint(endpoint_id)

    @require("webhooks.manage")
    @blp.response(204)
    def delete(self, endpoint_id):
        services.delete_endpoint(services.get_endpoint(endpoint_id))


@blp.route("/webhooks/deliveries")
class Deliveries(MethodView):
    @require("webhooks.manage")
    @blp.arguments(DeliveryListArgs, location="query")
    @blp.response(200, DeliveryList)
    def get(self, args):
        return page(services.deliveries_query(args), args, order_by=Delivery.id.desc())


@blp.route("/webhooks/deliveries/<int:delivery_id>/redeliver")
class Redeliver(MethodView):
    @require("webhooks.manage")
    @blp.response(200, DeliverySchema)
    def post(self, delivery_id):
        return services.redeliver(services.get_delivery(delivery_id))
