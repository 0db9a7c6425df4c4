"""The journal-entries list's total for an account is exactly how many entries have a line on that account, whatever
wrote or removed the lines: posting (one invoice, the batch), draft entries created, edited and deleted, credit notes,
payments, refunds, a rolled-back posting. On PostgreSQL the total is the number the lines' triggers keep
(accounting_0005_entries), checked here against a count of the lines; on SQLite it is counted from the lines."""
from __future__ import annotations

import os
import threading
from contextlib import contextmanager
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest
from sqlalchemy import create_engine, func, select, text

from core.extensions import db

PG = os.environ.get("KONTOR_TEST_DATABASE_URL")
ADD_LINE = text("INSERT INTO accounting_lines (entry_id, account_id, label, debit, credit) VALUES (:e, :a, :l, 0, 0)")


@contextmanager
def _two_connections(database_url):
    """Two connections of their own to the test database, each its own transaction."""
    engine = create_engine(database_url)
    first, second = engine.connect(), engine.connect()
    try:
        yield first, second
    finally:
        first.close()
        second.close()
        engine.dispose()


def _real() -> dict[str, int]:
    """Entries per account code, counted from the lines."""
    from addons.accounting.models import Account, JournalLine
    rows = db.session.execute(select(Account.code, func.count(func.distinct(JournalLine.entry_id)))
                              .join(JournalLine, JournalLine.account_id == Account.id).group_by(Account.code))
    return dict(rows.all())


def _listed() -> dict[str, int]:
    """What the list gives as its total for each account (the API's and the page's ``total``)."""
    from addons.accounting.models import Account
    from addons.accounting.queries import entry_count
    codes = db.session.scalars(select(Account.code)).all()
    return {code: n for code in codes if (n := db.session.scalar(entry_count({"account": code})))}


def _kept() -> dict[str, int]:
    """PostgreSQL: the sums of the table the triggers keep, read without the list's code."""
    rows = db.session.execute(text(
        "SELECT a.code, sum(c.entries) FROM accounting_account_entries c "
        "JOIN accounting_accounts a ON a.id = c.account_id GROUP BY a.code HAVING sum(c.entries) <> 0"))
    return {code: int(n) for code, n in rows}


def _check() -> dict[str, int]:
    db.session.expire_all()
    real = _real()
    assert _listed() == real
    if db.engine.dialect.name == "postgresql":
        assert _kept() == real
    return real


def test_documents_and_their_entries_are_counted_once_per_account(books, ctx):
    inv = books.invoice()
    second = books.invoice(lines=[{"product_id": books.labour["id"], "quantity": "1"},
                                  {"product_id": books.labour["id"], "quantity": "2"},
                                  {"product_id": books.service["id"], "quantity": "1"}])
    assert _check()["411000"] == 2
    books.pay(inv, "50.00")                                                   # a payment: bank / receivable
    r = books.office.post(f"/invoices/{second['id']}/credit-notes", json={"mode": "cancel"})
    assert r.status_code == 201, r.json
    payment = books.pay(inv, "500.00", on="2026-03-11")                       # an overpayment ...
    r = books.office.post(f"/partners/{books.partner['id']}/refunds",         # ... refunded
                          json={"amount": "50.00", "date": "2026-03-12", "method": "bank_transfer"})
    assert r.status_code == 201, r.json
    assert payment["id"]
    real = _check()
    assert real["411000"] == 6  # 2 invoices, 2 payments, 1 credit note, 1 refund


def test_draft_entries_created_edited_and_deleted(books, ctx):
    from addons.accounting import services
    from addons.accounting.models import JournalLine
    two_on_bank = [{"account_code": "512000", "debit": "10.00"}, {"account_code": "512000", "debit": "5.00"},
                   {"account_code": "471000", "credit": "15.00"}]
    entry = services.create_entry(date(2026, 3, 1), two_on_bank, journal="BNK")
    other = services.create_entry(date(2026, 3, 1), two_on_bank, journal="BNK")
    db.session.commit()
    assert _check() == {"512000": 2, "471000": 2}

    # One of two lines on the bank moves to the cash account: the entry is on both now.
    bank_line = next(l for l in entry.lines if l.account.code == "512000")
    bank_line.account = services.get_account("530000")
    db.session.commit()
    assert _check() == {"512000": 2, "471000": 2, "530000": 1}
    # The other bank line goes too: the entry leaves the bank account.
    entry.lines.remove(next(l for l in entry.lines if l.account.code == "512000"))
    db.session.commit()
    assert _check() == {"512000": 1, "471000": 2, "530000": 1}
    # A line added on an account the entry is already on, then one on a new account.
    entry.lines.append(JournalLine(account=services.get_account("530000"), label="", debit=Decimal("1.00"),
                                   credit=Decimal(0)))
    db.session.commit()
    assert _check() == {"512000": 1, "471000": 2, "530000": 1}
    entry.lines.append(JournalLine(account=services.get_account("512000"), label="", debit=Decimal("1.00"),
                                   credit=Decimal(0)))
    db.session.commit()
    assert _check() == {"512000": 2, "471000": 2, "530000": 1}
    # Lines moved between entries (raw SQL, as a migration could): the old entry leaves, the new one joins.
    db.session.execute(text("UPDATE accounting_lines SET entry_id = :to WHERE entry_id = :frm AND account_id = "
                            "(SELECT id FROM accounting_accounts WHERE code = '530000')"),
                       {"to": other.id, "frm": entry.id})
    db.session.commit()
    assert _check() == {"512000": 2, "471000": 2, "530000": 1}
    services.delete_draft_entry(db.session.get(type(entry), entry.id))
    db.session.commit()
    assert _check() == {"512000": 1, "471000": 1, "530000": 1}
    # Posting (the lines get their posted date: an UPDATE that keeps account and entry) changes nothing.
    db.session.execute(text("DELETE FROM accounting_lines WHERE entry_id = :e AND account_id = "
                            "(SELECT id FROM accounting_accounts WHERE code = '530000')"), {"e": other.id})
    db.session.commit()
    services.post_entry(db.session.get(type(other), other.id))
    db.session.commit()
    assert _check() == {"512000": 1, "471000": 1}


