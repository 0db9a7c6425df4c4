"""The delivery worker: claims due outbox rows, POSTs them (short timeout), marks them delivered or schedules a
retry with exponential backoff, and gives up after MAX_ATTEMPTS. ``now`` is a parameter so tests move time."""
from __future__ import annotations

import http.client
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from sqlalchemy import select

from core.extensions import db
from core.models import utcnow

from .models import Delivery
from .services import sign

MAX_ATTEMPTS = 8
BASE_DELAY = timedelta(seconds=30)   # 30 s, 1 min, 2 min, 4 min ... (about 1 h in all before giving up)
LEASE = timedelta(minutes=5)         # a claimed row is not claimed again by another worker for this long
TIMEOUT = 5.0                        # seconds per request


def backoff(attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failed attempt."""
    return BASE_DELAY * (2 ** (attempts - 1))


def claim(now: datetime, limit: int) -> list[int]:
    """Take up to ``limit`` due rows (committed at once, so other workers skip them while we send)."""
    query = (select(Delivery.id).where(Delivery.state == "pending", Delivery.next_attempt_at <= now)
             .order_by(Delivery.next_attempt_at, Delivery.id).limit(limit))
    if db.engine.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    ids = list(db.session.scalars(query))
    if ids:
        for delivery in db.session.scalars(select(Delivery).where(Delivery.id.in_(ids))):
            delivery.next_attempt_at = now + LEASE
    db.session.commit()
    return ids


def post(url: str, body: str, headers: dict, timeout: float = TIMEOUT) -> int:
    """POST ``body``; the response status (redirects are not followed: they count as failures)."""
    parts = urlsplit(url)
    connection_class = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    connection = connection_class(parts.hostname, parts.port, timeout=timeout)
    try:
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        connection.request("POST", path, body=body.encode(), headers=headers)
        response = connection.getresponse()
        response.read(4096)
        return response.status
    finally:
        connection.close()


def deliver(delivery: Delivery, now: datetime) -> None:
    """One attempt; updates the row (the caller commits)."""
    timestamp = int(now.timestamp())
    headers = {"Content-Type": "application/json", "User-Agent": "Kontor-Webhooks/1",
               "Kontor-Event": delivery.event, "Kontor-Delivery": str(delivery.id),
               "Kontor-Signature": sign(delivery.endpoint.secret, timestamp, delivery.payload)}
    delivery.attempts += 1
    delivery.last_attempt_at = now
    try:
        status = post(delivery.endpoint.url, delivery.payload, headers)
        delivery.response_code = status
        error = "" if 200 <= status < 300 else f"HTTP {status}"
    except (OSError, http.client.HTTPException) as exc:
        delivery.response_code = None
        error = f"{exc.__class__.__name__}: {exc}"[:500]
    if not error:
        delivery.state, delivery.delivered_at, delivery.last_error = "delivered", now, ""
    elif delivery.attempts >= MAX_ATTEMPTS:
        delivery.state, delivery.last_error = "failed", f"{error} (gave up after {delivery.attempts} attempts)"
    else:
        delivery.last_error = error
        delivery.next_attempt_at = now + backoff(delivery.attempts)


def run_once(now: datetime | None = None, limit: int = 100) -> dict:
    """Process what is due at ``now``; returns counts {delivered, retrying, failed}."""
    now = now or utcnow()
    counts = {"delivered": 0, "retrying": 0, "failed": 0}
    for delivery_id in claim(now, limit):
        delivery = db.session.get(Delivery, delivery_id)
        if delivery is None or delivery.state != "pending":
            continue
        deliver(delivery, now)
        counts["delivered" if delivery.state == "delivered" else
               "failed" if delivery.state == "failed" else "retrying"] += 1
        db.session.commit()
    return counts
