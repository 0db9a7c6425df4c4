"""webhooks API schemas."""
import marshmallow as ma

from core.api import ListArgs, list_schema

from .services import EVENTS


class EndpointSchema(ma.Schema):
    id = ma.fields.Integer(dump_only=True)
    url = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=500))
    events = ma.fields.Method("dump_events", "load_events", required=True)
    description = ma.fields.String(load_default="", validate=ma.validate.Length(max=200))
    created_at = ma.fields.DateTime(dump_only=True)

    def dump_events(self, endpoint):
        return endpoint.event_list

    def load_events(self, value):
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ma.ValidationError("A list of event names: " + ", ".join(EVENTS) + ".")
        return value


class EndpointCreatedSchema(EndpointSchema):
    secret = ma.fields.String(dump_only=True)


EndpointList = list_schema(EndpointSchema, "WebhookEndpointList")


class DeliverySchema(ma.Schema):
    id = ma.fields.Integer()
    endpoint_id = ma.fields.Integer()
    event_id = ma.fields.String()
    event = ma.fields.String()
    state = ma.fields.String()
    attempts = ma.fields.Integer()
    response_code = ma.fields.Integer(allow_none=True)
    last_error = ma.fields.String()
    created_at = ma.fields.DateTime()
    last_attempt_at = ma.fields.DateTime(allow_none=True)
    next_attempt_at = ma.fields.DateTime()
    delivered_at = ma.fields.DateTime(allow_none=True)


DeliveryList = list_schema(DeliverySchema, "WebhookDeliveryList")


class DeliveryListArgs(ListArgs):
    state = ma.fields.String(validate=ma.validate.OneOf(["pending", "delivered", "failed", "cancelled"]))
    event = ma.fields.String(validate=ma.validate.OneOf(list(EVENTS)))
    endpoint_id = ma.fields.Integer()
