"""The hooks payments emits, in the order addons/payments/hookspecs.py gives, inside the payment's transaction."""
from __future__ import annotations

from datetime import date

import pytest

from core.hookspecs import hookimpl


class Recorder:
    def __init__(self, fail_on: str | None = None):
        self.calls: list[tuple] = []
        self.fail_on = fail_on

    def _seen(self, name, *details):
        self.calls.append((name, *details))
        if name == self.fail_on:
            from core.errors import PeriodLocked
            raise PeriodLocked("The period is locked.")

    @hookimpl
    def payments_payment_registered(self, payment):
        assert payment.id is not None and payment.amount > 0 and payment.method.journal_code in ("BNK", "CSH")
        self._seen("payment_registered", payment.id, str(payment.amount), payment.method_code)

    @hookimpl
    def payments_refund_made(self, payment):
        self._seen("refund_made", payment.id, str(payment.amount), payment.direction)

    @hookimpl
    def invoicing_invoice_settled(self, invoice, settlement):
        self._seen("invoice_settled", settlement.source_type, settlement.source_id, str(settlement.amount))

    @hookimpl
    def invoicing_credit_created(self, credit):
        self._seen("credit_created", credit.source_type, credit.source_id, str(credit.amount))

    @hookimpl
    def invoicing_credit_refunded(self, credit, amount, refund_type, refund_id):
        self._seen("credit_refunded", refund_type, refund_id, str(amount))


@pytest.fixture
def recorder(app):
    holder = {}

    def _make(fail_on=None):
        rec = Recorder(fail_on)
        app.extensions["kontor"].pm.register(rec)
        holder["rec"] = rec
        return rec
    yield _make
    if "rec" in holder:
        app.extensions["kontor"].pm.unregister(holder["rec"])


def test_payment_hook_comes_before_the_settlements(books, recorder):
    a = books.invoice("30.00")
    b = books.invoice("50.00")
    rec = recorder()
    r = books.a.post("/payments", json={"partner_id": books.partner_id, "amount": "100", "method": "cash",
                                        "date": date.today().isoformat()})
    assert r.status_code == 201
    pid = r.json["id"]
    assert rec.calls == [("payment_registered", pid, "100.00", "cash"),
                         ("invoice_settled", "payment", pid, "30.00"),
                         ("invoice_settled", "payment", pid, "50.00"),
                         ("credit_created", "payment", pid, "20.00")]
    assert {x["invoice_id"] for x in r.json["allocations"]} == {a["id"], b["id"]}


def test_refund_hook_comes_before_the_credit_is_used(books, recorder):
    inv = books.invoice("10.00")
    books.a.post(f"/invoices/{inv['id']}/payments", json={"amount": "25", "method": "card"})
    rec = recorder()
    r = books.a.post(f"/partners/{books.partner_id}/refunds", json={"amount": "15", "method": "bank_transfer"})
    assert r.status_code == 201
    pid = r.json["id"]
    assert rec.calls == [("refund_made", pid, "15.00", "outbound"), ("credit_refunded", "payment", pid, "15.00")]


def test_journal_entry_id_set_by_a_listener_is_kept(books, app):
    class SetsEntry:
        @hookimpl(trylast=True)
        def payments_payment_registered(self, payment):
            payment.journal_entry_id = 4242

        @hookimpl(trylast=True)
        def payments_refund_made(self, payment):
            payment.journal_entry_id = 4343

    plugin = SetsEntry()
    app.extensions["kontor"].pm.register(plugin)  # trylast: runs after any real listener (accounting)
    try:
        inv = books.invoice("10.00")
        r = books.a.post(f"/invoices/{inv['id']}/payments", json={"amount": "25", "method": "card"})
        assert r.json["journal_entry_id"] == 4242
        assert books.a.get(f"/payments/{r.json['id']}").json["journal_entry_id"] == 4242
        r = books.a.post(f"/partners/{books.partner_id}/refunds", json={"amount": "15", "method": "cash"})
        assert r.json["journal_entry_id"] == 4343
    finally:
        app.extensions["kontor"].pm.unregister(plugin)


def test_refused_refund_emits_nothing(books, recorder):
    rec = recorder()
    r = books.a.post(f"/partners/{books.partner_id}/refunds", json={"amount": "1", "method": "cash"})
    assert r.status_code == 422 and rec.calls == []


def test_a_listener_refusing_aborts_the_whole_payment(books, recorder):
    inv = books.invoice("40.00")
    recorder(fail_on="invoice_settled")
    r = books.a.post(f"/invoices/{inv['id']}/payments", json={"amount": "50", "method": "cash"})
    assert r.status_code == 409 and r.json["error"]["code"] == "period_locked"
    assert books.a.get("/payments").json["total"] == 0
    assert books.get_invoice(inv["id"])["amount_due"] == "40.00" and books.credit() == "0.00"
