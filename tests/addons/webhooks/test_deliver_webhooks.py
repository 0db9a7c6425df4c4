"""Events go to an outbox in the event's own transaction; ``run.py worker`` delivers them signed, retries with
exponential backoff, gives up after MAX_ATTEMPTS; the log page shows it all and can Redeliver."""
from __future__ import annotations

import hashlib
import hmac
import json
from datetime import date, timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from addons.webhooks import worker
from addons.webhooks.models import Delivery
from core.cli import build_cli
from core.extensions import db
from core.models import utcnow


def _deliveries(app) -> list[Delivery]:
    with app.app_context():
        rows = list(db.session.scalars(select(Delivery).order_by(Delivery.id)))
        db.session.expunge_all()
        return rows


def _run(app, now=None) -> dict:
    with app.app_context():
        return worker.run_once(now=now)


def _check_signature(secret: str, request: dict) -> None:
    header = request["headers"]["Kontor-Signature"]
    parts = dict(p.split("=", 1) for p in header.split(","))
    expected = hmac.new(secret.encode(), f"{parts['t']}.{request['body']}".encode(), hashlib.sha256).hexdigest()
    assert hmac.compare_digest(parts["v1"], expected)


def test_a_posted_invoice_is_delivered_signed_by_the_worker(app, office, receiver):
    endpoint = office.endpoint(receiver.url, ["invoice.posted"])
    inv = office.invoice("120.00").json
    assert receiver.requests == []  # posting never calls out
    [row] = _deliveries(app)
    assert row.state == "pending" and row.attempts == 0 and row.event == "invoice.posted"
    assert _run(app) == {"delivered": 1, "retrying": 0, "failed": 0}
    [request] = receiver.requests
    assert request["path"] == "/hooks" and request["headers"]["Content-Type"] == "application/json"
    assert request["headers"]["Kontor-Event"] == "invoice.posted"
    _check_signature(endpoint["secret"], request)
    body = json.loads(request["body"])
    assert set(body) == {"id", "event", "created_at", "data"} and body["event"] == "invoice.posted"
    assert body["id"].startswith("evt_")
    assert body["data"]["id"] == inv["id"] and body["data"]["number"] == inv["number"]
    assert body["data"]["amount_total"] == "120.00" and body["data"]["partner_id"] == office.partner_id
    [row] = _deliveries(app)
    assert row.state == "delivered" and row.attempts == 1 and row.response_code == 200 and row.last_error == ""
    assert _run(app) == {"delivered": 0, "retrying": 0, "failed": 0}  # nothing sent twice
    assert len(receiver.requests) == 1


def test_a_wrong_secret_does_not_verify(app, office, receiver):
    office.endpoint(receiver.url, ["invoice.posted"])
    office.invoice()
    _run(app)
    with pytest.raises(AssertionError):
        _check_signature("whsec_not-the-secret", receiver.requests[0])


def test_fails_twice_then_succeeds_with_exponential_backoff(app, office, receiver):
    office.endpoint(receiver.url, ["invoice.posted"])
    office.invoice()
    receiver.statuses = [500, 503]
    t0 = utcnow()
    assert _run(app, t0) == {"delivered": 0, "retrying": 1, "failed": 0}
    [row] = _deliveries(app)
    assert row.attempts == 1 and row.response_code == 500 and row.last_error == "HTTP 500"
    assert abs((row.next_attempt_at.replace(tzinfo=t0.tzinfo) - t0) - worker.backoff(1)) < timedelta(seconds=1)
    # not due yet: nothing happens
    assert _run(app, t0 + timedelta(seconds=10)) == {"delivered": 0, "retrying": 0, "failed": 0}
    t1 = t0 + worker.backoff(1) + timedelta(seconds=1)
    assert _run(app, t1) == {"delivered": 0, "retrying": 1, "failed": 0}
    [row] = _deliveries(app)
    assert row.attempts == 2 and row.response_code == 503
    assert abs((row.next_attempt_at.replace(tzinfo=t0.tzinfo) - t1) - worker.backoff(2)) < timedelta(seconds=1)
    assert worker.backoff(2) == 2 * worker.backoff(1)
    assert _run(app, t1 + worker.backoff(1) + timedelta(seconds=1)) == {"delivered": 0, "retrying": 0, "failed": 0}
    assert _run(app, t1 + worker.backoff(2) + timedelta(seconds=1))["delivered"] == 1
    [row] = _deliveries(app)
    assert row.state == "delivered" and row.attempts == 3 and row.response_code == 200 and row.last_error == ""
    assert len(receiver.requests) == 3
    assert len({json.loads(r["body"])["id"] for r in receiver.requests}) == 1  # the same event each time


