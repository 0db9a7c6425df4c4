"""Every document keeps its history: who created, changed, posted, credited, sent it, and when."""
from __future__ import annotations

from sqlalchemy import select

from core.extensions import db
from core.models import AuditLog


def _history(app, invoice_id):
    with app.app_context():
        return [(h.action, h.details, h.user_id) for h in db.session.scalars(
            select(AuditLog).where(AuditLog.document_type == "invoice", AuditLog.document_id == invoice_id)
            .order_by(AuditLog.id))]


def test_each_action_is_recorded_with_its_user(setup, app, api, login):
    a = setup.api
    inv = setup.draft()
    a.patch(f"/invoices/{inv['id']}", json={"notes": "Door code 1234", "payment_terms_days": 10})
    a.post(f"/invoices/{inv['id']}/post")
    keeper = api("bookkeeper")
    note = keeper.post(f"/invoices/{inv['id']}/credit-notes", json={"reason": "Wrong rate"}).json
    a.post(f"/invoices/{note['id']}/post")
    history = _history(app, inv["id"])
    actions = [h[0] for h in history]
    assert actions == ["created", "changed", "posted", "credited", "credit_note_posted"]
    assert history[4][1] == "CN/2026/00001"
    assert history[1][1] == "payment terms, notes"
    assert history[2][1] == "INV/2026/00001"
    assert history[3][1] == f"credit note #{note['id']}: Wrong rate" and history[3][2] == keeper.user_id
    assert all(h[2] == a.user_id for h in history[:3])
    note_history = [h[0] for h in _history(app, note["id"])]
    assert note_history == ["created", "credit_note_of", "posted"]
    page = login("back_office").get(f"/invoices/{inv['id']}").get_data(as_text=True)
    assert "History" in page and "posted</strong>" in page and "credited</strong>" in page


def test_redraft_external_and_delete_are_recorded(setup, app):
    a = setup.api
    inv = setup.posted()
    note = a.post(f"/invoices/{inv['id']}/credit-notes", json={"mode": "modify"}).json
    draft_id = note["new_draft_id"]
    assert [h[0] for h in _history(app, draft_id)] == ["created", "redraft_of"]
    a.post(f"/invoices/{draft_id}/invoice-externally")
    assert _history(app, draft_id)[-1][0] == "invoiced_externally"
    other = setup.draft(invoice_date="2026-03-02")
    a.delete(f"/invoices/{other['id']}")
    assert _history(app, other["id"])[-1][:2] == ("deleted", "")
