"""A document's entry (written with Core statements, services.write_posted_entry) keeps post_entry's contract:
accounting_entry_posted gets the posted ORM entry inside the posting, a refusal there undoes the document's
posting, the entry has its audit rows and its place in a chain that verifies."""
from __future__ import annotations

import pytest

from core.hookspecs import hookimpl


class Listener:
    def __init__(self, refuse: bool = False):
        self.seen: list[dict] = []
        self.refuse = refuse

    @hookimpl
    def accounting_entry_posted(self, entry):
        self.seen.append({"state": entry.state, "number": entry.number, "hash": entry.hash,
                          "chain_index": entry.chain_index, "origin": (entry.origin_type, entry.origin_id),
                          "lines": [(l.account.code, str(l.debit), str(l.credit), l.posted_date, l.due_date)
                                    for l in entry.lines]})
        if self.refuse:
            from core.errors import PeriodLocked
            raise PeriodLocked("Refused by a listener.")


@pytest.fixture
def listen(app):
    registered = []

    def _listen(refuse=False):
        listener = Listener(refuse)
        app.extensions["kontor"].pm.register(listener)
        registered.append(listener)
        return listener
    yield _listen
    for listener in registered:
        app.extensions["kontor"].pm.unregister(listener)


def test_the_listener_gets_the_posted_entry_of_an_invoice_and_of_a_payment(books, listen, app):
    listener = listen()
    inv = books.invoice()
    assert len(listener.seen) == 1
    seen = listener.seen[0]
    assert seen["state"] == "posted" and seen["number"] == "INV/2026/00001" and seen["hash"]
    assert seen["origin"] == ("invoice", inv["id"])
    assert [code for code, *_ in seen["lines"]] == ["411000", "706100", "445710"]
    assert all(posted.isoformat() == "2026-03-02" and due.isoformat() == inv["due_date"]
               for *_, posted, due in seen["lines"])
    payment = books.pay(inv, "50.00")
    assert len(listener.seen) == 2 and listener.seen[1]["origin"] == ("payment", payment["id"])
    assert listener.seen[1]["chain_index"] == seen["chain_index"] + 1
    with app.app_context():
        from addons.accounting import chain
        from core.audit import history
        from addons.accounting.models import JournalEntry
        from core.extensions import db
        assert chain.verify()["ok"]
        entry = db.session.get(JournalEntry, inv["journal_entry_id"])
        assert [(a.action, a.details) for a in history(entry)] == [("created", ""), ("posted", "INV/2026/00001")]


def test_a_refusing_listener_leaves_the_invoice_a_draft_and_its_number_unused(books, listen):
    draft = books.draft()
    listen(refuse=True)
    r = books.office.post(f"/invoices/{draft['id']}/post")
    assert r.status_code in (409, 422), r.json
    again = books.office.get(f"/invoices/{draft['id']}").json
    assert again["state"] == "draft" and again["number"] is None and again["journal_entry_id"] is None
    assert books.books.get("/journal-entries").json["items"] == []