def test_gives_up_after_max_attempts_then_redeliver_from_the_log_page(app, office, receiver, login):
    office.endpoint(receiver.url, ["invoice.posted"])
    office.invoice()
    receiver.statuses = [500] * worker.MAX_ATTEMPTS
    now = utcnow()
    for attempt in range(1, worker.MAX_ATTEMPTS + 1):
        counts = _run(app, now)
        now += worker.backoff(attempt) + timedelta(seconds=1)
    assert counts == {"delivered": 0, "retrying": 0, "failed": 1}
    [row] = _deliveries(app)
    assert row.state == "failed" and row.attempts == worker.MAX_ATTEMPTS and "gave up" in row.last_error
    assert _run(app, now + timedelta(days=30)) == {"delivered": 0, "retrying": 0, "failed": 0}

    admin = login("admin")
    page = admin.get("/webhooks/deliveries?state=failed").get_data(as_text=True)
    assert "invoice.posted" in page and "Failed" in page and "HTTP 500" in page and "Redeliver" in page
    assert "No deliveries" in admin.get("/webhooks/deliveries?state=delivered").get_data(as_text=True)
    r = admin.post(f"/webhooks/deliveries/{row.id}/redeliver", follow_redirects=True)
    assert r.status_code == 200 and "queued again" in r.get_data(as_text=True)
    assert _run(app)["delivered"] == 1
    [row] = _deliveries(app)
    assert row.state == "delivered" and row.attempts == 1
    assert admin.post("/webhooks/deliveries/999999/redeliver").status_code == 404
    assert login("back_office").post(f"/webhooks/deliveries/{row.id}/redeliver").status_code == 403


def test_an_unreachable_endpoint_is_retried_with_the_error(app, office):
    import socket
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()  # nothing listens there now
    app.config["WEBHOOK_ALLOW"] = "127.0.0.1"
    office.endpoint(f"http://127.0.0.1:{port}/x", ["invoice.posted"])
    office.invoice()
    assert _run(app)["retrying"] == 1
    [row] = _deliveries(app)
    assert row.state == "pending" and row.response_code is None and "Connection" in row.last_error


def test_a_rolled_back_posting_leaves_no_outbox_row(app, office, receiver):
    office.endpoint(receiver.url, ["invoice.posted"])
    draft = office.invoice(post=False).json
    from addons.invoicing import services
    with app.app_context():
        services.post_invoice(services.get_invoice(draft["id"]))
        assert db.session.scalar(select(func.count()).select_from(Delivery)) == 1  # written with the posting
        db.session.rollback()
        assert db.session.scalar(select(func.count()).select_from(Delivery)) == 0
    # and through the API: a locked period refuses the posting, and nothing is queued
    before = (date.today() - timedelta(days=10)).isoformat()
    assert office.a.patch(f"/invoices/{draft['id']}", json={"invoice_date": before}).status_code == 200
    r = office.admin.put("/settings/lock-date", json={"lock_date": (date.today() - timedelta(days=1)).isoformat()})
    assert r.status_code == 200, r.json
    r = office.a.post(f"/invoices/{draft['id']}/post")
    assert r.status_code == 409 and r.json["error"]["code"] == "period_locked"
    assert _deliveries(app) == []
    assert _run(app) == {"delivered": 0, "retrying": 0, "failed": 0} and receiver.requests == []


def test_each_endpoint_gets_only_its_events(app, office, receiver, api):
    from tests.addons.field_service.conftest import Shop as FieldShop
    office.endpoint(receiver.url, ["payment.registered", "refund.made", "service_order.done", "invoice.paid",
                                   "credit_note.posted"])
    inv = office.invoice("100.00").json
    r = office.a.post(f"/invoices/{inv['id']}/payments", json={"amount": "130.00", "date": date.today().isoformat(),
                                                                "method": "bank_transfer", "reference": "VIR 9"})
    assert r.status_code == 201, r.json
    r = office.a.post("/payments", json={"partner_id": office.partner_id, "direction": "outbound", "amount": "30.00",
                                         "date": date.today().isoformat(), "method": "bank_transfer",
                                         "reference": "back"})
    assert r.status_code == 201, r.json
    technician = api("technician")
    FieldShop(office.a).order(technician.user_id, state="done")
    _run(app)
    events = [p["event"] for p in receiver.payloads()]
    assert sorted(events) == ["invoice.paid", "payment.registered", "refund.made", "service_order.done"]
    by_event = {p["event"]: p["data"] for p in receiver.payloads()}
    assert by_event["payment.registered"]["amount"] == "130.00" and by_event["refund.made"]["amount"] == "30.00"
    assert by_event["invoice.paid"]["id"] == inv["id"] and by_event["invoice.paid"]["amount_due"] == "0.00"
    assert by_event["service_order.done"]["state"] == "done"


def test_deliveries_api_and_redeliver(app, office, receiver):
    office.endpoint(receiver.url, ["invoice.posted"])
    office.invoice()
    listed = office.admin.get("/webhooks/deliveries?state=pending").json
    assert listed["total"] == 1 and listed["items"][0]["event"] == "invoice.posted"
    _run(app)
    delivery_id = listed["items"][0]["id"]
    assert office.admin.get("/webhooks/deliveries?state=delivered").json["items"][0]["attempts"] == 1
    r = office.admin.post(f"/webhooks/deliveries/{delivery_id}/redeliver")
    assert r.status_code == 200 and r.json["state"] == "pending"
    _run(app)
    assert len(receiver.requests) == 2
    assert office.admin.get("/webhooks/deliveries?state=bogus").status_code == 422
    assert office.admin.post("/webhooks/deliveries/999999/redeliver").status_code == 404


def test_worker_command_once(app, office, receiver):
    office.endpoint(receiver.url, ["invoice.posted"])
    office.invoice()
    office.invoice()
    result = CliRunner().invoke(build_cli(app), ["worker", "--once"], prog_name="run.py")
    assert result.exit_code == 0, result.output
    assert "delivered 2, retrying 0, failed 0" in result.output
    assert len(receiver.requests) == 2
