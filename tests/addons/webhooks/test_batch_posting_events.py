"""Invoices posted in a batch (Post selected, batch invoicing) raise the same invoice.posted events, one per invoice,
as invoices posted one by one — through webhooks' batch hook, with one endpoint query per chunk."""
from __future__ import annotations

import json

from sqlalchemy import select

from addons.webhooks.models import Delivery
from core.extensions import db


def _events(app) -> list[dict]:
    with app.app_context():
        return [json.loads(p) for p in db.session.scalars(select(Delivery.payload).order_by(Delivery.id))]


def test_batch_posting_queues_one_event_per_invoice_like_single_posting(app, office, receiver):
    office.endpoint(receiver.url, ["invoice.posted"])
    single = office.invoice("80.00").json
    drafts = [office.invoice(f"{10 + i}.00", post=False).json["id"] for i in range(5)]
    r = office.a.post("/invoices/post", json={"ids": drafts})
    assert r.status_code == 200, r.json
    assert sorted(r.json["posted"]) == sorted(drafts)

    events = _events(app)
    assert [e["event"] for e in events] == ["invoice.posted"] * 6
    by_id = {e["data"]["id"]: e["data"] for e in events}
    assert set(by_id) == {single["id"], *drafts}
    # the batch payload has the same fields and values as the one-by-one payload
    assert set(by_id[drafts[0]]) == set(by_id[single["id"]])
    posted = office.a.get(f"/invoices/{drafts[2]}").json
    data = by_id[drafts[2]]
    assert (data["number"], data["amount_total"], data["amount_due"], data["payment_state"]) == \
        (posted["number"], posted["amount_total"], posted["amount_due"], posted["payment_state"])
    assert len({e["id"] for e in events}) == 6  # each event its own id


def test_batch_posting_queues_nothing_without_a_subscribed_endpoint(app, office, receiver):
    office.endpoint(receiver.url, ["payment.registered"])
    drafts = [office.invoice("10.00", post=False).json["id"] for _ in range(3)]
    assert office.a.post("/invoices/post", json={"ids": drafts}).status_code == 200
    assert _events(app) == []
