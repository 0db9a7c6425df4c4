"""The delivery worker: claims due outbox rows one at a time, POSTs each (egress.post: checked addresses only, one
deadline for the whole delivery), marks it delivered or schedules a retry with exponential backoff, and gives up
after MAX_ATTEMPTS. ``now`` is a parameter so tests move time."""
from __future__ import annotations

import http.client
import time
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select, update

from core.extensions import db
from core.models import utcnow

from . import egress
from .models import Delivery
from .services import sign

MAX_ATTEMPTS = 8
BASE_DELAY = timedelta(seconds=30)   # 30 s, 1 min, 2 min, 4 min ... (about 1 h in all before giving up)
# A claimed row is not claimed again for the delivery's whole deadline (KONTOR_WEBHOOK_TIMEOUT, 10 s by default)
# plus this margin; if its worker dies, another one takes the row when that lease ends, not minutes later.
LEASE_MARGIN = timedelta(seconds=20)


def lease(conf: egress.Settings) -> timedelta:
    return timedelta(seconds=conf.timeout) + LEASE_MARGIN


def backoff(attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failed attempt."""
    return BASE_DELAY * (2 ** (attempts - 1))


def claim(now: datetime, limit: int = 1) -> list[int]:
    """Take up to ``limit`` due rows (committed at once, so other workers skip them while we send). Each lease
    covers one delivery, so ``run_once`` claims one row at a time; the UPDATE only takes a row still due, so two
    workers that read the same row (SQLite has no SKIP LOCKED) never both take it."""
    until = now + lease(egress.settings(current_app.config))
    query = (select(Delivery.id).where(Delivery.state == "pending", Delivery.next_attempt_at <= now)
             .order_by(Delivery.next_attempt_at, Delivery.id).limit(limit))
    if db.engine.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    taken = []
    for delivery_id in list(db.session.scalars(query)):
        result = db.session.execute(
            update(Delivery).where(Delivery.id == delivery_id, Delivery.state == "pending",
                                   Delivery.next_attempt_at <= now)
            .values(next_attempt_at=until).execution_options(synchronize_session=False))
        if result.rowcount == 1:
            taken.append(delivery_id)
    db.session.commit()
    return taken


def post(url: str, body: str, headers: dict, conf: egress.Settings | None = None) -> int:
    """POST ``body``; the response status (redirects are not followed: they count as failures)."""
    return egress.post(url, body.encode(), headers, conf or egress.settings(current_app.config))


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
    except egress.Refused as exc:
        delivery.response_code = None
        error = f"Refused: {exc}"[:500]
    except (OSError, http.client.HTTPException, ValueError) as exc:
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
    """Process up to ``limit`` rows due at ``now``; returns counts {delivered, retrying, failed}. The clock moves
    on from ``now`` as real time passes, so the last row's lease and retry time are counted from when it is
    sent, not from when the pass began."""
    start, began = now or utcnow(), time.monotonic()

    def clock() -> datetime:
        return start + timedelta(seconds=time.monotonic() - began)

    counts = {"delivered": 0, "retrying": 0, "failed": 0}
    for _ in range(limit):
        claimed = claim(clock())
        if not claimed:
            break
        delivery = db.session.get(Delivery, claimed[0])
        if delivery is None or delivery.state != "pending":
            continue
        deliver(delivery, clock())
        counts["delivered" if delivery.state == "delivered" else
               "failed" if delivery.state == "failed" else "retrying"] += 1
        db.session.commit()
    return counts
