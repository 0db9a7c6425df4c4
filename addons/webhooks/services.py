"""webhooks rules: endpoints (register, list, delete), the outbox (enqueue inside the event's transaction),
the signature, and redelivery. The worker that sends is in worker.py."""
from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import uuid
from datetime import datetime
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import select, update  # noqa: F401

from core.errors import DomainError, NotFound, ValidationError
from core.extensions import db
from core.models import utcnow

from . import egress
from .models import Delivery, Endpoint

EVENTS = {
    "invoice.posted": "An invoice was posted (number, totals final)",
    "credit_note.posted": "A credit note was posted",
    "invoice.paid": "An invoice's amount due reached zero (paid or credited)",
    "payment.registered": "A customer payment was received",
    "refund.made": "Customer credit was paid back",
    "service_order.done": "A technician finished a service order",
}
MAX_URL = 500


# -- endpoints -------------------------------------------------------------------------------------------------------
def check_url(url: str) -> str:
    """A URL webhooks may be sent to: http(s), no credentials, and a public host (see egress.py for every rule);
    the worker checks it again at each delivery, after resolving the name."""
    url = (url or "").strip()
    try:
        parts = urlsplit(url)
        port_ok = parts.port is None or 0 < parts.port < 65536
    except ValueError:
        parts, port_ok = None, False
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname or not port_ok \
            or any(c.isspace() or not c.isprintable() for c in url) or len(url) > MAX_URL:
        raise ValidationError("The URL must be an http:// or https:// address, such as https://example.com/hooks.",
                              code="invalid_url", fields={"url": ["An http or https URL."]})
    try:
        egress.check_registration(url, egress.settings(current_app.config))
    except egress.Refused as exc:
        message = str(exc)
        raise ValidationError(f"This URL cannot receive webhooks: {message}.", code="url_not_allowed",
                              fields={"url": [message[0].upper() + message[1:] + "."]}) from None
    return url


def check_events(events) -> list[str]:
    if isinstance(events, str):
        events = [e.strip() for e in events.split(",")]
    events = [e for e in (events or []) if e]
    unknown = [e for e in events if e not in EVENTS]
    if unknown or not events:
        raise ValidationError(
            (f"Unknown event{'s' if len(unknown) > 1 else ''}: {', '.join(unknown)}. " if unknown else
             "Choose at least one event. ") + f"Events: {', '.join(EVENTS)}.",
            code="invalid_events", fields={"events": ["Choose from " + ", ".join(EVENTS) + "."]})
    return sorted(set(events), key=list(EVENTS).index)


def create_endpoint(url: str, events, description: str = "") -> tuple[Endpoint, str]:
    """A new endpoint and its secret (returned once; the caller shows it to the admin)."""
    secret = "whsec_" + secrets.token_urlsafe(24)
    endpoint = Endpoint(url=check_url(url), events=",".join(check_events(events)),
                        description=(description or "").strip()[:200], secret=secret)
    db.session.add(endpoint)
    db.session.flush()
    return endpoint, secret


def get_endpoint(endpoint_id: int) -> Endpoint:
    endpoint = db.session.get(Endpoint, endpoint_id)
    if endpoint is None or endpoint.deleted_at is not None:
        raise NotFound(f"There is no webhook endpoint {endpoint_id}.")
    return endpoint


def endpoints_query():
    return select(Endpoint).where(Endpoint.deleted_at.is_(None))


def delete_endpoint(endpoint: Endpoint) -> None:
    """Stop sending to it; its undelivered rows are cancelled, its log stays."""
    endpoint.deleted_at = utcnow()
    endpoint.active = False
    db.session.execute(update(Delivery).where(Delivery.endpoint_id == endpoint.id, Delivery.state == "pending")
                       .values(state="cancelled", last_error="endpoint deleted"))
    db.session.flush()


# -- the outbox ----------------------------------------------------------------------------------------------------------
def _json_default(value):
    if isinstance(value, datetime):
        return value.isoformat()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)  # Decimal → "12.50"


def enqueue(event: str, data: dict, now: datetime | None = None) -> int:
    """One outbox row per active endpoint subscribed to ``event``, in the current transaction (flushed, never
    committed: a rollback of the event's transaction removes them). Returns how many rows."""
    return enqueue_many(event, [data], now)


def enqueue_many(event: str, items: list[dict], now: datetime | None = None) -> int:
    """``enqueue`` for many events of one kind (a batch posting): one endpoint query, one bulk insert."""
    endpoints = [e for e in db.session.scalars(select(Endpoint).where(Endpoint.active.is_(True),
                                                                      Endpoint.deleted_at.is_(None)))
                 if event in e.event_list]
    if not endpoints or not items:
        return 0
    now = now or utcnow()
    rows = []
    for data in items:
        event_id = "evt_" + uuid.uuid4().hex
        body = json.dumps({"id": event_id, "event": event, "created_at": now.isoformat(), "data": data},
                          default=_json_default, separators=(",", ":"), sort_keys=True)
        rows.extend(Delivery(endpoint_id=e.id, event_id=event_id, event=event, payload=body,
                             next_attempt_at=now, created_at=now) for e in endpoints)
    db.session.add_all(rows)
    db.session.flush()
    return len(rows)


def sign(secret: str, timestamp: int, body: str) -> str:
    """The ``Kontor-Signature`` header value: ``t=<timestamp>,v1=<hex HMAC-SHA256 of "<timestamp>.<body>">``."""
    digest = hmac.new(secret.encode(), f"{timestamp}.{body}".encode(), hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def deliveries_query(filters: dict):
    query = select(Delivery)
    if filters.get("state"):
        query = query.where(Delivery.state == filters["state"])
    if filters.get("event"):
        query = query.where(Delivery.event == filters["event"])
    if filters.get("endpoint_id"):
        query = query.where(Delivery.endpoint_id == filters["endpoint_id"])
    return query


def get_delivery(delivery_id: int) -> Delivery:
    delivery = db.session.get(Delivery, delivery_id)
    if delivery is None:
        raise NotFound(f"There is no delivery {delivery_id}.")
    return delivery


def redeliver(delivery: Delivery, now: datetime | None = None) -> Delivery:
    """Send again at the worker's next pass (a delivered one too: receivers dedupe on the payload's id)."""
    if delivery.endpoint.deleted_at is not None:
        raise DomainError("This endpoint was deleted; register it again to receive events.",
                          code="endpoint_deleted")
    delivery.state = "pending"
    delivery.attempts = 0
    delivery.next_attempt_at = now or utcnow()
    delivery.last_error = ""
    db.session.flush()
    return delivery