def test_a_rolled_back_posting_leaves_the_count(books, ctx):
    books.invoice()
    before = _check()
    draft = books.draft()
    from addons.invoicing import services as invoicing
    from addons.invoicing.models import Invoice
    invoicing.post_invoice(db.session.get(Invoice, draft["id"]))
    db.session.flush()
    assert _real()["411000"] == before["411000"] + 1
    db.session.rollback()
    assert _check() == before


def test_batch_invoicing_is_counted(ctx):
    from addons.field_service import billing
    from addons.field_service.models import Part, ServiceOrder, TimeEntry
    from addons.invoicing import services
    from addons.invoicing.models import Tax
    from core.partners import create_partner
    vat = db.session.scalar(select(Tax).where(Tax.rate == 20).limit(1))
    labour = services.save_product(None, code="C-LAB", name="Labour", type="labour", unit_price="65.00",
                                   tax_id=vat.id)
    part = services.save_product(None, code="C-PRT", name="Valve", type="part", unit_price="12.00", tax_id=vat.id)
    partners = [create_partner(name=f"Client {n}") for n in range(3)]
    ids = []
    for i in range(7):
        order = ServiceOrder(number=f"SO-C-{i}", partner_id=partners[i % 3].id, description="Job", state="done",
                             done_at=datetime.now(timezone.utc))
        db.session.add(order)
        db.session.flush()
        db.session.add(TimeEntry(order_id=order.id, product_id=labour.id, date=date(2026, 3, 2),
                                 hours=Decimal("1.5"), description="work", invoiced_qty=Decimal(0)))
        db.session.add(Part(order_id=order.id, product_id=part.id, quantity=Decimal(2), unit_price=Decimal("12.00"),
                            description="", invoiced_qty=Decimal(0)))
        ids.append(order.id)
    db.session.commit()
    result = billing.invoice_orders(ids, post=True, invoice_date=date(2026, 3, 2))
    db.session.commit()
    assert result.posted == 7
    assert _check()["411000"] == 7


@pytest.mark.skipif(not PG, reason="two connections at once on one server: PostgreSQL (CI runs it)")
def test_two_transactions_editing_one_draft_count_it_once(books, ctx, database_url):
    """Both add a line on an account the draft is not on yet; then both remove theirs. Without the entry's lock in
    the trigger each would see no other line: the entry counted twice, then not taken off."""
    from addons.accounting import services
    entry = services.create_entry(date(2026, 3, 1), [{"account_code": "512000", "debit": "1.00"},
                                                     {"account_code": "471000", "credit": "1.00"}])
    db.session.commit()
    account = db.session.scalar(text("SELECT id FROM accounting_accounts WHERE code = '530000'"))
    with _two_connections(database_url) as (first, second):
        first.execute(ADD_LINE, {"e": entry.id, "a": account, "l": "first"})
        done = threading.Event()

        def add_second():
            second.execute(ADD_LINE, {"e": entry.id, "a": account, "l": "second"})  # waits for the first
            second.commit()
            done.set()

        worker = threading.Thread(target=add_second)
        worker.start()
        assert not done.wait(0.5), "the second transaction did not wait for the first"
        first.commit()
        worker.join(10)
        assert done.is_set()
        assert _check()["530000"] == 1

        first.execute(text("DELETE FROM accounting_lines WHERE label = 'first'"))
        done.clear()

        def remove_second():
            second.execute(text("DELETE FROM accounting_lines WHERE label = 'second'"))
            second.commit()
            done.set()

        worker = threading.Thread(target=remove_second)
        worker.start()
        assert not done.wait(0.5)
        first.commit()
        worker.join(10)
        assert done.is_set()
        assert "530000" not in _check()


@pytest.mark.skipif(not PG, reason="two connections at once on one server: PostgreSQL (CI runs it)")
def test_two_postings_on_one_account_never_wait_for_each_other(books, ctx, database_url):
    """The count's row of an account held by one open transaction: a second one posting on the same account goes on
    (its change gets a row of its own) instead of waiting for the first to commit; both are counted."""
    from addons.accounting import services
    drafts = [services.create_entry(date(2026, 3, 1), [{"account_code": "471000", "debit": "1.00"},
                                                       {"account_code": "101000", "credit": "1.00"}])
              for _ in range(2)]
    services.create_entry(date(2026, 3, 1), [{"account_code": "530000", "debit": "1.00"},  # the account's row
                                             {"account_code": "101000", "credit": "1.00"}])
    db.session.commit()
    account = db.session.scalar(text("SELECT id FROM accounting_accounts WHERE code = '530000'"))
    with _two_connections(database_url) as (first, second):
        first.execute(ADD_LINE, {"e": drafts[0].id, "a": account, "l": "x"})
        second.execute(text("SET LOCAL lock_timeout = '2s'"))
        second.execute(ADD_LINE, {"e": drafts[1].id, "a": account, "l": "x"})  # else: waits, then times out
        second.commit()
        first.commit()
    assert _check()["530000"] == 3
